"""Data-parallel training with an lrkit schedule under ``jax.shard_map`` on 2 host CPU devices.

The tox ``jax`` env sets ``XLA_FLAGS=--xla_force_host_platform_device_count=2``; this module adds
the flag itself when it is missing (it only takes effect before JAX first initialises its CPU
backend). Both devices must apply the same learning rate, the schedule's value at the shared
count, and the sharded run must equal the single-device run on the whole batch.
"""

from __future__ import annotations

import os

_FLAG = "--xla_force_host_platform_device_count=2"
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _FLAG).strip()

import numpy as np  # noqa: E402
from helpers import need  # noqa: E402
from reference import evaluate_config  # noqa: E402

jax = need("jax")
optax = need("optax")

import jax.numpy as jnp  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import lrkit as lk  # noqa: E402

STEPS = 40
SCHEDULE = lk.warmup(lk.cosine_restarts(0.1, 0.005, 9), 6)


def _data():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -1.0, 2.0, 0.5], np.float32) - 0.2).astype(np.float32)
    return jnp.asarray(x), jnp.asarray(y)


def _loss(params, x, y):  # type: ignore[no-untyped-def]
    return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)


def _init(opt):  # type: ignore[no-untyped-def]
    params = {"w": jnp.zeros(4, jnp.float32), "b": jnp.zeros((), jnp.float32)}
    return params, opt.init(params)


def test_two_devices_are_available() -> None:
    assert jax.device_count() == 2, (
        f"expected 2 host CPU devices (XLA_FLAGS={os.environ.get('XLA_FLAGS')!r}); JAX initialised "
        f"its backend before this module could set {_FLAG}"
    )


def test_shard_map_data_parallel_step_applies_the_same_lr_on_both_devices() -> None:
    assert jax.device_count() == 2
    mesh = jax.make_mesh((2,), ("data",))
    sched = SCHEDULE.to_optax()
    opt = optax.adamw(learning_rate=sched, weight_decay=1e-3)
    x, y = _data()

    def local_step(params, state, x, y):  # type: ignore[no-untyped-def]
        grads = jax.grad(_loss)(params, x, y)
        grads = jax.lax.pmean(grads, "data")  # equal shards: the mean of means is the full mean
        lr = sched(state[-1].count)  # the schedule step of this update (ScaleByScheduleState)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, lr[None]

    step = jax.jit(
        jax.shard_map(
            local_step,
            mesh=mesh,
            in_specs=(P(), P(), P("data"), P("data")),
            out_specs=(P(), P(), P("data")),
        )
    )

    @jax.jit
    def single_step(params, state):  # type: ignore[no-untyped-def]
        grads = jax.grad(_loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    shard, replicate = jax.NamedSharding(mesh, P("data")), jax.NamedSharding(mesh, P())
    xs, ys = jax.device_put(x, shard), jax.device_put(y, shard)
    assert {s.data.shape for s in xs.addressable_shards} == {(32, 4)}  # half the batch per device
    params, state = jax.device_put(_init(opt), replicate)
    p_single, s_single = _init(opt)
    lrs, compiled = [], []
    for _ in range(STEPS):
        params, state, lr = step(params, state, xs, ys)
        p_single, s_single = single_step(p_single, s_single)
        lrs.append(np.asarray(lr))
        compiled.append(step._cache_size())
    lrs = np.stack(lrs)  # (steps, devices)

    assert lrs.shape == (STEPS, 2)
    np.testing.assert_array_equal(lrs[:, 0], lrs[:, 1])
    expected = [evaluate_config(SCHEDULE.to_config(), k) for k in range(STEPS)]
    np.testing.assert_allclose(lrs[:, 0], expected, rtol=5e-6, atol=1.5e-7)
    assert int(state[-1].count) == STEPS
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(p_single)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    # No recompilation as the count changes. (The first call may compile twice: device_put gives
    # 1-D leaves the spec P() and shard_map returns them as P(None,), a distinct cache key.)
    assert compiled[-1] == compiled[1] <= 2, compiled

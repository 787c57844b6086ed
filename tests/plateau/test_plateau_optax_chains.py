"""optax plateau in the chains optax users write: appended after a complete optimizer
(``scale_by_plateau``), inside ``optax.MultiSteps``, against ``optax.contrib.reduce_on_plateau``, and
saved/restored mid-plateau with pickle, flax.serialization and orbax (the resumed run applies the
same learning rate at every step as the uninterrupted one)."""

from __future__ import annotations

import json
import math
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import helpers
import numpy as np
import plateau_reference as ref
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit as lk

jax = helpers.need("jax")
optax = helpers.need("optax")
import jax.numpy as jnp  # noqa: E402

from lrkit.backends import optax as lko  # noqa: E402
from lrkit.backends.optax import PlateauState, reduce_on_plateau, scale_by_plateau  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# Dyadic settings, learning rates and metrics: exact in float32, so JAX and float64 decisions agree.
SETTINGS = st.fixed_dictionaries({
    "mode": st.sampled_from(["min", "max"]),
    "factor": st.sampled_from([0.5, 0.25]),
    "patience": st.integers(0, 3),
    "threshold": st.sampled_from([0.0, 0.25]),
    "threshold_mode": st.sampled_from(["rel", "abs"]),
    "cooldown": st.integers(0, 2),
    "min_lr": st.sampled_from([0.0, 0.0625]),
})
METRICS = st.lists(st.integers(0, 12).map(lambda k: k / 4), min_size=1, max_size=25)


def _applied_lrs(tx, metrics):
    """The learning rate each update applied: SGD-style chains on a gradient of ones give -lr."""
    params = jnp.zeros(2)
    state = tx.init(params)
    step = jax.jit(lambda s, v: tx.update(jnp.ones(2), s, params, value=v))
    lrs = []
    for m in metrics:
        u, state = step(state, m)
        lrs.append(-float(u[0]))
    return lrs, state


# -- appended after a complete optimizer -------------------------------------------------------

@settings(max_examples=6)
@given(kw=SETTINGS, metrics=METRICS)
def test_appended_after_sgd_applies_torch_lrs(kw, metrics):
    lr0 = 0.5
    tx = optax.chain(optax.sgd(lr0), scale_by_plateau(lk.ReduceOnPlateau(**kw), learning_rate=lr0))
    lrs, state = _applied_lrs(tx, metrics)
    want = ref.torch_lrs(metrics, lr0, **kw)
    np.testing.assert_allclose(lrs, want, rtol=1e-6, atol=0)
    assert float(state[1].learning_rate) == pytest.approx(want[-1], rel=1e-6)
    if helpers.requested("torch"):  # pragma: no cover - torch is not in the jax env
        import torch

        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr0)
        native = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        nat = []
        for m in metrics:
            native.step(m)
            nat.append(opt.param_groups[0]["lr"])
        np.testing.assert_allclose(lrs, nat, rtol=1e-6)


def test_appended_after_adamw_with_a_moving_schedule():
    """adamw(lko.schedule(s)) + scale_by_plateau(p, learning_rate=s): the updates are adamw's with
    the reduced learning rate (checked against adamw driven by the reduced curve, computed apart)."""
    s = lk.warmup(lk.cosine(1.0, 0.0, 30), 5)
    p = lk.ReduceOnPlateau(patience=1, factor=0.5, min_lr=0.05)
    metrics = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25] * 3

    def sched(t):  # written separately from lrkit
        if t < 5:
            return t / 5
        return (1 + math.cos(math.pi * min(t - 5, 30) / 30)) / 2

    values = [sched(t) for t in range(len(metrics))]
    scales = ref.torch_scales(metrics, values, patience=1, factor=0.5, min_lr=0.05)
    want_lr = np.array([min(v, max(v * sc, 0.05)) for v, sc in zip(values, scales)])
    assert min(scales) < 1.0 and any(w == 0.05 for w in want_lr)

    grads = [jnp.array([1.0, -2.0]) * (k + 1) for k in range(len(metrics))]
    tx = optax.chain(optax.adamw(lko.schedule(s), weight_decay=0.1), scale_by_plateau(p, learning_rate=s))
    native = optax.adamw(lambda count: jnp.asarray(want_lr, jnp.float32)[count], weight_decay=0.1)
    params = jnp.array([0.3, -0.7])
    a, b = tx.init(params), native.init(params)
    step = jax.jit(lambda st, g, v: tx.update(g, st, params, value=v))
    for g, m in zip(grads, metrics):
        ua, a = step(a, g, m)
        ub, b = native.update(g, b, params)
        np.testing.assert_allclose(np.asarray(ua), np.asarray(ub), rtol=2e-6, atol=1e-7)
    assert int(a[1].num_reductions) == int(sum(np.diff([1.0, *scales]) < 0))


def test_learning_rate_as_an_optax_schedule_and_as_lko_schedule():
    """Any count -> lr function works as `learning_rate`: a native optax schedule, or lko.schedule."""
    native = optax.linear_schedule(1.0, 0.25, 16)
    p = lk.ReduceOnPlateau(patience=0, factor=0.5, min_lr=0.125)
    metrics = [1.0] * 12
    values = [1.0 + (0.25 - 1.0) * min(t, 16) / 16 for t in range(12)]
    scales = ref.torch_scales(metrics, values, patience=0, factor=0.5, min_lr=0.125)
    want = [min(v, max(v * sc, 0.125)) for v, sc in zip(values, scales)]
    for lr in (native, lko.schedule(lk.linear(1.0, 0.25, 16))):
        lrs, _ = _applied_lrs(optax.chain(optax.sgd(lr), scale_by_plateau(p, learning_rate=lr)), metrics)
        np.testing.assert_allclose(lrs, want, rtol=2e-6)


def test_same_updates_as_the_terminal_form():
    s = lk.exponential(0.5, 0.5, 4)
    p = lk.ReduceOnPlateau(patience=0, factor=0.5, cooldown=1, min_lr=0.01)
    metrics = [3.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    appended = optax.chain(optax.scale_by_adam(), optax.scale_by_learning_rate(lko.schedule(s)),
                           scale_by_plateau(p, learning_rate=s))
    terminal = optax.chain(optax.scale_by_adam(), reduce_on_plateau(s, p))
    params = jnp.zeros(2)
    a, b = appended.init(params), terminal.init(params)
    step_a = jax.jit(lambda st, g, v: appended.update(g, st, params, value=v))
    step_b = jax.jit(lambda st, g, v: terminal.update(g, st, params, value=v))
    for k, m in enumerate(metrics):
        g = jnp.array([1.0, 0.5]) * (k % 3 + 1)
        ua, a = step_a(a, g, m)
        ub, b = step_b(b, g, m)
        np.testing.assert_allclose(np.asarray(ua), np.asarray(ub), rtol=2e-7)
    assert int(a[2].num_reductions) == int(b[1].num_reductions) >= 2


# optax.contrib's rule is torch's with `patience` counted one higher and no `eps` (so patience >= 1);
# its `min_scale` is lrkit's `min_lr` against a base learning rate of 1.
@settings(max_examples=6)
@given(
    factor=st.sampled_from([0.5, 0.25]),
    patience=st.integers(1, 3),
    rtol=st.sampled_from([1e-4, 0.25]),
    cooldown=st.integers(0, 2),
    accumulation_size=st.integers(1, 2),
    min_scale=st.sampled_from([0.0, 0.125]),
    metrics=METRICS,
)
def test_same_updates_as_optax_contrib(factor, patience, rtol, cooldown, accumulation_size, min_scale, metrics):
    native = optax.chain(optax.sgd(0.5), optax.contrib.reduce_on_plateau(
        factor=factor, patience=patience, rtol=rtol, atol=0.0, cooldown=cooldown,
        accumulation_size=accumulation_size, min_scale=min_scale))
    p = lk.ReduceOnPlateau(factor=factor, patience=patience - 1, threshold=rtol, cooldown=cooldown,
                           min_lr=min_scale, eps=0.0)
    ours = optax.chain(optax.sgd(0.5), scale_by_plateau(p, learning_rate=1.0, accumulation_size=accumulation_size))
    got, _ = _applied_lrs(ours, metrics)
    want, _ = _applied_lrs(native, metrics)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)


def test_optax_contrib_with_patience_0_reduces_on_improvement():
    """The documented reason the parity above needs patience >= 1: optax.contrib compares the
    plateau count with `patience` by equality, so with 0 it reduces at every evaluation."""
    native = optax.chain(optax.sgd(1.0), optax.contrib.reduce_on_plateau(factor=0.5, patience=0))
    lrs, _ = _applied_lrs(native, [3.0, 2.0, 1.0])  # always improving
    assert lrs == [0.5, 0.25, 0.125]
    ours, _ = _applied_lrs(optax.chain(optax.sgd(1.0), scale_by_plateau(lk.ReduceOnPlateau(patience=0, factor=0.5))),
                           [3.0, 2.0, 1.0])
    assert ours == [1.0, 1.0, 1.0]


def test_multisteps_counts_real_updates():
    """Inside MultiSteps the plateau advances once per real update, on the value of its last micro-batch."""
    k = 3
    s = lk.linear(1.0, 0.5, 8)
    p = lk.ReduceOnPlateau(patience=0, factor=0.5)
    inner = optax.chain(optax.sgd(lko.schedule(s)), scale_by_plateau(p, learning_rate=s))
    tx = optax.MultiSteps(inner, every_k_schedule=k)
    per_update = [4.0, 3.0, 3.0, 2.0, 2.0, 2.0, 1.0, 1.0]
    # micro-batches report noise; the last one of each update reports the validation metric
    micro = [v for m in per_update for v in (9.0, 0.0, m)]
    params = jnp.zeros(2)
    state = tx.init(params)
    step = jax.jit(lambda st, v: tx.update(jnp.ones(2), st, params, value=v))
    applied = []
    for i, m in enumerate(micro):
        u, state = step(state, m)
        if i % k == k - 1:
            applied.append(-float(u[0]))
        else:
            assert float(jnp.abs(u).max()) == 0.0
    values = [1.0 + (0.5 - 1.0) * min(t, 8) / 8 for t in range(len(per_update))]
    scales = ref.torch_scales(per_update, values, patience=0, factor=0.5)
    np.testing.assert_allclose(applied, [v * sc for v, sc in zip(values, scales)], rtol=1e-6)
    plateau_state = state.inner_opt_state[1]
    assert int(plateau_state.count) == len(per_update)
    assert int(plateau_state.num_reductions) == sum(np.diff([1.0, *scales]) < 0) >= 2


@pytest.mark.parametrize("kw,exc,match", [
    ({"plateau": 0.5}, TypeError, "`plateau` must be"),
    ({"learning_rate": "fast"}, TypeError, "`learning_rate` must be the optimizer's learning rate"),
    ({"learning_rate": -0.1}, ValueError, "`learning_rate` must be"),
    ({"learning_rate": math.inf}, ValueError, "`learning_rate` must be"),
    ({"accumulation_size": 0}, ValueError, "`accumulation_size` must be a positive integer"),
    ({"warn_nonfinite": 1}, TypeError, "`warn_nonfinite`"),
    ({"plateau": lk.ReduceOnPlateau(min_lr=1e-5)}, ValueError, "`learning_rate` is needed"),
])
def test_bad_arguments(kw, exc, match):
    with pytest.raises(exc, match=match):
        scale_by_plateau(**kw)


def test_value_is_required():
    tx = optax.chain(optax.sgd(0.1), scale_by_plateau())
    params = jnp.zeros(2)
    with pytest.raises(TypeError, match="`value` must be the monitored metric"):
        tx.update(jnp.ones(2), tx.init(params), params)


# -- state: arrays only; checkpoints round-trip and resume exactly -------------------------------

S = lk.warmup(lk.cosine(0.5, 0.0, 40), 4)
P = lk.ReduceOnPlateau(patience=0, factor=0.5, cooldown=2, min_lr=0.01)
# Losses (averaged in pairs) that plateau, improve and plateau again: reductions before and after the
# checkpoint.
METRIC_SCRIPT = [4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0,
                 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
SPLIT = 7  # mid-plateau: just reduced, cooldown running, one value of the next pair accumulated


def _make(form):
    """A fresh optimizer, as a restarted process would build it."""
    if form == "appended":
        return optax.chain(optax.adamw(lko.schedule(S), weight_decay=0.01),
                           scale_by_plateau(P, learning_rate=S, accumulation_size=2))
    return optax.chain(optax.scale_by_adam(), optax.add_decayed_weights(0.01),
                       reduce_on_plateau(S, P, accumulation_size=2))


def _plateau_state(opt_state):
    return opt_state[-1]


def _grad(k):
    return {"w": jnp.array([1.0, -1.0, 0.5]) * (1 + k % 3), "b": jnp.asarray(0.25 * k)}


_STEPS: dict[int, tuple] = {}


def _train(tx, params, opt_state, ks):
    if id(tx) not in _STEPS:  # one compilation per optimizer object
        @jax.jit
        def step(params, opt_state, g, v):
            u, opt_state = tx.update(g, opt_state, params, value=v)
            return optax.apply_updates(params, u), opt_state

        _STEPS[id(tx)] = (tx, step)
    step = _STEPS[id(tx)][1]
    lrs = []
    for k in ks:
        params, opt_state = step(params, opt_state, _grad(k), METRIC_SCRIPT[k])
        lrs.append(float(_plateau_state(opt_state).learning_rate))
    return params, opt_state, lrs


PARAMS0 = {"w": np.array([0.1, 0.2, 0.3], np.float32), "b": np.float32(0.0)}


def _params0():
    return jax.tree.map(jnp.asarray, PARAMS0)


def _save_restore(fmt, tmp_path, opt_state, template):
    if fmt == "pickle":
        (tmp_path / "opt.pkl").write_bytes(pickle.dumps(opt_state))
        return pickle.loads((tmp_path / "opt.pkl").read_bytes())
    if fmt == "flax_bytes":
        from flax import serialization

        (tmp_path / "opt.msgpack").write_bytes(serialization.to_bytes(opt_state))
        return serialization.from_bytes(template, (tmp_path / "opt.msgpack").read_bytes())
    if fmt == "flax_state_dict":
        from flax import serialization

        d = serialization.to_state_dict(opt_state)
        (tmp_path / "opt.pkl").write_bytes(pickle.dumps(jax.tree.map(np.asarray, d)))
        return serialization.from_state_dict(template, pickle.loads((tmp_path / "opt.pkl").read_bytes()))
    assert fmt == "orbax"
    import orbax.checkpoint as ocp

    with ocp.StandardCheckpointer() as ckptr:
        ckptr.save(tmp_path / "ckpt", opt_state)
        ckptr.wait_until_finished()
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, template)
        return ckptr.restore(tmp_path / "ckpt", abstract)


def test_state_is_arrays_only():
    for form in ("appended", "terminal"):
        tx = _make(form)
        state0 = tx.init(_params0())
        _, state1, _ = _train(tx, _params0(), state0, [0, 1])
        for state in (state0, state1):
            ps = _plateau_state(state)
            assert isinstance(ps, PlateauState)
            for name, leaf in zip(ps._fields, ps):
                assert isinstance(leaf, jax.Array) and leaf.shape == (), (form, name, leaf)
            assert all(isinstance(x, jax.Array) for x in jax.tree.leaves(state))


@pytest.mark.parametrize("form", ["appended", "terminal"])
@pytest.mark.parametrize("fmt", ["pickle", "flax_bytes", "flax_state_dict", "orbax"])
def test_resume_applies_the_same_lr_at_every_step(fmt, form, tmp_path):
    if fmt.startswith("flax"):
        helpers.need("flax")
    if fmt == "orbax":
        helpers.need("orbax")
    n = len(METRIC_SCRIPT)
    tx = _make(form)
    full_params, full_state, full_lrs = _train(tx, _params0(), tx.init(_params0()), range(n))
    assert int(_plateau_state(full_state).num_reductions) >= 3

    params, state, first = _train(tx, _params0(), tx.init(_params0()), range(SPLIT))
    ps = _plateau_state(state)
    assert int(ps.acc_count) == 1 and int(ps.cooldown_counter) > 0 and int(ps.num_reductions) >= 1
    fresh = _make(form)
    restored = _save_restore(fmt, tmp_path, state, fresh.init(_params0()))
    assert jax.tree.structure(restored) == jax.tree.structure(state)
    for a, b in zip(jax.tree.leaves(restored), jax.tree.leaves(state)):
        assert a.dtype == b.dtype and np.array_equal(np.asarray(a), np.asarray(b))
    params, state, rest = _train(fresh, params, restored, range(SPLIT, n))
    assert first + rest == full_lrs  # exactly, step by step
    for a, b in zip(jax.tree.leaves((params, state)), jax.tree.leaves((full_params, full_state))):
        assert np.array_equal(np.asarray(a), np.asarray(b))


_CHILD = """
import json, sys
import orbax.checkpoint as ocp
sys.path[:0] = [{tests!r}, {here!r}]
import test_plateau_optax_chains as t
tx = t._make("appended")
params, state, lrs = t._train(tx, t._params0(), tx.init(t._params0()), range(t.SPLIT))
with ocp.StandardCheckpointer() as ckptr:
    ckptr.save({path!r}, {{"params": params, "opt_state": state}})
    ckptr.wait_until_finished()
print(json.dumps(lrs))
"""


def test_orbax_checkpoint_written_by_another_process(tmp_path):
    """The first part of the run happens in a process that exits; this one restores and resumes."""
    helpers.need("orbax")
    import orbax.checkpoint as ocp

    code = textwrap.dedent(_CHILD).format(tests=str(ROOT / "tests"), here=str(Path(__file__).parent),
                                          path=str(tmp_path / "ckpt"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    first = json.loads(out.stdout.strip().splitlines()[-1])
    n = len(METRIC_SCRIPT)
    tx = _make("appended")
    full_params, _, full_lrs = _train(tx, _params0(), tx.init(_params0()), range(n))
    template = {"params": _params0(), "opt_state": tx.init(_params0())}
    with ocp.StandardCheckpointer() as ckptr:
        restored = ckptr.restore(tmp_path / "ckpt", jax.tree.map(ocp.utils.to_shape_dtype_struct, template))
    params, _, rest = _train(tx, restored["params"], restored["opt_state"], range(SPLIT, n))
    assert first + rest == full_lrs
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(full_params)):
        assert np.array_equal(np.asarray(a), np.asarray(b))

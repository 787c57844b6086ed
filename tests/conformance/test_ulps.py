"""SPEC section 10 measured in float32 ulps, over long horizons, on every float32 adapter path.

For every conformance case, each path evaluates the adapter at steps ``0 .. LONG - 1``, every
breakpoint ``b - 1, b, b + 1`` and a fixed spread of far steps (``10**6``, ``2**24 - 1``, ``2**24``,
``2**24 + 1``, ... up to the largest value of the path's step counter) in one vectorised call, and
compares with ``float32`` of the independent reference (``tests/reference.py``, float64). Each
path prints its max ulps and exact-match fraction and fails above one ulp or below 99.9%. The real
optimizers are probed at the boundaries and far steps by ``test_conformance.py`` with the same
measure; here the many steps go through one compiled call so the sweep stays cheap.

Paths: optax under ``jit`` + ``vmap`` with and without ``jax_enable_x64`` and under ``shard_map``
over 2 host CPU devices (``jax`` env); the Keras ``LearningRateSchedule`` on the Keras env's backend
(``keras_*`` envs), and inside ``tf.distribute.MirroredStrategy`` (``keras_tf``); torch (the
scheduler writes Python floats, float32 tensor learning rates too) in the ``torch`` env. Also the
issue's reproducers and the negative/wrapped counter rule (SPEC section 11).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from cases import CASES
from helpers import need, probe_steps, requested
from reference import evaluate_config
from ulps import Tally

import lrkit as lk

#: Contiguous steps measured from 0.
LONG = 2048
INT32_MAX = 2**31 - 1


def _far(top: int) -> list[int]:
    """Far steps up to ``top`` (a counter's largest value): the named ones plus a geometric spread."""
    named = [10**6, 2**24 - 1, 2**24, 2**24 + 1, 10**9, 2**31 - 2, 2**40 + 1, 10**12, 2**52 + 1]
    spread = np.unique(np.geomspace(LONG, top, 48).astype(np.int64)).tolist()
    return sorted({t for t in [*named, *spread] if t <= top})


@functools.cache
def _steps(top: int) -> np.ndarray:
    """One step vector for every case: ``0 .. LONG - 1``, every case's probes, the far steps."""
    near = {t for c in CASES for t in probe_steps(c.schedule, c.horizon)}
    return np.asarray(sorted({*range(LONG), *near, *_far(top)}), dtype=np.int64)


@functools.cache
def _expected(case_id: str, top: int) -> np.ndarray:
    case = next(c for c in CASES if c.id == case_id)
    config = case.schedule.to_config()
    return np.array([evaluate_config(config, int(t)) for t in _steps(top)])


def _sweep(path: str, top: int, evaluate_all) -> Tally:  # type: ignore[no-untyped-def]
    """``evaluate_all(schedules, steps)`` gives one array of applied values per schedule (one
    compiled call for all of them where the path compiles)."""
    steps = _steps(top)
    tally = Tally(path)
    outs = evaluate_all([c.schedule for c in CASES], steps)
    for case, out in zip(CASES, outs):
        tally.add(case.id, steps, out, _expected(case.id, top))
    return tally


def _each(evaluate):  # type: ignore[no-untyped-def]
    """An ``evaluate_all`` that evaluates schedule by schedule."""
    return lambda schedules, steps: [evaluate(s, steps) for s in schedules]


# -- optax ----------------------------------------------------------------------------------------


def _optax_vmap(schedules, steps):  # type: ignore[no-untyped-def]
    import jax
    import jax.numpy as jnp

    fns = [jax.vmap(s.to_optax()) for s in schedules]
    outs = jax.jit(lambda c: [f(c).astype(jnp.float32) for f in fns])(jnp.asarray(steps, dtype=jnp.int32))
    return [np.asarray(o, dtype=np.float64) for o in outs]


def test_optax_jit_vmap() -> None:
    need("optax")
    _sweep("optax jit+vmap", INT32_MAX, _optax_vmap).check()


def test_optax_jit_vmap_with_x64() -> None:
    """With ``jax_enable_x64`` the adapter gives float64; a float32 parameter applies its float32."""
    jax = need("jax")
    need("optax")
    with jax.enable_x64(True):
        out = jax.jit(lk.cosine(0.3, 0.0, 7).to_optax())(jax.numpy.int32(3))
        assert out.dtype == jax.numpy.float64
        _sweep("optax jit+vmap x64", INT32_MAX, _optax_vmap).check()


def test_optax_shard_map_over_two_devices() -> None:
    jax = need("jax")
    need("optax")
    import jax.numpy as jnp
    from jax.sharding import PartitionSpec as P

    assert jax.device_count() == 2
    mesh = jax.make_mesh((2,), ("data",))

    def evaluate(schedules, steps):  # type: ignore[no-untyped-def]
        fns = [jax.vmap(s.to_optax()) for s in schedules]
        counts = np.asarray(steps, dtype=np.int32)
        pad = len(counts) % 2
        counts = np.concatenate([counts, counts[:pad]])
        run = jax.jit(jax.shard_map(lambda c: [f(c) for f in fns], mesh=mesh, in_specs=P("data"), out_specs=P("data")))
        outs = run(jax.device_put(jnp.asarray(counts), jax.NamedSharding(mesh, P("data"))))
        return [np.asarray(o, dtype=np.float64)[: len(steps)] for o in outs]

    _sweep("optax shard_map (2 devices)", INT32_MAX, evaluate).check()


def test_jax_division_by_a_constant_is_correctly_rounded_under_jit() -> None:
    """XLA compiles ``x / 49.0`` as ``x * (1 / 49.0)`` (one ulp off for about half of all x); the
    JAX table's ``div`` hides the constant so the division is IEEE's, as numpy's is."""
    jax = need("jax")
    import jax.numpy as jnp

    from lrkit.backends._jax_ops import OPS

    x = np.arange(1, 100_001, dtype=np.float64) * 0.7
    with jax.enable_x64(True):
        for d in (49.0, 300.0, 0.3):
            got = np.asarray(jax.jit(lambda v, d=d: OPS.div(v, d))(jnp.asarray(x)))
            np.testing.assert_array_equal(got, x / d)


def test_optax_negative_or_wrapped_count_is_step_0() -> None:
    jax = need("jax")
    need("optax")
    import jax.numpy as jnp

    s = lk.cosine(0.1, 0.0, 10)
    fn = jax.jit(s.to_optax())
    for count in (-1, -2, -(2**31)):
        assert float(fn(jnp.int32(count))) == np.float32(0.1), count
    assert float(s.to_optax()(-1)) == np.float32(0.1)  # eager, a Python int count
    # A wrapped int32 counter past 2**31 - 1 restarts at step 0 instead of giving -214748368.0.
    wrapped = jnp.int32(2**31 - 1) + jnp.int32(1)
    assert float(jax.jit(lk.linear(0.0, 0.1, 2**30).to_optax())(wrapped)) == 0.0


# -- Keras ------------------------------------------------------------------------------------


def _keras_counter() -> tuple[str, int]:
    import keras

    # optimizer.iterations: int32 under JAX (no x64), int64 on TensorFlow and PyTorch.
    return ("int32", INT32_MAX) if keras.backend.backend() == "jax" else ("int64", 2**53)


def test_keras_learning_rate_schedule() -> None:
    keras = need("keras")
    from lrkit.backends.keras import LearningRateSchedule

    dtype, top = _keras_counter()

    def evaluate(schedule, steps):  # type: ignore[no-untyped-def]
        lr = LearningRateSchedule(schedule)
        out = lr(keras.ops.convert_to_tensor(np.asarray(steps), dtype=dtype))
        assert keras.backend.standardize_dtype(out.dtype) == "float32"
        return keras.ops.convert_to_numpy(out).astype(np.float64)

    _sweep(f"keras {keras.backend.backend()}", top, _each(evaluate)).check()


def test_keras_learning_rate_schedule_under_xla() -> None:
    """TensorFlow's ``jit_compile`` (what ``model.fit`` uses by default): XLA, as under JAX."""
    need("keras")
    tf = need("tensorflow")
    from lrkit.backends.keras import LearningRateSchedule

    def evaluate(schedules, steps):  # type: ignore[no-untyped-def]
        lrs = [LearningRateSchedule(s) for s in schedules]
        fn = tf.function(lambda t: [lr(t) for lr in lrs], jit_compile=True)
        return [o.numpy().astype(np.float64) for o in fn(tf.constant(np.asarray(steps), dtype=tf.int64))]

    _sweep("keras tensorflow jit_compile (XLA)", 2**53, evaluate).check()


def test_keras_negative_or_nan_step_is_step_0() -> None:
    keras = need("keras")
    from lrkit.backends.keras import LearningRateSchedule

    lr = LearningRateSchedule(lk.cosine(0.1, 0.0, 10))
    dtype, _ = _keras_counter()
    for step in (keras.ops.convert_to_tensor(-1, dtype=dtype), -1, float("nan"), -2.5):
        assert float(keras.ops.convert_to_numpy(lr(step))) == np.float32(0.1), step


MIRRORED = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    import keras
    import lrkit as lk
    from lrkit.backends.keras import LearningRateSchedule

    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    strategy = tf.distribute.MirroredStrategy(devices)
    out = {}
    for name, config, steps in json.loads(sys.argv[1]):
        with strategy.scope():
            var = tf.Variable(0.0)
            opt = keras.optimizers.SGD(learning_rate=LearningRateSchedule(lk.from_config(config)))
            opt.build([var])

        @tf.function
        def update(count):
            opt.iterations.assign(count)
            var.assign(0.0)
            # Each replica contributes 1 / replicas: the summed gradient is exactly 1.
            n = strategy.num_replicas_in_sync
            strategy.run(lambda: opt.apply([tf.ones(()) / n], [var]))
            return [-v for v in strategy.experimental_local_results(var)]

        out[name] = [[float(v) for v in update(tf.constant(k, tf.int64))] for k in steps]
    print("RESULT " + json.dumps(out))
    """
)


def test_keras_mirrored_strategy() -> None:
    """``tf.distribute.MirroredStrategy`` on two logical CPUs: every replica applies float32(s(k))."""
    need("tensorflow")
    picked = [c for c in CASES if c.id in ("cyclic_exp_range", "cosine_wave", "nested", "cosine_restarts_mult_decay")]
    jobs, expected = [], {}
    for c in picked:
        steps = sorted({*range(24), *probe_steps(c.schedule, c.horizon), 10**6, 2**24 + 1, 10**12})
        jobs.append([c.id, c.schedule.to_config(), steps])
        expected[c.id] = (steps, [evaluate_config(c.schedule.to_config(), t) for t in steps])
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), root) if p)
    proc = subprocess.run(
        [sys.executable, "-c", MIRRORED, json.dumps(jobs)], capture_output=True, text=True, env=env, timeout=300
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    got = json.loads(lines[-1][len("RESULT ") :])
    tally = Tally("keras tensorflow MirroredStrategy (2 replicas)")
    for name, (steps, want) in expected.items():
        applied = np.asarray(got[name])
        assert applied.shape == (len(steps), 2)
        np.testing.assert_array_equal(applied[:, 0], applied[:, 1])
        tally.add(name, steps, applied[:, 0], want)
    tally.check()


# -- torch ------------------------------------------------------------------------------------


def test_torch_scheduler_values() -> None:
    """The torch scheduler writes ``schedule(k)`` as a Python float: float32(s(k)) in a float32 group."""
    torch = need("torch")

    def evaluate(schedule, steps):  # type: ignore[no-untyped-def]
        return np.array([np.float32(schedule(int(t))) for t in steps], dtype=np.float64)

    def evaluate_tensor(schedule, steps):  # type: ignore[no-untyped-def]
        return schedule(torch.as_tensor(steps)).to(torch.float32).numpy().astype(np.float64)

    _sweep("torch LRScheduler (Python floats)", 2**53, _each(evaluate)).check()
    _sweep("torch tensor steps", 2**53, _each(evaluate_tensor)).check()


# -- the issue's reproducers -------------------------------------------------------------------

REPRODUCERS = [
    (lk.cyclic(1e-4, 0.37, 7, down=13, mode="exp_range", gamma=0.999), 61),
    (lk.exponential(1.0, 0.999, 1), 1000),
    (lk.cosine_wave(0.37, 0.01, 300), 10**6),
]


@pytest.mark.parametrize("schedule,step", REPRODUCERS, ids=lambda v: repr(v)[:40])
def test_issue_reproducers_apply_float32_of_the_float64_value(schedule, step) -> None:  # type: ignore[no-untyped-def]
    want = np.float32(evaluate_config(schedule.to_config(), step))
    got = []
    if requested("optax"):
        import jax
        import jax.numpy as jnp

        got.append(("optax", float(jax.jit(schedule.to_optax())(jnp.int32(step)))))
    if requested("keras"):
        import keras

        from lrkit.backends.keras import LearningRateSchedule

        dtype, _ = _keras_counter()
        out = LearningRateSchedule(schedule)(keras.ops.convert_to_tensor(step, dtype=dtype))
        got.append(("keras", float(keras.ops.convert_to_numpy(out))))
    if requested("torch"):
        import torch

        got.append(("torch", float(schedule(torch.tensor(step)).to(torch.float32))))
    if not got:
        pytest.skip("no float32 backend in this run")
    for name, value in got:
        assert value == want, f"{name}: {value!r} != float32(s(k)) {float(want)!r}"

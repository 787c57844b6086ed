"""Where compiled Keras differs from its own formula, pinned against the real Keras (issue 11).

Each test runs on every Keras env and asserts what *that* backend does (documented in
``docs/porting.md``), and that lrkit gives the exact formula everywhere. The schedule is evaluated
the way a compiled train step evaluates it: inside ``jax.jit`` on JAX and ``tf.function`` on
TensorFlow, where ``step / k`` becomes ``step * float32(1 / k)``; eager evaluation (and PyTorch) is
exact.
"""

from __future__ import annotations

from typing import Any

import helpers
import pytest

import lrkit as lk

keras = helpers.need("keras")
S = keras.optimizers.schedules
BACKEND = keras.backend.backend()


def compiled(schedule: Any, step: int) -> float:
    """The schedule's value at ``step`` the way a compiled train step evaluates it."""
    if BACKEND == "jax":
        import jax
        import jax.numpy as jnp

        return float(jax.jit(lambda t: schedule(t))(jnp.asarray(step, dtype=jnp.int32)))
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return float(tf.function(lambda t: schedule(t))(tf.constant(step, dtype=tf.int64)))
    return float(keras.ops.convert_to_numpy(schedule(keras.ops.convert_to_tensor(step, dtype="int64"))))


def test_exponential_staircase_switches_late_under_jit_on_jax() -> None:
    native = S.ExponentialDecay(0.37, 41, 0.5, staircase=True)
    got = [compiled(native, t) for t in (40, 41, 42)]
    late = [0.37, 0.37, 0.185] if BACKEND in ("jax", "tensorflow") else [0.37, 0.185, 0.185]
    assert got == pytest.approx(late, rel=1e-6)
    assert [lk.from_keras(native)(t) for t in (40, 41, 42)] == [0.37, 0.185, 0.185]


def test_fractional_power_misses_the_end_under_jit_on_jax() -> None:
    native = S.PolynomialDecay(0.37, 41, 0.01, power=0.5)
    got = [compiled(native, t) for t in (41, 42, 100)]
    if BACKEND in ("jax", "tensorflow"):  # 1 - step / 41 is ~3e-8 instead of 0: end + 0.36 * 3e-8 ** 0.5
        assert all(0.01004 < g < 0.0102 for g in got), got
    else:
        assert got == pytest.approx([0.01] * 3, rel=1e-6)
    assert [lk.from_keras(native)(t) for t in (41, 42, 100)] == [0.01, 0.01, 0.01]


def test_polynomial_cycle_horizon_is_integer_in_lrkit() -> None:
    native = S.PolynomialDecay(0.37, 41, 0.01, power=1.0, cycle=True)
    port = lk.from_keras(native)
    steps = (40, 41, 42, 82, 83)
    assert [compiled(native, t) for t in steps] == pytest.approx([port(t) for t in steps], rel=1e-6)
    assert port(41) == 0.01 and port(42) == pytest.approx(0.01 + 0.36 * 40 / 82)


def test_refused_natives_are_named() -> None:
    with pytest.raises(ValueError, match="boundaries"):
        lk.from_keras(S.PiecewiseConstantDecay([10, 5], [1.0, 0.5, 0.1]))
    with pytest.raises(ValueError, match="decay_steps"):
        lk.from_keras(S.PolynomialDecay(0.1, 10.5, 0.0))

"""Reading a whole curve: the native Keras/optax schedule vs its lrkit port, side by side.

For each recipe the native is evaluated at ``np.arange(STEPS)`` the fastest way it allows (optax:
``jax.jit(jax.vmap(fn))``, compiled once beforehand; Keras: one vectorised call on the current
``KERAS_BACKEND``), and the lrkit port (``lk.from_optax`` / ``lk.from_keras``) is evaluated at the
same steps with numpy. The curves are checked equal first (float32 tolerance). Rounds are
interleaved and the best kept. Prints milliseconds, the ratio lrkit / native (below 1.0: lrkit is
faster) and the cost of the port itself.

Run: ``PYTHONPATH=. /work/venv/dev/bin/python benchmarks/bench_ports_keras_optax.py [--rounds N]``
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout too
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax
import jax.numpy as jnp
import keras
import optax

import lrkit as lk

STEPS = 100_000
S = keras.optimizers.schedules

OPTAX: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {
    "warmup_cosine_decay_schedule": ("warmup_cosine_decay_schedule", (0.0, 1e-3, 5_000, 90_000, 1e-5), {}),
    "exponential_decay(staircase)": ("exponential_decay", (1e-3, 1_000, 0.9), {"transition_begin": 500, "staircase": True}),
    "piecewise_constant_schedule": ("piecewise_constant_schedule", (1e-3, {30_000: 0.1, 60_000: 0.1}), {}),
    "sgdr_schedule(3 cycles)": ("sgdr_schedule", ([{"init_value": 0.0, "peak_value": 1e-3, "warmup_steps": 500, "decay_steps": 30_000}] * 3,), {}),
    "cosine_onecycle_schedule": ("cosine_onecycle_schedule", (STEPS, 1e-3), {}),
}

KERAS: dict[str, Callable[[], Any]] = {
    "CosineDecayRestarts": lambda: S.CosineDecayRestarts(1e-3, 1_000, t_mul=2.0, m_mul=0.9, alpha=0.01),
    "PiecewiseConstantDecay": lambda: S.PiecewiseConstantDecay([30_000, 60_000], [1e-3, 1e-4, 1e-5]),
    "ExponentialDecay(staircase)": lambda: S.ExponentialDecay(1e-3, 1_000, 0.96, staircase=True),
    "PolynomialDecay(cycle)": lambda: S.PolynomialDecay(1e-3, 10_000, 1e-5, power=2.0, cycle=True),
    "CosineDecay": lambda: S.CosineDecay(1e-3, STEPS, alpha=0.01),
}


def best(fn: Callable[[], Any], rounds: int) -> float:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, rtol=2e-5, atol=2e-6 * float(np.max(np.abs(b)))))


def measure(native: Callable[[], Any], port: Callable[[], Any], construct: Callable[[], Any], rounds: int) -> str:
    tn = tp = 1e9
    for _ in range(rounds):  # interleaved, best kept
        tn = min(tn, best(native, 1))
        tp = min(tp, best(port, 1))
    tc = best(construct, rounds)
    return f"{tn * 1e3:10.2f} {tp * 1e3:9.2f} {tp / tn:6.2f} {tc * 1e6:8.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    rounds = ap.parse_args().rounds
    steps_np = np.arange(STEPS)
    steps_jax = jnp.arange(STEPS, dtype=jnp.int32)
    print(f"{STEPS} steps, best of {rounds}; Keras backend {keras.backend.backend()}")
    print(f"{'recipe':38s} {'native ms':>10s} {'lrkit ms':>9s} {'ratio':>6s} {'port us':>8s}")

    for label, (name, args, kwargs) in OPTAX.items():
        fn = jax.jit(jax.vmap(getattr(optax, name)(*args, **kwargs)))
        want = np.asarray(fn(steps_jax))  # compile outside the timing
        port = lk.from_optax(name, *args, **kwargs)
        assert close(port(steps_np), want), label
        row = measure(
            lambda fn=fn: fn(steps_jax).block_until_ready(),
            lambda port=port: port(steps_np),
            lambda name=name, args=args, kwargs=kwargs: lk.from_optax(name, *args, **kwargs),
            rounds,
        )
        print(f"optax {label:32s} {row}")

    for label, make in KERAS.items():
        native = make()
        want = np.asarray(keras.ops.convert_to_numpy(native(steps_np)), dtype=np.float64)
        port = lk.from_keras(native)
        assert close(port(steps_np), want), label
        row = measure(
            lambda native=native: keras.ops.convert_to_numpy(native(steps_np)),
            lambda port=port: port(steps_np),
            lambda native=native: lk.from_keras(native),
            rounds,
        )
        print(f"keras {label:32s} {row}")


if __name__ == "__main__":
    main()

"""lrkit vs optax's own schedule inside a jitted AdamW train step (same curve, one process).

Two measurements, each compiled once, timed call by call interleaved (the fastest call counts, so
other load on the machine does not bias either side):

1. ``train``: 500 AdamW updates of a small MLP inside one ``jax.jit`` + ``lax.scan``, with
   ``learning_rate=lrkit_schedule`` vs ``optax.warmup_cosine_decay_schedule`` for the same curve.
2. ``schedule``: the schedule alone, jitted and evaluated at 1,000,000 counts.

Prints ``lrkit / optax`` time ratios; the target for ``train`` is at most 1.02 (lrkit evaluates the
schedule in float64 inside the step and rounds once to float32). Run:
``PYTHONPATH=. /work/venv/dev/bin/python benchmarks/bench_optax.py [--rounds N]`` from the repo.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout too

import lrkit as lk

INIT, PEAK, END, WARMUP, DECAY = 1e-5, 3e-3, 3e-5, 200, 2000


def schedules():  # type: ignore[no-untyped-def]
    ours = lk.warmup(lk.cosine(PEAK, END, DECAY - WARMUP), WARMUP, start=INIT).to_optax()
    native = optax.warmup_cosine_decay_schedule(INIT, PEAK, WARMUP, DECAY, END)
    counts = jnp.arange(0, 2 * DECAY, dtype=jnp.int32)
    a, b = jax.vmap(ours)(counts), jax.vmap(native)(counts)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-9)  # same curve
    return ours, native


def make_train(lr, steps: int):  # type: ignore[no-untyped-def]
    opt = optax.adamw(learning_rate=lr, weight_decay=1e-4)
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    x = jax.random.normal(k1, (64, 32))
    y = jax.random.normal(k2, (64, 1))
    params = {
        "w1": jax.random.normal(k3, (32, 64)) * 0.1,
        "b1": jnp.zeros(64),
        "w2": jnp.zeros((64, 1)),
        "b2": jnp.zeros(1),
    }

    def loss(p):  # type: ignore[no-untyped-def]
        h = jnp.tanh(x @ p["w1"] + p["b1"])
        return jnp.mean((h @ p["w2"] + p["b2"] - y) ** 2)

    @jax.jit
    def run(params, state):  # type: ignore[no-untyped-def]
        def body(carry, _):  # type: ignore[no-untyped-def]
            params, state = carry
            grads = jax.grad(loss)(params)
            updates, state = opt.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), None

        (params, state), _ = jax.lax.scan(body, (params, state), length=steps)
        return params, state

    state = opt.init(params)
    jax.block_until_ready(run(params, state))  # compile once
    return lambda: jax.block_until_ready(run(params, state))


def make_schedule_only(fn, n: int = 1_000_000):  # type: ignore[no-untyped-def]
    counts = jnp.arange(n, dtype=jnp.int32) % (2 * DECAY)
    run = jax.jit(jax.vmap(fn))
    jax.block_until_ready(run(counts))
    return lambda: jax.block_until_ready(run(counts))


def best_of(fns: dict, rounds: int) -> dict:  # type: ignore[type-arg]
    """Fastest single call of each function, calls interleaved so load changes hit both alike."""
    best = dict.fromkeys(fns, float("inf"))
    order = list(fns)
    for _ in range(rounds):
        order.reverse()  # alternate who goes first
        for name in order:
            fn = fns[name]
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    ours, native = schedules()
    print(f"jax {jax.__version__}, optax {optax.__version__}, devices {jax.devices()}")
    for label, build in (
        ("train (500 AdamW steps, MLP)", lambda f: make_train(f, 500)),
        ("schedule alone (1e6 counts)", make_schedule_only),
    ):
        t = best_of({"lrkit": build(ours), "optax": build(native)}, args.rounds)
        print(
            f"{label:32s} lrkit {t['lrkit'] * 1e3:8.3f} ms   optax {t['optax'] * 1e3:8.3f} ms   "
            f"ratio {t['lrkit'] / t['optax']:.3f}"
        )


if __name__ == "__main__":
    main()

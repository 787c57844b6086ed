"""``model.fit`` throughput: lrkit's Keras schedule vs Keras's own ``CosineDecay`` with warmup.

Run once per Keras backend, from the repository root::

    KERAS_BACKEND=jax python benchmarks/bench_keras.py
    KERAS_BACKEND=torch python benchmarks/bench_keras.py
    KERAS_BACKEND=tensorflow python benchmarks/bench_keras.py

Both models are identical (a small MLP, AdamW) except for the learning rate:
``keras.optimizers.schedules.CosineDecay(0.0, D, warmup_target=peak, warmup_steps=W)`` and
``LearningRateSchedule(lk.warmup(lk.cosine(peak, 0.0, D), W))``, the same curve (checked first).
lrkit evaluates the curve in float64 and rounds once to float32; the target is a ``fit`` within
1.02x of Keras's.

Three measurements, each side compiled once, timed interleaved in this process in rounds whose order
alternates (lrkit first, then Keras first), so load from elsewhere on the machine hits both sides
alike:

1. ``fit``: one ``model.fit`` epoch of ``--batches`` batches per side and round.
2. ``step`` (JAX only): the compiled train step alone, ``jax.jit(model.train_step,
   donate_argnums=0)`` as ``fit`` compiles it, ``--step-calls`` calls per side and round, without
   ``fit``'s per-batch Python work (which dilutes any difference in the compiled step).
3. ``schedule``: the schedule alone. On JAX and TensorFlow its cost inside compiled code, where the
   train step evaluates it: ``--schedule-evals`` evaluations in one compiled loop (``jax.lax.fori_loop``
   under ``jax.jit``, ``tf.while_loop`` under ``tf.function(jit_compile=True)``), in ns per
   evaluation (loop overhead included on both sides); on PyTorch one eager call on an ``int64``
   counter, as Keras makes it once per update.

Each prints per side the fastest and the median time, in wall-clock and in this process's CPU time
(less sensitive to other processes than wall-clock; it sums every thread of the process), and the
ratio lrkit / Keras of the fastest, of the medians, and the median and quartiles of the per-round
ratios (each round compares the two sides under the same load: the most robust of the three on a
shared machine, the quartiles show how noisy the machine was).
On PyTorch, torch runs single-threaded so the timings do not depend on what else holds the cores.

Where the time goes (Keras 3.15.1, 2 shared CPU cores, this MLP): on JAX the float64 evaluation costs
~5 ns per step inside the compiled step (11 ns against Keras's 6.5 ns per evaluation) and the
compiled steps are equal without lrkit's plateau variable; that one ``(6,)`` float32 optimizer
variable, an argument and a result of the compiled step like every optimizer variable, costs ~3 us of
a ~105 us compiled step (1.03x), ~1% of a ~350 us ``fit`` step (six scalar variables cost 1.11x of the
compiled step). On TensorFlow (``fit`` runs the step as a graph, ``jit_compile`` resolves to False
here) lrkit's graph evaluates in ~14 us against Keras's ~6 us, of a ~1.6 ms step. On PyTorch lrkit's
eager evaluation takes ~115 us against Keras's ~300 us.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time
from collections.abc import Callable

import keras
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout too

import lrkit as lk
from lrkit.backends.keras import LearningRateSchedule

PEAK, WARMUP, DECAY = 1e-3, 100, 10_000
BACKEND = keras.backend.backend()
SIDES = ("lrkit", "keras")


def make_model(learning_rate: object) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((32,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate=learning_rate), loss="mse")
    return model


def interleaved(runs: dict[str, Callable[[], object]], rounds: int, per: int) -> dict[str, list[tuple[float, float]]]:
    """``{side: [(wall, cpu) seconds per unit, one per round]}``, sides alternating first and second."""
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            t0, c0 = time.perf_counter(), time.process_time()
            runs[name]()
            out[name].append(((time.perf_counter() - t0) / per, (time.process_time() - c0) / per))
    return out


def report(title: str, unit: str, scale: float, times: dict[str, list[tuple[float, float]]]) -> None:
    print(f"  {title}")
    ratios = {}
    for i, clock in enumerate(("wall", "cpu")):
        ts = {name: [t[i] * scale for t in times[name]] for name in SIDES}
        for name in SIDES:
            print(
                f"    {clock:4s} {name:5s}  best {min(ts[name]):9.1f} {unit}  median {statistics.median(ts[name]):9.1f} {unit}"
            )
        q1, paired, q3 = statistics.quantiles([a / b for a, b in zip(ts["lrkit"], ts["keras"])], n=4)
        ratios[clock] = (
            min(ts["lrkit"]) / min(ts["keras"]),
            statistics.median(ts["lrkit"]) / statistics.median(ts["keras"]),
            paired,
            q1,
            q3,
        )
    for clock, (best, med, paired, q1, q3) in ratios.items():
        print(
            f"    ratio lrkit / keras ({clock}): best {best:.3f}  median {med:.3f}  "
            f"per-round ratios: median {paired:.3f} (quartiles {q1:.3f}-{q3:.3f})"
        )


def bench_fit(native: object, ours: object, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batches * 32, 32)).astype("float32")
    y = rng.normal(size=(args.batches * 32, 1)).astype("float32")
    models = {"lrkit": make_model(ours), "keras": make_model(native)}
    for m in models.values():  # compile / warm up
        m.fit(x, y, batch_size=32, epochs=1, verbose=0)
    runs = {
        name: (lambda m=m: m.fit(x, y, batch_size=32, epochs=1, verbose=0)) for name, m in models.items()
    }
    times = interleaved(runs, args.rounds, args.batches)
    report(f"fit: {args.batches} batches of 32 per epoch, {args.rounds} rounds", "us/step", 1e6, times)


def bench_step(native: object, ours: object, args: argparse.Namespace) -> None:
    import jax

    rng = np.random.default_rng(0)
    data = (rng.normal(size=(32, 32)).astype("float32"), rng.normal(size=(32, 1)).astype("float32"))
    runs = {}
    for name, lr in (("lrkit", ours), ("keras", native)):
        m = make_model(lr)
        m.fit(*data, batch_size=32, epochs=1, verbose=0)  # builds the optimizer
        box = [
            [
                [v.value for v in vs]
                for vs in (m.trainable_variables, m.non_trainable_variables, m.optimizer.variables, m.metrics_variables)
            ]
        ]
        step = jax.jit(m.train_step, donate_argnums=0)
        box[0] = step(box[0], data)[1]

        def run(box: list = box, step: Callable = step) -> None:
            state = box[0]
            for _ in range(args.step_calls):
                _, state = step(state, data)
            box[0] = jax.block_until_ready(state)

        runs[name] = run
    times = interleaved(runs, args.rounds * 2, args.step_calls)
    report(f"step: compiled train step alone, {args.step_calls} calls, {args.rounds * 2} rounds", "us/step", 1e6, times)


def bench_schedule(native: object, ours: object, args: argparse.Namespace) -> None:
    """The schedule alone: its cost inside compiled code (JAX, TensorFlow), or per eager call (PyTorch)."""
    n = args.schedule_calls if BACKEND == "torch" else args.schedule_evals
    runs = {}
    for name, lr in (("lrkit", ours), ("keras", native)):
        if BACKEND == "jax":
            import jax
            import jax.numpy as jnp

            f = jax.jit(
                lambda k, lr=lr: jax.lax.fori_loop(0, k, lambda i, acc: acc + lr(i), jnp.zeros((), "float32"))
            )
            k = jnp.asarray(n, dtype="int32")
            f(k).block_until_ready()

            def run(f: Callable = f, k: object = k) -> None:
                f(k).block_until_ready()

        elif BACKEND == "tensorflow":
            import tensorflow as tf

            def loop(k: object, lr: Callable = lr) -> object:
                return tf.while_loop(
                    lambda i, acc: i < k,
                    lambda i, acc: (i + 1, acc + lr(i)),
                    (tf.constant(0, "int64"), tf.constant(0.0, "float32")),
                )[1]

            f = tf.function(loop, jit_compile=True, autograph=False)
            k = tf.constant(n, "int64")
            f(k)

            def run(f: Callable = f, k: object = k) -> None:
                f(k).numpy()

        else:
            import torch

            t = torch.tensor(5000, dtype=torch.int64)  # Keras's iterations counter is int64 on torch
            lr(t)

            def run(lr: Callable = lr, t: object = t) -> None:
                for _ in range(n):
                    lr(t)

        runs[name] = run
    times = interleaved(runs, args.rounds * 2, n)
    if BACKEND == "torch":
        report(f"schedule alone, eager, {n} calls, {args.rounds * 2} rounds", "us/call", 1e6, times)
    else:
        how = "jax.jit + fori_loop" if BACKEND == "jax" else "tf.function(jit_compile=True) + while_loop"
        report(
            f"schedule alone inside compiled code ({how}), {n} evaluations, {args.rounds * 2} rounds",
            "ns/eval",
            1e9,
            times,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200, help="batches per timed epoch")
    parser.add_argument("--rounds", type=int, default=40, help="interleaved rounds (timed fits per side)")
    parser.add_argument("--step-calls", type=int, default=200, help="JAX: compiled steps per round")
    parser.add_argument("--schedule-evals", type=int, default=20_000, help="JAX, TF: evaluations per compiled loop")
    parser.add_argument("--schedule-calls", type=int, default=500, help="PyTorch: eager schedule calls per round")
    parser.add_argument("--only", choices=("fit", "step", "schedule"), action="append", help="run only these")
    args = parser.parse_args()
    if BACKEND == "torch":
        import torch

        torch.set_num_threads(1)

    native = keras.optimizers.schedules.CosineDecay(0.0, DECAY, warmup_target=PEAK, warmup_steps=WARMUP)
    ours = LearningRateSchedule(lk.warmup(lk.cosine(PEAK, 0.0, DECAY), WARMUP))
    probe = [0, 1, 50, WARMUP - 1, WARMUP, WARMUP + 1, 5000, WARMUP + DECAY, 20_000]
    a = np.array([float(keras.ops.convert_to_numpy(native(t))) for t in probe])
    b = np.array([float(keras.ops.convert_to_numpy(ours(t))) for t in probe])
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-9)  # the same curve

    only = set(args.only or ("fit", "step", "schedule"))
    print(f"backend={BACKEND} keras={keras.__version__}")
    if "fit" in only:
        bench_fit(native, LearningRateSchedule(ours.schedule), args)
    if "step" in only and BACKEND == "jax":
        bench_step(native, LearningRateSchedule(ours.schedule), args)
    if "schedule" in only:
        bench_schedule(native, ours, args)


if __name__ == "__main__":
    main()

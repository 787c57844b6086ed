"""Cost against the size of the recipe: a ``join`` of n pieces, n = 2, 20, 200, 2000 (issue 14).

Run: ``python benchmarks/bench_scale.py [--quick] [--only optax,keras]``. Each section runs if its
framework imports. Every number is the best (and, where shown, the median) of several interleaved
repeats measured in one process, printed next to the same measurement for n = 2 (the ratio is what
the targets are about: cost flat in n). Schedules are built before the clock starts.

* scalar ``s(t)`` at scattered steps (target: n = 2000 within 2x of n = 2);
* numpy ``s(np.arange(1_000_000))``;
* torch ``scheduler.step()`` with 1, 8 and 64 param groups (target: 2000 pieces within 2x of 2);
* optax: compile time of a jitted ``count -> lr`` and its run time over a vector of counts (a curve,
  shown for reference), then the same for one scalar count (the optimizer's case), then a jitted
  ``optax.sgd`` update step (target: compile times and steps within 2x of n = 2);
* Keras (``--keras BACKEND`` runs this section alone, in this process; without it, one child process
  per backend, since Keras reads ``KERAS_BACKEND`` once): ``LearningRateSchedule`` compiled on its own
  (``jax.jit``; ``tf.function`` with and without XLA) and called, then inside ``model.fit``: the
  first ``fit`` (which traces and compiles the train step) and a step of the next ones (target:
  within 2x of n = 2). A backend whose framework is not installed is skipped;
* configs: ``to_config``, ``from_config``, ``repr``, ``==`` and ``hash`` of a 100,000-piece join
  (target: each under one second).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

import lrkit as lk

SIZES = (2, 20, 200, 2000)
PIECE = 10  # steps per piece


def joined(n: int) -> lk.Schedule:
    """n linear pieces of PIECE steps each, alternating direction (no two neighbours equal)."""
    pieces = [lk.linear(1.0, 0.5, PIECE) if i % 2 else lk.linear(0.5, 1.0, PIECE) for i in range(n)]
    return lk.join(pieces, [PIECE * i for i in range(1, n)])


def best(fns: dict[object, Callable[[], object]], repeats: int) -> dict[object, float]:
    out = dict.fromkeys(fns, math.inf)
    for _ in range(repeats):
        for k, fn in fns.items():
            gc.disable()
            t0 = time.perf_counter()
            fn()
            out[k] = min(out[k], time.perf_counter() - t0)
            gc.enable()
    return out


def table(title: str, unit: str, per: int, times: dict[object, float], target: float | None) -> None:
    base = times[SIZES[0]] if SIZES[0] in times else next(iter(times.values()))
    scale = {"us": 1e6, "ms": 1e3, "s": 1.0}[unit]
    print(f"\n{title}")
    for k, v in times.items():
        ratio = v / base
        flag = "" if target is None or ratio <= target else "  OVER TARGET"
        print(f"  {k!s:>14}: {v / per * scale:10.3f} {unit}   ratio to n=2 {ratio:6.2f}{flag}")


def bench_scalar(repeats: int) -> None:
    steps = [int(x) for x in np.random.default_rng(0).integers(0, PIECE * 2, 2000)]
    fns = {}
    for n in SIZES:
        s = joined(n)
        local = [t * n // 2 for t in steps]  # spread over the whole recipe
        fns[n] = lambda s=s, local=local: [s(t) for t in local]
    table("scalar s(t), per call", "us", len(steps), best(fns, repeats), 2.0)


def bench_numpy(repeats: int) -> None:
    t = np.arange(1_000_000)
    fns = {n: (lambda s=joined(n): s(t)) for n in SIZES}
    table("numpy s(np.arange(1e6)), per array", "ms", 1, best(fns, repeats), None)


def bench_torch(repeats: int) -> None:
    try:
        import torch

        from lrkit.backends.torch import LRScheduler
    except ImportError as exc:
        print(f"\ntorch: skipped ({exc})")
        return
    calls = 2000
    for groups in (1, 8, 64):
        fns = {}
        for n in SIZES:
            params = [{"params": [torch.nn.Parameter(torch.zeros(2))]} for _ in range(groups)]
            opt = torch.optim.SGD(params, lr=0.1)
            sched = LRScheduler(opt, joined(n))
            opt.step()

            def run(sched: LRScheduler = sched) -> None:
                for _ in range(calls):
                    sched.step()

            fns[n] = run
        table(f"torch scheduler.step(), {groups} param group(s), per call", "us", calls, best(fns, repeats), 2.0)


def times(fns: dict[object, Callable[[], object]], repeats: int) -> dict[object, list[float]]:
    """Every time of ``repeats`` interleaved rounds (``table`` prints their best and median)."""
    out: dict[object, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            gc.disable()
            t0 = time.perf_counter()
            fn()
            out[k].append(time.perf_counter() - t0)
            gc.enable()
    return out


def spread(title: str, unit: str, per: int, samples: dict[object, list[float]], target: float | None) -> None:
    """``table`` with the best and the median of each row's samples, and both ratios to n = 2."""
    lo = {k: min(v) for k, v in samples.items()}
    mid = {k: statistics.median(v) for k, v in samples.items()}
    base = next(iter(samples))
    scale = {"us": 1e6, "ms": 1e3, "s": 1.0}[unit]
    print(f"\n{title} (best / median of {len(samples[base])})")
    for k in samples:
        ratio = lo[k] / lo[base]
        flag = "" if target is None or ratio <= target else "  OVER TARGET"
        print(f"  {k!s:>14}: {lo[k] / per * scale:10.3f} / {mid[k] / per * scale:10.3f} {unit}   "
              f"ratio to n=2 {ratio:6.2f} / {mid[k] / mid[base]:6.2f}{flag}")


def compile_times(make: Callable[[int], Callable[[], object]], repeats: int,
                  clear: Callable[[], object]) -> dict[object, list[float]]:
    """Compile times, interleaved over the sizes: ``make(n)`` builds the schedule (not timed) and
    returns what compiles it; ``clear()`` empties the framework's caches before each."""
    out: dict[object, list[float]] = {n: [] for n in SIZES}
    for _ in range(repeats):
        for n in SIZES:
            run = make(n)
            clear()
            gc.collect()
            t0 = time.perf_counter()
            run()
            out[n].append(time.perf_counter() - t0)
    return out


def bench_optax(repeats: int) -> None:
    try:
        import jax
        import jax.numpy as jnp

        from lrkit.backends.optax import schedule
    except ImportError as exc:
        print(f"\noptax: skipped ({exc})")
        return
    counts = jnp.arange(100_000, dtype=jnp.int32)
    count = jnp.asarray(7, dtype=jnp.int32)
    # A fresh schedule each time (built before the clock starts): the first trace of a join groups
    # its pieces (cached on the node after that), which is part of what is measured.
    spread("optax: compile a jitted vmap(schedule)", "s", 1, compile_times(
        lambda n: (lambda f=jax.jit(jax.vmap(schedule(joined(n)))): f.lower(counts).compile()),
        repeats, jax.clear_caches), 2.0)
    compiled = {n: jax.jit(jax.vmap(schedule(joined(n)))).lower(counts).compile() for n in SIZES}
    # A curve over a vector of counts (a plot), not a training step: shown without a target. A join of 4
    # or more pieces finds each count's piece with gathers, which make XLA's CPU loop scalar (one
    # gather alone costs about 1.7x the 2-piece join's two vectorised formulas on this machine).
    spread("optax: run it over 1e5 counts (a curve, for reference)", "ms", 1,
           times({n: (lambda c=c: c(counts).block_until_ready()) for n, c in compiled.items()}, 3 * repeats), None)
    # The optimizer's case: one scalar count per update.
    spread("optax: compile a jitted schedule of a scalar count", "s", 1, compile_times(
        lambda n: (lambda f=jax.jit(schedule(joined(n))): f.lower(count).compile()),
        repeats, jax.clear_caches), 2.0)
    compiled = {n: jax.jit(schedule(joined(n))).lower(count).compile() for n in SIZES}
    spread("optax: call it, per call", "us", 1000,
           times({n: (lambda c=c: [c(count).block_until_ready() for _ in range(1000)])
                  for n, c in compiled.items()}, repeats), 2.0)
    # A jitted optax update (SGD on a 1000-parameter vector), the schedule inside it.
    import optax

    params = jnp.zeros(1000, dtype=jnp.float32)
    grads = jnp.ones(1000, dtype=jnp.float32)

    def step_fn(n: int) -> Callable[..., object]:
        opt = optax.sgd(schedule(joined(n)))

        def step(p: object, state: object) -> object:
            updates, state = opt.update(grads, state, p)
            return optax.apply_updates(p, updates), state

        return jax.jit(step), opt.init(params)

    def make_step(n: int) -> Callable[[], object]:
        f, state = step_fn(n)
        return lambda: f.lower(params, state).compile()

    spread("optax: compile a jitted sgd update step", "s", 1, compile_times(make_step, repeats, jax.clear_caches), 2.0)
    steps = {}
    for n in SIZES:
        f, state = step_fn(n)
        c = f.lower(params, state).compile()

        def run(c: Callable[..., object] = c, state: object = state) -> None:
            p, st = params, state
            for _ in range(1000):
                p, st = c(p, st)
            jax.block_until_ready(p)

        steps[n] = run
    spread("optax: the jitted update step, per step", "us", 1000, times(steps, repeats), 2.0)


def bench_configs() -> None:
    n = 100_000
    # Every piece distinct (no two configs alike, so nothing is shared or cached).
    s = lk.join([lk.linear(1.0 - i * 1e-6, 0.5, PIECE) for i in range(n)], [PIECE * i for i in range(1, n)])
    t0 = time.perf_counter()
    config = s.to_config()
    t1 = time.perf_counter()
    back = lk.from_config(config)
    t2 = time.perf_counter()
    text = repr(s)
    t3 = time.perf_counter()
    same = back == s
    t4 = time.perf_counter()
    hash(back)
    t5 = time.perf_counter()
    assert same and text
    print(f"\nconfigs of a {n:,}-piece join of distinct pieces (target: each under 1 s)")
    for name, dt in (("to_config", t1 - t0), ("from_config", t2 - t1), ("repr", t3 - t2), ("==", t4 - t3),
                     ("hash", t5 - t4)):
        print(f"  {name:>14}: {dt:8.3f} s{'  OVER TARGET' if dt > 1.0 else ''}")


def bench_keras(repeats: int) -> None:
    """The Keras section, on the backend ``KERAS_BACKEND`` names (set before Keras is imported)."""
    try:
        import keras

        from lrkit.backends.keras import LearningRateSchedule
    except ImportError as exc:
        print(f"\nkeras ({os.environ.get('KERAS_BACKEND')}): skipped ({exc})")
        return
    backend = keras.backend.backend()
    print(f"\nkeras {keras.__version__} on {backend}")
    label = f"keras/{backend}"
    dtype = "int32" if backend == "jax" else "int64"
    step = keras.ops.convert_to_tensor(7, dtype=dtype)
    clear: Callable[[], object] = lambda: None  # noqa: E731
    if backend == "jax":
        import jax

        clear = jax.clear_caches
        spread(f"{label}: compile jax.jit(LearningRateSchedule) of a scalar step", "s", 1, compile_times(
            lambda n: (lambda f=jax.jit(LearningRateSchedule(joined(n))): f.lower(step).compile()),
            repeats, clear), 2.0)
        calls = {n: jax.jit(LearningRateSchedule(joined(n))).lower(step).compile() for n in SIZES}
        spread(f"{label}: call it, per call", "us", 1000, times(
            {n: (lambda c=c: [c(step).block_until_ready() for _ in range(1000)]) for n, c in calls.items()},
            repeats), 2.0)
    elif backend == "tensorflow":
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")  # "triggered tf.function retracing": each model is new on purpose
        for xla in (False, True):
            name = "tf.function(jit_compile=True)" if xla else "tf.function"
            spread(f"{label}: first call of {name}(LearningRateSchedule) (trace, build{', XLA' if xla else ''})",
                   "s", 1, compile_times(lambda n, xla=xla: partial(tf.function(
                       LearningRateSchedule(joined(n)), jit_compile=xla), step), repeats, clear), 2.0)
            fns = {}
            for n in SIZES:
                f = tf.function(LearningRateSchedule(joined(n)), jit_compile=xla)
                f(step)
                fns[n] = lambda f=f: [f(step) for _ in range(1000)]
            spread(f"{label}: call it, per call", "us", 1000, times(fns, repeats), 2.0)
    else:
        fns = {n: (lambda lr=LearningRateSchedule(joined(n)): [lr(step) for _ in range(1000)]) for n in SIZES}
        spread(f"{label}: eager LearningRateSchedule call, per call", "us", 1000, times(fns, repeats), 2.0)

    # Inside model.fit: a one-layer model, SGD driven by the schedule.
    batches, batch = 256, 8
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batches * batch, 8)).astype("float32")
    y = rng.normal(size=(batches * batch, 1)).astype("float32")

    def model(n: int) -> keras.Model:
        m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
        m.compile(optimizer=keras.optimizers.SGD(learning_rate=LearningRateSchedule(joined(n))), loss="mse")
        return m

    spread(f"{label}: first model.fit (one batch: builds, traces and compiles the train step)", "s", 1,
           compile_times(lambda n: (lambda m=model(n): m.fit(x[:batch], y[:batch], batch_size=batch, verbose=0)),
                         repeats, clear), 2.0)
    fits = {}
    for n in SIZES:
        m = model(n)
        m.fit(x, y, batch_size=batch, verbose=0)
        fits[n] = lambda m=m: m.fit(x, y, batch_size=batch, verbose=0)
    spread(f"{label}: model.fit, per step ({batches} steps an epoch)", "us", batches, times(fits, repeats), 2.0)


SECTIONS = ("scalar", "numpy", "torch", "optax", "keras", "configs")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    p.add_argument("--keras", metavar="BACKEND", help="run the Keras section alone on BACKEND, in this process")
    args = p.parse_args()
    repeats = 3 if args.quick else 7
    if args.keras:
        os.environ["KERAS_BACKEND"] = args.keras  # Keras is not imported yet
        bench_keras(repeats)
        return
    only = set(args.only.split(","))
    print(f"lrkit {lk.__version__}; numpy {np.__version__}; python {sys.version.split()[0]}")
    for name, fn in (("scalar", bench_scalar), ("numpy", bench_numpy), ("torch", bench_torch), ("optax", bench_optax)):
        if name in only:
            fn(repeats)
    if "keras" in only:
        for backend in ("jax", "tensorflow", "torch"):
            sys.stdout.flush()
            subprocess.run([sys.executable, __file__, "--keras", backend, *(["--quick"] if args.quick else [])],
                           check=False)
    if "configs" in only:
        bench_configs()


if __name__ == "__main__":
    main()

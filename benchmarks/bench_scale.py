"""Cost against the size of the recipe: a ``join`` of n pieces, n = 2, 20, 200, 2000 (issue 14).

Run: ``python benchmarks/bench_scale.py [--quick]``. Each section runs if its framework imports. Every
number is the best of several interleaved repeats measured in this one process, printed next to the
same measurement for n = 2 (the ratio is what the targets are about: cost flat in n).

* scalar ``s(t)`` at scattered steps (target: n = 2000 within 2x of n = 2);
* numpy ``s(np.arange(1_000_000))``;
* torch ``scheduler.step()`` with 1, 8 and 64 param groups (target: 2000 pieces within 2x of 2);
* optax: compile time of a jitted ``count -> lr`` and its run time over a vector of counts, then the
  same for one scalar count (the optimizer's case) (target: within 2x of n = 2, both);
* configs: ``to_config``, ``from_config``, ``repr``, ``==`` and ``hash`` of a 100,000-piece join
  (target: each under one second).
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
from collections.abc import Callable
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


def bench_optax(repeats: int) -> None:
    try:
        import jax
        import jax.numpy as jnp

        from lrkit.backends.optax import schedule
    except ImportError as exc:
        print(f"\noptax: skipped ({exc})")
        return
    counts = jnp.arange(100_000, dtype=jnp.int32)
    compile_times, run_fns = {}, {}
    for n in SIZES:
        fn = jax.jit(jax.vmap(schedule(joined(n))))
        t0 = time.perf_counter()
        fn.lower(counts).compile()
        compile_times[n] = time.perf_counter() - t0
        compiled = fn.lower(counts).compile()
        run_fns[n] = lambda c=compiled: c(counts).block_until_ready()
    table("optax: compile a jitted vmap(schedule)", "s", 1, compile_times, 2.0)
    table("optax: run it over 1e5 counts", "ms", 1, best(run_fns, repeats), 2.0)
    # The optimizer's case: one scalar count per update.
    count = jnp.asarray(7, dtype=jnp.int32)
    compile_times, run_fns = {}, {}
    for n in SIZES:
        compile_times[n] = math.inf
        for _ in range(repeats):  # compile times are noisy on a loaded machine: best of a few
            jax.clear_caches()
            t0 = time.perf_counter()
            compiled = jax.jit(schedule(joined(n))).lower(count).compile()
            compile_times[n] = min(compile_times[n], time.perf_counter() - t0)
        run_fns[n] = lambda c=compiled: [c(count).block_until_ready() for _ in range(1000)]
    table("optax: compile a jitted schedule of a scalar count", "s", 1, compile_times, 2.0)
    table("optax: call it, per call", "us", 1000, best(run_fns, repeats), 2.0)


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    args = p.parse_args()
    repeats = 3 if args.quick else 7
    print(f"lrkit {lk.__version__}; numpy {np.__version__}; python {sys.version.split()[0]}")
    bench_scalar(repeats)
    bench_numpy(repeats)
    bench_torch(repeats)
    bench_optax(repeats)
    bench_configs()


if __name__ == "__main__":
    main()

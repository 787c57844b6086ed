"""Core speed, measured side by side with hand-written numpy / Python in one process.

Run: ``python benchmarks/bench_core.py [--quick]``. Prints one line per benchmark with both timings
and the ratio lrkit / hand-written (lower is better) next to its target. Timings are the best of
several interleaved repeats, so a busy machine inflates both sides alike.

(a) ``warmup(cosine(1, 0, N - W), W)`` over N = 10M steps at once vs the numpy expression a user
    would write; lrkit splits an array this large across the CPUs (at most 4, ``LRKIT_NUM_THREADS``),
    so it is also shown on one thread, and ``np.cos`` alone over the steps (one thread) against the
    hand expression: the floor of any single-threaded evaluation;
(b) ``piecewise_constant`` with 999 pieces over 1M steps vs ``np.searchsorted`` by hand;
(c) ``import lrkit`` vs ``import numpy``, each in a fresh interpreter (bytecode cached, as installed);
(d) one Python-scalar step of a warmup + cosine schedule (microseconds) vs the same formula in plain
    Python.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lrkit as lk  # noqa: E402
from lrkit._base import threads  # noqa: E402


def best(fns: dict[str, Callable[[], object]], repeats: int, number: int = 1) -> dict[str, float]:
    """Best time per call of each function, repeats interleaved so load hits them alike."""
    out = dict.fromkeys(fns, math.inf)
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            out[k] = min(out[k], (time.perf_counter() - t0) / number)
    return out


def report(name: str, ours: float, theirs: float, target: float, unit: str = "ms") -> None:
    scale = 1e3 if unit == "ms" else 1e6
    ratio = ours / theirs
    verdict = "ok" if ratio <= target else "OVER TARGET"
    goal = f"(target <= {target})  {verdict}" if target < math.inf else "(for reference)"
    print(
        f"{name:<44} lrkit {ours * scale:9.2f} {unit}  hand {theirs * scale:9.2f} {unit}  "
        f"ratio {ratio:5.2f}  {goal}"
    )


def bench_warmup_cosine(n: int, repeats: int) -> None:
    w = n // 100
    s = lk.warmup(lk.cosine(1.0, 0.0, n - w), w)
    t = np.arange(n)

    def hand() -> np.ndarray:
        tf = t.astype(np.float64)
        return np.where(tf < w, tf / w, 0.5 * (1.0 + np.cos(np.pi * (tf - w) / (n - w))))

    def cos_alone() -> np.ndarray:
        return np.cos(t * (np.pi / n))

    def one_thread() -> np.ndarray:
        os.environ["LRKIT_NUM_THREADS"] = "1"
        try:
            return s(t)
        finally:
            del os.environ["LRKIT_NUM_THREADS"]

    os.environ.pop("LRKIT_NUM_THREADS", None)
    np.testing.assert_allclose(s(t), hand(), rtol=1e-9, atol=1e-12)  # the same curve
    np.testing.assert_array_equal(s(t), one_thread())  # the same bits on any number of threads
    r = best({"lrkit": lambda: s(t), "one": one_thread, "hand": hand, "cos": cos_alone}, repeats)
    report(f"(a) warmup+cosine, {n:,} steps ({threads()} threads)", r["lrkit"], r["hand"], 0.6)
    report("    ... on one thread (LRKIT_NUM_THREADS=1)", r["one"], r["hand"], math.inf)
    report("    ... np.cos alone, one thread, vs hand", r["cos"], r["hand"], math.inf)


def bench_piecewise_constant(n: int, repeats: int) -> None:
    bounds = np.arange(1, 1000) * (n // 1000)
    values = np.linspace(1.0, 0.001, 1000)
    s = lk.piecewise_constant(bounds.tolist(), values.tolist())
    t = np.arange(n)

    def hand() -> np.ndarray:
        return values[np.searchsorted(bounds, t, side="right")]

    np.testing.assert_array_equal(s(t), hand())
    r = best({"lrkit": lambda: s(t), "hand": hand}, repeats)
    report(f"(b) piecewise_constant 999 pieces, {n:,} steps", r["lrkit"], r["hand"], 1.5)


IMPORT = "import time; t = time.perf_counter(); import {m}; print(time.perf_counter() - t)"


def bench_import(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=cache)

        def run(module: str) -> tuple[float, float]:
            t0 = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", IMPORT.format(m=module)], env=env, capture_output=True,
                text=True, check=True,
            )
            return float(out.stdout.strip()), time.perf_counter() - t0

        run("numpy"), run("lrkit")  # write the bytecode caches
        inner = {"lrkit": math.inf, "numpy": math.inf}
        whole = dict(inner)
        for _ in range(repeats):
            for m in inner:
                a, b = run(m)
                inner[m], whole[m] = min(inner[m], a), min(whole[m], b)
    report("(c) import lrkit vs import numpy", inner["lrkit"], inner["numpy"], 1.1)
    report("    ... whole process (python -c)", whole["lrkit"], whole["numpy"], 1.1)


def bench_scalar(number: int, repeats: int) -> None:
    n, w, a, b = 10_000, 500, 3e-4, 3e-5
    s = lk.warmup(lk.cosine(a, b, n), w)

    def hand(t: int) -> float:
        if t < w:
            return a * t / w
        return b + (a - b) * (1.0 + math.cos(math.pi * min(t - w, n) / n)) / 2.0

    assert abs(s(5000) - hand(5000)) < 1e-15
    r = best({"lrkit": lambda: s(5000), "hand": lambda: hand(5000)}, repeats, number)
    report("(d) one scalar step, warmup+cosine", r["lrkit"], r["hand"], math.inf, unit="us")
    verdict = "ok" if r["lrkit"] < 10e-6 else "OVER TARGET"
    print(f"    ... {r['lrkit'] * 1e6:.2f} us per step (target < 10 us)  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    print(f"lrkit {lk.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    bench_warmup_cosine(1_000_000 if args.quick else 10_000_000, repeats)
    bench_piecewise_constant(1_000_000, repeats)
    bench_import(repeats)
    bench_scalar(20_000 if args.quick else 100_000, repeats)


if __name__ == "__main__":
    main()

"""Reading a whole curve: stepping a native scheduler vs porting it and evaluating the port.

For each recipe the native (a torch scheduler, or ``transformers.get_scheduler``) is stepped
``STEPS`` times on a one-parameter SGD optimizer and its lr recorded; lrkit ports a fresh instance
(``lk.from_torch`` / ``lk.from_transformers``) and evaluates the port at ``np.arange(STEPS)``. The
curves are checked equal first (rel 1e-12 + 1e-15 of the peak). Rounds are interleaved and the best
kept. Prints milliseconds and the ratio lrkit / native (below 1.0: lrkit is faster), plus the cost
of the port alone.

Run: ``python benchmarks/bench_ports.py [--rounds N]``
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout too

import lrkit as lk

STEPS = 10_000
L = torch.optim.lr_scheduler


def optimizer() -> Any:
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)


def torch_recipes() -> dict[str, Callable[[Any], Any]]:
    return {
        "SequentialLR(LinearLR, CosineAnnealingLR)": lambda o: L.SequentialLR(
            o, [L.LinearLR(o, 0.01, 1.0, 500), L.CosineAnnealingLR(o, STEPS - 500, 1e-4)], [500]
        ),
        "OneCycleLR": lambda o: L.OneCycleLR(o, 0.5, STEPS),
        "ChainedScheduler(ConstantLR, ExponentialLR)": lambda o: L.ChainedScheduler(
            [L.ConstantLR(o, 0.5, 100), L.ExponentialLR(o, 0.9995)]
        ),
    }


def native_curve(make: Callable[[Any], Any]) -> np.ndarray:
    opt = optimizer()
    sched = make(opt)
    out = np.empty(STEPS)
    for t in range(STEPS):
        out[t] = opt.param_groups[0]["lr"]
        if t + 1 < STEPS:
            sched.step()
    return out


def best(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    warnings.simplefilter("ignore")
    rows: list[tuple[str, Callable[[], np.ndarray], Callable[[], Any], Callable[[Any], np.ndarray]]] = []
    for name, make in torch_recipes().items():
        rows.append((name, lambda make=make: native_curve(make), lambda make=make: lk.from_torch(make(optimizer())),
                     lambda s: s(np.arange(STEPS))))
    try:
        import transformers
    except ImportError:
        transformers = None
    if transformers is not None:
        def hf_native() -> np.ndarray:
            opt = optimizer()
            sched = transformers.get_scheduler("cosine", opt, num_warmup_steps=500, num_training_steps=STEPS)
            out = np.empty(STEPS)
            for t in range(STEPS):
                out[t] = opt.param_groups[0]["lr"]
                sched.step()
            return out

        rows.append(("transformers cosine", hf_native,
                     lambda: lk.from_transformers("cosine", lr=0.1, num_warmup_steps=500, num_training_steps=STEPS),
                     lambda s: s(np.arange(STEPS))))

    print(f"{'recipe':46s} {'native ms':>10s} {'lrkit ms':>9s} {'ratio':>6s} {'port ms':>8s}")
    for name, native, port, evaluate in rows:
        want = native()
        got = evaluate(port())
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15 * np.max(want) * STEPS / 100)
        t_native = t_lrkit = t_port = float("inf")
        for _ in range(rounds):  # interleaved
            t_native = min(t_native, best(native, 1))
            t_lrkit = min(t_lrkit, best(lambda evaluate=evaluate, port=port: evaluate(port()), 1))
            t_port = min(t_port, best(port, 1))
        print(f"{name:46s} {1e3 * t_native:10.2f} {1e3 * t_lrkit:9.2f} {t_lrkit / t_native:6.3f} {1e3 * t_port:8.2f}")


if __name__ == "__main__":
    main()

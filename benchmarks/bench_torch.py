"""Cost of ``scheduler.step()``: lrkit's torch adapter vs torch's native schedulers, side by side.

The same warmup + cosine curve both ways:

* native: ``SequentialLR([LinearLR(start_factor, total_iters=W), CosineAnnealingLR(T_max=T, eta_min)],
  milestones=[W])``
* lrkit: ``LRScheduler(opt, lk.warmup(lk.cosine(peak, eta_min, T), W, start=peak * start_factor))``

on ``AdamW`` with 1 and with 64 param groups. The curves are checked equal first (rel 1e-9), then
each scheduler is stepped ``STEPS`` times per round, rounds interleaved, best round kept. Prints
microseconds per ``step()`` and the ratio lrkit / native (below 1.0 means lrkit is faster).

Run: ``python benchmarks/bench_torch.py``
"""

from __future__ import annotations

import gc
import pathlib
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout too

import lrkit as lk
from lrkit.backends.torch import LRScheduler

PEAK, ETA_MIN, START_FACTOR, WARMUP, DECAY = 1e-3, 1e-5, 0.01, 500, 4500
STEPS = WARMUP + DECAY
ROUNDS = 7


def _optimizer(groups: int) -> torch.optim.Optimizer:
    params = [{"params": [torch.nn.Parameter(torch.zeros(4))]} for _ in range(groups)]
    return torch.optim.AdamW(params, lr=PEAK)


def _scheduler(make, groups: int):  # type: ignore[no-untyped-def]
    opt = _optimizer(groups)
    sched = make(opt)
    opt.step()  # after the scheduler wraps it: neither scheduler warns about the call order
    return sched


def _native(opt: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
    sched = torch.optim.lr_scheduler
    return sched.SequentialLR(
        opt,
        [
            sched.LinearLR(opt, start_factor=START_FACTOR, total_iters=WARMUP),
            sched.CosineAnnealingLR(opt, T_max=DECAY, eta_min=ETA_MIN),
        ],
        milestones=[WARMUP],
    )


def _lrkit(opt: torch.optim.Optimizer) -> LRScheduler:
    return LRScheduler(opt, lk.warmup(lk.cosine(PEAK, ETA_MIN, DECAY), WARMUP, start=PEAK * START_FACTOR))


def _check_same_curve(groups: int) -> None:
    na, lb = _scheduler(_native, groups), _scheduler(_lrkit, groups)
    a, b = na.optimizer, lb.optimizer
    for k in range(STEPS):
        x, y = a.param_groups[-1]["lr"], b.param_groups[-1]["lr"]
        if abs(x - y) > 1e-9 * abs(x) + 1e-15:
            raise SystemExit(f"curves differ at step {k}: native {x!r} vs lrkit {y!r}")
        na.step()
        lb.step()


def _time_steps(make, groups: int) -> float:  # type: ignore[no-untyped-def]
    step = _scheduler(make, groups).step
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(STEPS):
            step()
        return (time.perf_counter() - t0) / STEPS
    finally:
        gc.enable()


def main() -> None:
    print(f"torch {torch.__version__}; {STEPS} scheduler.step() calls per round, best of {ROUNDS} rounds")
    print(f"{'param groups':>12} {'native us/step':>15} {'lrkit us/step':>14} {'ratio':>7}")
    for groups in (1, 64):
        _check_same_curve(groups)
        best = {"native": float("inf"), "lrkit": float("inf")}
        for _ in range(ROUNDS):
            best["native"] = min(best["native"], _time_steps(_native, groups))
            best["lrkit"] = min(best["lrkit"], _time_steps(_lrkit, groups))
        ratio = best["lrkit"] / best["native"]
        print(f"{groups:>12} {best['native'] * 1e6:>15.2f} {best['lrkit'] * 1e6:>14.2f} {ratio:>6.2f}x")


if __name__ == "__main__":
    main()

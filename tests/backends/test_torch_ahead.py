"""The torch adapter's values ahead: after a few steps evaluated one at a time, ``LRScheduler`` reads
its values from a numpy pass over the next steps (``lrkit._ahead``); every value it puts into a param
group stays bit for bit the float64 core's ``s(k)`` at a float step (times the plateau's factor).

These tests pin that the adapter applies the core's values unchanged (bit for bit, at every step,
across runs long enough to read ahead, jumps, resumes, plateaus, several groups); whether the core's
values are right is checked against the independent reference in ``tests/conformance``.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from helpers import need
from hypothesis import given, settings
from hypothesis import strategies as st

torch = need("torch")

from schedule_strategies import trees  # noqa: E402

import lrkit as lk  # noqa: E402
import lrkit.backends.torch as lt  # noqa: E402
from lrkit.backends.torch import HyperparameterScheduler, LRScheduler  # noqa: E402

# Long enough that values are read ahead: runs of at least _AHEAD_AFTER steps, and a run crossing the
# end of one pass into the next.
RUN = lt._AHEAD_AFTER + 40


def _bits(v: float) -> bytes:
    return struct.pack("<d", v)


def _opt(groups: int = 1) -> Any:
    params = [{"params": [torch.zeros((), dtype=torch.float64, requires_grad=True)]} for _ in range(groups)]
    return torch.optim.SGD(params, lr=1.0)


def _expect(schedules: list[lk.Schedule], opt: Any, k: int, factor: Any = None) -> None:
    for i, (s, g) in enumerate(zip(schedules, opt.param_groups)):
        want = s(float(k)) if factor is None else factor(s(float(k)))
        assert _bits(g["lr"]) == _bits(want), f"group {i} at step {k}: applied {g['lr']!r}, s(k) = {want!r}"


def _stepped(s: lk.Schedule, steps: int) -> tuple[Any, LRScheduler]:
    """An SGD optimizer driven by ``s``, stepped ``steps`` times (values read ahead by then)."""
    opt = _opt()
    sched = LRScheduler(opt, s)
    opt.step()
    for _ in range(steps):
        sched.step()
    return opt, sched


@settings(max_examples=25)
@given(a=trees(), b=trees(), start=st.one_of(st.integers(0, 3000), st.sampled_from([10**9, 2**53 - RUN - 600])))
def test_every_step_is_the_cores_value(a: Any, b: Any, start: int) -> None:
    schedules = [a[0], b[0], a[0]]  # two distinct schedules, one shared by two groups
    opt = _opt(3)
    sched = LRScheduler(opt, schedules)
    opt.step()
    k = 0
    if start:
        state = sched.state_dict()
        state["last_epoch"] = k = start
        sched.load_state_dict(state)
    _expect(schedules, opt, k)
    for _ in range(RUN):
        sched.step()
        k += 1
        _expect(schedules, opt, k)
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(k + 500)  # torch's deprecated epoch argument: a jump inside the values read ahead
    _expect(schedules, opt, k + 500)


def test_a_run_crossing_passes_and_the_end_of_the_curve() -> None:
    s = lk.warmup(lk.cosine(1e-3, 1e-5, 3000), 200, start=1e-5)
    opt = _opt()
    sched = LRScheduler(opt, s)
    opt.step()
    for k in range(1, 2 * lt._AHEAD + 3500):
        sched.step()
        _expect([s], opt, k)
    assert sched._ahead_n == lt._AHEAD


def test_plateau_reductions_apply_to_values_read_ahead() -> None:
    s = lk.cosine(1.0, 0.01, 500)
    plateau = lk.ReduceOnPlateau(factor=0.5, patience=0, min_lr=0.05)
    opt = _opt()
    sched = LRScheduler(opt, s, plateau=plateau)
    opt.step()
    for k in range(1, 200):
        if k % 30 == 0:
            sched.step(1.0)  # a metric that never improves: a reduction after the first
        else:
            sched.step()
        state = sched._plateau_state
        _expect([s], opt, k, factor=lambda v, state=state: float(plateau.apply(v, state)))
    assert opt.param_groups[0]["lr"] < s(199)


def test_a_resume_with_another_schedule_drops_the_values_read_ahead() -> None:
    a, b = lk.cosine(1.0, 0.0, 1000), lk.linear(0.5, 0.25, 800)
    opt = _opt()
    sched = LRScheduler(opt, a, resume="checkpoint")
    opt.step()
    for _ in range(RUN):
        sched.step()
    other = LRScheduler(_opt(), b)
    state = other.state_dict()
    state["last_epoch"] = sched.last_epoch + 3
    sched.load_state_dict(state)
    for k in range(sched.last_epoch, sched.last_epoch + RUN):
        _expect([b], opt, k)
        sched.step()


def test_groups_added_later_follow_the_one_schedule() -> None:
    s = lk.warmup(lk.cosine(1.0, 0.0, 900), 100)
    opt, sched = _stepped(s, RUN)
    opt.add_param_group({"params": [torch.zeros((), dtype=torch.float64, requires_grad=True)]})
    for k in range(RUN + 1, 2 * RUN):
        sched.step()
        _expect([s, s], opt, k)


def test_optimizer_clock_and_hyperparameters_read_ahead_too() -> None:
    s = lk.cosine(0.9, 0.8, 700)
    p = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0, momentum=0.5)
    lr = LRScheduler(opt, s, clock="optimizer")
    mom = HyperparameterScheduler(opt, "momentum", s)
    for k in range(1, RUN):
        p.grad = torch.ones((), dtype=torch.float64)
        opt.step()
        mom.step()
        assert _bits(opt.param_groups[0]["lr"]) == _bits(s(float(k)))
        assert _bits(opt.param_groups[0]["momentum"]) == _bits(s(float(k)))
    assert lr._ahead_n and mom._ahead_n


def test_a_pass_that_cannot_stand_in_falls_back_to_one_step_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(lt, "values_ahead", lambda *a, **k: calls.append(a[1]) or None)
    s = lk.cosine(1.0, 0.0, 5000)
    opt = _opt()
    sched = LRScheduler(opt, s)
    opt.step()
    for k in range(1, 3 * lt._AHEAD):
        sched.step()
        _expect([s], opt, k)
    # Attempts further and further apart, never one per step.
    assert calls == [lt._AHEAD_AFTER, lt._AHEAD_AFTER + lt._AHEAD]


def test_layer_scales_and_tensor_lrs_with_values_read_ahead() -> None:
    s = lk.warmup(lk.cosine(1e-3, 1e-5, 900), 50)
    lr = torch.tensor(1.0, dtype=torch.float64)  # the groups' lr alike (one schedule drives both)
    opt = torch.optim.SGD(
        [
            {"params": [torch.zeros((), dtype=torch.float64, requires_grad=True)], "lr_scale": 0.25},
            {"params": [torch.zeros((), dtype=torch.float64, requires_grad=True)], "lr": lr},
        ],
        lr=1.0,
    )
    with pytest.warns(UserWarning, match=r"param_groups\[0\]\['lr'\] is a Python float"):
        sched = LRScheduler(opt, s)  # a tensor lr beside a float one: set up for torch.compile, half done
    opt.step()
    for k in range(1, 2 * RUN):
        sched.step()
        assert _bits(opt.param_groups[0]["lr"]) == _bits(s(float(k)) * 0.25)
        assert opt.param_groups[1]["lr"] is lr and _bits(lr.item()) == _bits(s(float(k)))
        assert sched.get_last_lr()[0] == opt.param_groups[0]["lr"]
    assert sched._ahead_n


def test_a_copied_scheduler_continues_exactly() -> None:
    import copy
    import pickle

    s = lk.warmup(lk.cosine(1.0, 0.0, 900), 100)
    _, sched = _stepped(s, RUN)
    for clone in (copy.deepcopy(sched), pickle.loads(pickle.dumps(sched))):
        for k in range(RUN + 1, 3 * RUN):
            clone.step()
            _expect([s], clone.optimizer, k)


def test_a_curve_of_many_short_pieces_is_evaluated_one_step_at_a_time() -> None:
    # Pieces alike to none (warmups) of 10 steps: a numpy pass would run each on its own.
    s = lk.join([lk.warmup(lk.cosine(1.0, 0.1 * (i % 5), 8), 2) for i in range(600)], [10 * i for i in range(1, 600)])
    opt = _opt()
    sched = LRScheduler(opt, s)
    opt.step()
    for k in range(1, 2 * RUN):
        sched.step()
        _expect([s], opt, k)
    assert sched._ahead_n == 0 and sched._misses == 1

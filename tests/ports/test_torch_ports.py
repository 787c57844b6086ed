"""``lk.from_torch`` against the real ``torch.optim.lr_scheduler`` schedulers.

Every test draws the native's arguments with hypothesis, builds the native on a real optimizer
(SGD with momentum, several param groups with different lrs), runs a real update loop (backward,
``optimizer.step()``, ``scheduler.step()``) 2-3x past the nominal end and records
``optimizer.param_groups[g]["lr"]`` before each update. The port of a *fresh* instance of the same
scheduler must give that value at every step, through the numpy path (all steps at once) and the
scalar path (each probe step, boundaries b-1, b, b+1 included).

Tolerance: ``rtol=1e-12`` plus an absolute term. Absolute natives (``CyclicLR``, ``OneCycleLR``,
``CosineAnnealingWarmRestarts``) compute each value from the step, so ``atol = 1e-15 * lr``.
torch's chainable forms build the value by repeated multiplication (and ``CosineAnnealingLR`` by a
ratio of ``1 + cos`` terms that loses relative precision near the bottom of the wave), so their
rounding grows with the number of steps ``n``: ``atol = n * 1e-15 * lr`` (measured worst case is
below ``1e-14 * lr`` for the lengths drawn here).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import helpers
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import lrkit as lk

torch = helpers.need("torch")
L = torch.optim.lr_scheduler
SWALR = torch.optim.swa_utils.SWALR

Make = Callable[[Any], Any]  # optimizer -> scheduler

# Each example runs a real optimizer for up to a few hundred steps; keep every sweep to seconds.
SWEEP = settings(max_examples=min(settings.default.max_examples, 40))

lrs_st = st.lists(st.floats(1e-4, 2.0), min_size=1, max_size=3)
factor_st = st.floats(0.01, 1.0)
gamma_st = st.floats(0.5, 1.2)


def optimizer(lrs: list[float]) -> Any:
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def native_curve(make: Make, lrs: list[float], n: int, group: int, steps_per_epoch: int = 1) -> np.ndarray:
    """The lr of param group ``group`` before each of ``n`` updates of a real training loop."""
    opt = optimizer(lrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make(opt)
        out = []
        for t in range(n):
            out.append(float(opt.param_groups[group]["lr"]))
            for pg in opt.param_groups:
                for p in pg["params"]:
                    p.grad = torch.ones_like(p)
            opt.step()
            if (t + 1) % steps_per_epoch == 0 and t + 1 < n:
                sched.step()
    return np.asarray(out)


def port(make: Make, lrs: list[float], group: int, **kw: Any) -> lk.Schedule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lk.from_torch(make(optimizer(lrs)), group=group, **kw)


def check(
    make: Make,
    lrs: list[float],
    n: int,
    group: int = 0,
    *,
    chainable: bool = True,
    extra: tuple[int, ...] = (),
    atol: np.ndarray | None = None,
    clip_at_zero: bool = False,
) -> lk.Schedule:
    group = min(group, len(lrs) - 1)
    want = native_curve(make, lrs, n, group)
    if clip_at_zero:  # lrkit values are non-negative: a negative torch lr is 0 in the port
        want = np.maximum(want, 0.0)
    s = port(make, lrs, group)
    scale = max(float(np.max(np.abs(want))), max(lrs))
    tol = np.full(n, (n * 1e-15 if chainable else 1e-15) * scale) if atol is None else atol * scale
    got = s(np.arange(n))
    probes = [t for t in helpers.probe_steps(s, n, extra) if t < n]
    scalar = np.array([s(t) for t in probes])
    for steps, values in ((np.arange(n), got), (np.asarray(probes), scalar)):
        bad = np.abs(values - want[steps]) > 1e-12 * np.abs(want[steps]) + tol[steps]
        assert not bad.any(), (
            f"{s!r}: steps {steps[bad][:5].tolist()} give {values[bad][:5].tolist()}, "
            f"torch gives {want[steps][bad][:5].tolist()}"
        )
    return s


def cosine_recursion_error(t_max: float, n: int) -> np.ndarray:
    """A bound on the rounding of torch's ``CosineAnnealingLR`` recursion, relative to the lr.

    Each step multiplies ``lr - eta_min`` by ``(1 + cos(pi t / T)) / (1 + cos(pi (t - 1) / T))``;
    both terms carry an absolute rounding of about ``eps``, so the relative error grows by about
    ``2 eps / (1 + cos)`` per step, and a value ``c(t)`` of the way up carries
    ``c(t) * sum_s eps / c(s)``. Exactly-zero terms are torch's special branch, which restarts the
    recursion from the closed form. For a whole ``T_max`` this stays below ``n * 1e-15``; for a
    fractional one it grows when a step lands close to an odd multiple of ``T_max``.
    """
    t = np.arange(n, dtype=np.float64)
    c = (1.0 + np.cos(np.pi * t / t_max)) / 2.0
    inv = np.where(c > 0, 1.0 / np.maximum(c, 1e-300), 0.0)
    return 1e-15 * t + 4.0 * 2.2e-16 * c * np.cumsum(inv)


# -- chainable leaves -------------------------------------------------------------------------------


@SWEEP
@given(lrs_st, st.integers(0, 2), st.integers(1, 20), st.floats(0.0, 1.5))
def test_step_lr(lrs: list[float], g: int, step_size: int, gamma: float) -> None:
    if gamma > 1.0:  # grows past float range long before step 2**53 (SPEC section 11): refused
        with pytest.raises(ValueError, match="gamma"):
            port(lambda o: L.StepLR(o, step_size, gamma), lrs, min(g, len(lrs) - 1))
        return
    check(lambda o: L.StepLR(o, step_size, gamma), lrs, 3 * step_size + 7, g)


@SWEEP
@given(lrs_st, st.integers(0, 2), st.lists(st.integers(0, 40), max_size=5), gamma_st)
def test_multistep_lr(lrs: list[float], g: int, milestones: list[int], gamma: float) -> None:
    # Repeated milestones count twice; a milestone at 0 applies at the initial step.
    top = max(milestones, default=10)
    check(lambda o: L.MultiStepLR(o, milestones, gamma), lrs, 2 * top + 5, g, extra=tuple(milestones))


@SWEEP
@given(lrs_st, st.integers(0, 2), factor_st, st.integers(0, 30))
def test_constant_lr(lrs: list[float], g: int, factor: float, total: int) -> None:
    check(lambda o: L.ConstantLR(o, factor, total), lrs, 3 * total + 5, g)


@SWEEP
@given(lrs_st, st.integers(0, 2), factor_st, st.floats(0.0, 1.0), st.integers(0, 40))
def test_linear_lr(lrs: list[float], g: int, start: float, end: float, total: int) -> None:
    check(lambda o: L.LinearLR(o, start, end, total), lrs, 3 * total + 5, g)


@SWEEP
@given(lrs_st, st.integers(0, 2), st.floats(0.8, 1.05), st.integers(1, 200))
def test_exponential_lr(lrs: list[float], g: int, gamma: float, n: int) -> None:
    if gamma > 1.0:  # grows past float range long before step 2**53 (SPEC section 11): refused
        with pytest.raises(ValueError, match="rate"):
            port(lambda o: L.ExponentialLR(o, gamma), lrs, min(g, len(lrs) - 1))
        return
    check(lambda o: L.ExponentialLR(o, gamma), lrs, n, g)


@SWEEP
@given(lrs_st, st.integers(0, 2), st.integers(1, 50), st.floats(0.0, 3.0))
def test_polynomial_lr(lrs: list[float], g: int, total: int, power: float) -> None:
    check(lambda o: L.PolynomialLR(o, total, power), lrs, 3 * total + 3, g)


@SWEEP
@given(
    lrs_st,
    st.integers(0, 2),
    st.one_of(st.integers(1, 80), st.floats(0.5, 60.0)),
    st.floats(0.0, 1.0),
)
def test_cosine_annealing_lr_rises_past_t_max(lrs: list[float], g: int, t_max: Any, eta: float) -> None:
    eta_min = eta * min(lrs)
    n = int(3 * t_max) + 4
    bound = cosine_recursion_error(float(t_max), n)
    # A fractional T_max that puts a step within ~1e-4 of an odd multiple makes torch's own
    # recursion lose more than 1e-9 of the lr: there is no exact curve to compare with.
    assume(bound.max() < 1e-9)
    s = check(lambda o: L.CosineAnnealingLR(o, t_max, eta_min), lrs, n, g, atol=bound)
    assert s.duration is None  # keeps oscillating like torch


# -- absolute leaves --------------------------------------------------------------------------------


@SWEEP
@given(lrs_st, st.integers(0, 2), st.integers(1, 20), st.integers(1, 3), st.floats(0.0, 1.0))
def test_cosine_annealing_warm_restarts(lrs: list[float], g: int, t0: int, mult: int, eta: float) -> None:
    n = t0 * (1 + mult + mult**2) + 3
    check(
        lambda o: L.CosineAnnealingWarmRestarts(o, t0, mult, eta * min(lrs)), lrs, n, g, chainable=False
    )


@SWEEP
@given(
    lrs_st,
    st.integers(0, 2),
    st.integers(1, 15),
    st.one_of(st.none(), st.integers(1, 15)),
    st.sampled_from(["triangular", "triangular2", "exp_range"]),
    st.floats(0.9, 1.0),
    st.floats(1.0, 10.0),
)
def test_cyclic_lr(lrs: list[float], g: int, up: int, down: Any, mode: str, gamma: float, span: float) -> None:
    base = [lr / 10 for lr in lrs]
    peak = [lr * span for lr in base]
    total = up + (down or up)
    check(
        lambda o: L.CyclicLR(o, base, peak, up, down, mode=mode, gamma=gamma),
        lrs,
        4 * total + 3,
        g,
        chainable=False,
    )


@SWEEP
@given(
    lrs_st,
    st.integers(0, 2),
    st.integers(1, 50),
    st.integers(1, 3),
    st.floats(0.05, 0.95),
    st.sampled_from(["cos", "linear"]),
    st.booleans(),
    st.floats(2.0, 100.0),
    st.floats(10.0, 1e5),
    st.booleans(),
)
def test_one_cycle_lr(
    lrs: list[float],
    g: int,
    epochs: int,
    per_epoch: int,
    pct: float,
    anneal: str,
    three: bool,
    div: float,
    final_div: float,
    by_epochs: bool,
) -> None:
    total = epochs * per_epoch
    e1 = float(pct * total) - 1
    e2 = float(2 * pct * total) - 2
    assume(e1 > 0 and (total - 1 > e1 if not three else (e2 > e1 and total - 1 > e2)))
    peak = [2 * lr for lr in lrs]
    kw: dict[str, Any] = {"epochs": epochs, "steps_per_epoch": per_epoch} if by_epochs else {"total_steps": total}

    def make(o: Any) -> Any:
        return L.OneCycleLR(
            o, peak, pct_start=pct, anneal_strategy=anneal, three_phase=three,
            div_factor=div, final_div_factor=final_div, **kw,
        )

    # torch raises past total_steps: compare every step it can reach (0..total). At total_steps it
    # extrapolates the last phase one step, which under linear annealing can go below 0; lrkit
    # clips that one value at 0 (SPEC: learning rates are non-negative).
    s = check(make, lrs, total + 1, g, chainable=False, clip_at_zero=True)
    assert s(10 * total) == s(total)  # the port holds where torch stops


@settings(max_examples=min(settings.default.max_examples, 25))
@given(
    st.integers(3, 40),
    st.floats(0.05, 0.95),
    st.sampled_from(["cos", "linear"]),
    st.booleans(),
    st.floats(0.5, 0.9),
    st.floats(0.9, 0.99),
    st.booleans(),
)
def test_one_cycle_momentum_is_a_one_cycle_with_swapped_ends(
    total: int, pct: float, anneal: str, three: bool, base: float, high: float, adam: bool
) -> None:
    # OneCycleLR cycles momentum (Adam's beta1) by default, against the lr; the port is the lr
    # curve, and docs/porting.md gives the momentum one: a one_cycle from `high` down to `base` and
    # back (div_factor < 1, final_div_factor 1), driven by HyperparameterScheduler.
    from lrkit.backends.torch import HyperparameterScheduler

    e1 = float(pct * total) - 1
    e2 = float(2 * pct * total) - 2
    assume(e1 > 0 and (total - 1 > e1 if not three else (e2 > e1 and total - 1 > e2)))
    key = "beta1" if adam else "momentum"

    def opt() -> Any:
        p = [torch.zeros(2, requires_grad=True)]
        return torch.optim.AdamW(p, lr=0.1) if adam else torch.optim.SGD(p, lr=0.1, momentum=0.9)

    def value(o: Any) -> float:
        g = o.param_groups[0]
        return float(g["betas"][0] if adam else g["momentum"])

    nat_opt, mine_opt = opt(), opt()
    native = L.OneCycleLR(nat_opt, 0.1, total_steps=total, pct_start=pct, anneal_strategy=anneal,
                          three_phase=three, base_momentum=base, max_momentum=high)
    mine = HyperparameterScheduler(mine_opt, key, lk.one_cycle(
        base, total, pct_start=pct, div_factor=base / high, final_div_factor=1.0,
        anneal="cosine" if anneal == "cos" else "linear", three_phase=three,
    ))
    want, got = [], []
    for _ in range(total):
        want.append(value(nat_opt))
        got.append(value(mine_opt))
        nat_opt.step()
        native.step()
        mine_opt.step()
        mine.step()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@SWEEP
@given(lrs_st, st.integers(0, 2), st.floats(0.0, 1.0), st.integers(0, 25), st.sampled_from(["cos", "linear"]))
def test_swalr(lrs: list[float], g: int, swa: float, epochs: int, strategy: str) -> None:
    check(lambda o: SWALR(o, swa * max(lrs), epochs, strategy), lrs, 3 * epochs + 4, g)


# -- composites -------------------------------------------------------------------------------------


ALL_KINDS = ("step", "multistep", "constant", "linear", "exp", "poly", "cos", "warm", "cyclic", "swa")
MULTIPLICATIVE = ("step", "multistep", "constant", "linear", "exp", "poly")


def child(
    draw: Any, duration: int, kinds: tuple[str, ...] = ALL_KINDS
) -> tuple[Callable[[Any, list[float]], Any], int]:
    """A drawn scheduler factory and a step count where its curve changes (for milestones)."""
    kind = draw(st.sampled_from(kinds))
    d = draw(st.integers(1, duration))
    gamma = draw(st.floats(0.5, 1.0))
    f = draw(factor_st)
    if kind == "step":
        return (lambda o, lrs: L.StepLR(o, d, gamma)), d
    if kind == "multistep":
        return (lambda o, lrs: L.MultiStepLR(o, [d, 2 * d], gamma)), d
    if kind == "constant":
        return (lambda o, lrs: L.ConstantLR(o, f, d)), d
    if kind == "linear":
        return (lambda o, lrs: L.LinearLR(o, f, 1.0, d)), d
    if kind == "exp":
        return (lambda o, lrs: L.ExponentialLR(o, gamma)), d
    if kind == "poly":
        return (lambda o, lrs: L.PolynomialLR(o, d, 2.0)), d
    if kind == "cos":
        return (lambda o, lrs: L.CosineAnnealingLR(o, d, 0.1 * min(lrs))), d
    if kind == "warm":
        return (lambda o, lrs: L.CosineAnnealingWarmRestarts(o, d, 2)), d
    if kind == "cyclic":
        return (lambda o, lrs: L.CyclicLR(o, [lr / 5 for lr in lrs], lrs, d)), d
    return (lambda o, lrs: SWALR(o, 0.5 * min(lrs), d, "linear")), d


@st.composite
def sequential_st(draw: Any) -> tuple[Make, list[float], int, tuple[int, ...]]:
    lrs = draw(lrs_st)
    count = draw(st.integers(2, 3))
    kids = [child(draw, 15) for _ in range(count)]
    milestones, at = [], 0
    for _, d in kids[:-1]:
        # Put each milestone at the previous child's own boundary d - 1, d or d + 1 (or anywhere).
        at += max(1, draw(st.one_of(st.sampled_from([d - 1, d, d + 1]), st.integers(1, 30))))
        milestones.append(at)

    def make(o: Any) -> Any:
        return L.SequentialLR(o, [k(o, lrs) for k, _ in kids], milestones)

    return make, lrs, milestones[-1] + 3 * max(d for _, d in kids) + 3, tuple(milestones)


@SWEEP
@given(sequential_st(), st.integers(0, 2))
def test_sequential_lr(case: Any, g: int) -> None:
    make, lrs, n, milestones = case
    check(make, lrs, n, g, extra=milestones)


def test_sequential_warmup_then_cosine_is_a_readable_join() -> None:
    def make(o: Any) -> Any:
        return L.SequentialLR(o, [L.LinearLR(o, 0.1, 1.0, 5), L.CosineAnnealingLR(o, 20, 0.001)], [5])

    s = check(make, [0.1], 80)
    # torch's 0.1 * 0.1 is 0.010000000000000002; the port prints the value as written (issue 9)
    assert repr(s) == "join([linear(0.01, 0.1, 5), cosine_wave(0.1, 0.001, 20)], [5])"


@st.composite
def chained_st(draw: Any) -> tuple[Make, list[float], int]:
    lrs = draw(lrs_st)
    count = draw(st.integers(2, 3))
    kids = [child(draw, 12, MULTIPLICATIVE) for _ in range(count)]
    if draw(st.booleans()):  # an absolute scheduler last overrides the others
        kids.append(child(draw, 12, ("warm", "cyclic")))

    def make(o: Any) -> Any:
        return L.ChainedScheduler([k(o, lrs) for k, _ in kids])

    return make, lrs, 3 * max(d for _, d in kids) + 5


@SWEEP
@given(chained_st(), st.integers(0, 2))
def test_chained_scheduler(case: Any, g: int) -> None:
    make, lrs, n = case
    check(make, lrs, n, g)


def test_chained_constant_and_exponential_is_a_product() -> None:
    def make(o: Any) -> Any:
        return L.ChainedScheduler([L.ConstantLR(o, 0.5, 4), L.ExponentialLR(o, 0.9)])

    s = check(make, [0.1], 40)
    assert repr(s) == "piecewise_constant([4], [0.05, 0.1]) * exponential(1.0, 0.9, 1)"


# -- epochs, groups, position of the instance ------------------------------------------------------


@SWEEP
@given(lrs_st, st.integers(0, 2), st.integers(1, 7), st.integers(1, 6), gamma_st)
def test_steps_per_epoch(lrs: list[float], g: int, k: int, every: int, gamma: float) -> None:
    g = min(g, len(lrs) - 1)

    def make(o: Any) -> Any:
        return L.SequentialLR(o, [L.LinearLR(o, 0.2, 1.0, 3), L.StepLR(o, every, gamma)], [3])

    n = k * (3 + 3 * every + 2)
    if gamma > 1.0:  # grows past float range long before step 2**53 (SPEC section 11): refused
        with pytest.raises(ValueError, match="gamma"):
            port(make, lrs, g, steps_per_epoch=k)
        return
    want = native_curve(make, lrs, n, g, steps_per_epoch=k)
    s = port(make, lrs, g, steps_per_epoch=k)
    np.testing.assert_allclose(s(np.arange(n)), want, rtol=1e-12, atol=1e-14 * max(lrs))
    # Boundaries k*e - 1, k*e, k*e + 1 one by one.
    for e in (3, 3 + every):
        for t in (k * e - 1, k * e, k * e + 1):
            if t < n:
                assert s(t) == pytest.approx(want[t], rel=1e-12, abs=1e-14 * max(lrs))


def test_groups_have_their_own_curves() -> None:
    lrs = [0.1, 0.02, 0.5]
    make = lambda o: L.StepLR(o, 3, 0.5)  # noqa: E731
    for g in range(3):
        check(make, lrs, 12, g)
    assert [port(make, lrs, g)(0) for g in range(3)] == lrs


def test_port_reads_settings_not_position() -> None:
    opt = optimizer([0.1])
    sched = L.CosineAnnealingLR(opt, 10, 0.01)
    fresh = lk.from_torch(sched)
    for _ in range(7):
        opt.step()
        sched.step()
    assert lk.from_torch(sched) == fresh


def test_round_trip_through_the_lrkit_torch_adapter() -> None:
    """native -> lrkit -> lrkit.backends.torch.LRScheduler reproduces the native in a real loop."""
    from lrkit.backends.torch import LRScheduler

    lrs = [0.1, 0.03]

    def make(o: Any) -> Any:
        return L.SequentialLR(
            o, [L.LinearLR(o, 0.1, 1.0, 5), L.CosineAnnealingLR(o, 20, 0.001), L.StepLR(o, 4, 0.7)], [5, 30]
        )

    n = 70
    wants = [native_curve(make, lrs, n, g) for g in range(2)]
    schedules = [port(make, lrs, g) for g in range(2)]
    opt = optimizer([0.0, 0.0])
    sched = LRScheduler(opt, schedules)
    got = []
    for _ in range(n):
        got.append([float(pg["lr"]) for pg in opt.param_groups])
        opt.zero_grad()
        sum(p.sum() for pg in opt.param_groups for p in pg["params"]).backward()
        opt.step()
        sched.step()
    np.testing.assert_allclose(np.asarray(got).T, np.asarray(wants), rtol=1e-12, atol=1e-14)
    # And the adapter ports back to itself.
    assert lk.from_torch(sched, group=1) == schedules[1]


def _lr_loop(opt: Any, sched: Any, n: int) -> np.ndarray:
    out = []
    for _ in range(n):
        out.append([float(pg["lr"]) for pg in opt.param_groups])
        opt.step()
        sched.step()
    return np.asarray(out)


def test_lrkit_schedulers_inside_torch_composites_are_ported() -> None:
    # A native warmup before lrkit's adapter in a SequentialLR (torch enters the adapter through
    # _get_closed_form_lr at its milestone), on groups where one holds lr_scale; and the adapter as
    # the last, absolute child of a ChainedScheduler.
    from lrkit.backends.torch import LRScheduler

    def opt() -> Any:
        groups = [{"params": [torch.zeros(2, requires_grad=True)]}, {"params": [torch.zeros(2, requires_grad=True)], "lr_scale": 0.5}]
        return torch.optim.SGD(groups, lr=0.1)

    body = lk.cosine(0.1, 0.001, 10)
    o = opt()
    seq = L.SequentialLR(o, [L.LinearLR(o, 0.1, 1.0, 3), LRScheduler(o, body)], [3])
    ports = [lk.from_torch(seq, group=g) for g in range(2)]
    assert ports[0] == lk.join([lk.linear(0.01, 0.1, 3), body], [3])
    native = _lr_loop(o, seq, 20)
    np.testing.assert_allclose(native, np.stack([p(np.arange(20)) for p in ports], axis=1), rtol=1e-12, atol=1e-15)
    assert native[3, 1] == pytest.approx(0.05)  # the milestone step is scaled like the others

    o = opt()
    chained = L.ChainedScheduler([L.ExponentialLR(o, 0.5), LRScheduler(o, [body, lk.constant(0.02)])])
    ports = [lk.from_torch(chained, group=g) for g in range(2)]
    assert ports == [body, lk.constant(0.02)]  # a list is applied as given, lr_scale or not
    np.testing.assert_allclose(_lr_loop(o, chained, 15), np.stack([p(np.arange(15)) for p in ports], axis=1), rtol=1e-12)

    o = opt()
    with pytest.raises(lk.ScheduleError, match=r"lrkit LRScheduler \(child 0\) overwrites the lr"):
        lk.from_torch(L.ChainedScheduler([LRScheduler(o, body), L.ExponentialLR(o, 0.5)]))


def test_lrkit_adapter_ports_with_its_lr_scale_and_a_hyperparameter_scheduler_is_refused() -> None:
    from lrkit.backends.torch import HyperparameterScheduler, LRScheduler

    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr_scale": 0.25}, {"params": [torch.zeros(2, requires_grad=True)]}]
    o = torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    s = lk.linear(0.1, 0.0, 8)
    sched = LRScheduler(o, s)
    assert [lk.from_torch(sched, group=g) for g in range(2)] == [0.25 * s, s]
    np.testing.assert_allclose(_lr_loop(o, sched, 10)[:, 0], 0.25 * s(np.arange(10)), rtol=1e-12)
    with pytest.raises(TypeError, match="HyperparameterScheduler, which drives 'momentum', not the learning rate"):
        lk.from_torch(HyperparameterScheduler(o, "momentum", lk.constant(0.9)))


def test_lrkit_adapter_with_a_plateau_is_refused_naming_its_parts() -> None:
    """Its rates follow the reported metrics: the schedule alone would drop every reduction."""
    from lrkit.backends.torch import LRScheduler

    o = optimizer([0.1])
    sched = LRScheduler(o, lk.constant(0.1), plateau=lk.ReduceOnPlateau(patience=0))
    for m in (1.0, 2.0, 3.0):
        sched.report(m)
    assert o.param_groups[0]["lr"] < 0.1  # reduced: no schedule of the steps gives this run
    with pytest.raises(ValueError, match=r"with a plateau.*`\.schedules\[group\]`.*`\.plateau`"):
        lk.from_torch(sched)
    with pytest.raises(ValueError, match="with a plateau"):
        lk.from_torch(L.SequentialLR(o, [sched, L.ConstantLR(o, 1.0, total_iters=1)], milestones=[3]))


# -- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["LambdaLR", "MultiplicativeLR"])
def test_arbitrary_code_is_refused_by_name(name: str) -> None:
    sched = getattr(L, name)(optimizer([0.1]), lambda e: 0.9)
    with pytest.raises(ValueError, match=name) as info:
        lk.from_torch(sched)
    assert "lrkit constructors" in str(info.value)


def test_transformers_style_lambda_lr_points_to_from_transformers() -> None:
    sched = L.LambdaLR(optimizer([0.1]), lambda e: 1.0)
    with pytest.raises(ValueError, match="from_transformers"):
        lk.from_torch(sched)


def test_subclass_is_refused() -> None:
    class MyStep(L.StepLR):
        def get_lr(self) -> list[float]:
            return [0.5 for _ in self.optimizer.param_groups]

    with pytest.raises(TypeError, match="subclass of torch's StepLR"):
        lk.from_torch(MyStep(optimizer([0.1]), 3))


def test_custom_scale_fn_is_refused() -> None:
    sched = L.CyclicLR(optimizer([0.1]), 0.01, 0.1, 4, scale_fn=lambda x: 0.5)
    with pytest.raises(ValueError, match="scale_fn"):
        lk.from_torch(sched)


@pytest.mark.parametrize("obj", [object(), 3, "StepLR", None])
def test_non_scheduler_is_a_type_error_naming_scheduler(obj: Any) -> None:
    with pytest.raises(TypeError, match="`scheduler`"):
        lk.from_torch(obj)


@pytest.mark.parametrize(
    ("group", "exc"), [(1, ValueError), (-1, ValueError), (1.0, TypeError), ("0", TypeError), (True, TypeError)]
)
def test_bad_group(group: Any, exc: type) -> None:
    with pytest.raises(exc, match=r"`group`.*Received: group="):
        lk.from_torch(L.StepLR(optimizer([0.1]), 3), group=group)


@pytest.mark.parametrize("k", [0, -2, 1.5])
def test_bad_steps_per_epoch(k: Any) -> None:
    with pytest.raises((ValueError, TypeError), match="steps_per_epoch"):
        lk.from_torch(L.StepLR(optimizer([0.1]), 3), steps_per_epoch=k)


def test_chained_with_absolute_scheduler_not_last_is_refused() -> None:
    o = optimizer([0.1])
    chain = L.ChainedScheduler([L.CyclicLR(o, 0.01, 0.1, 4), L.ExponentialLR(o, 0.9)])
    with pytest.raises(ValueError, match="CyclicLR"):
        lk.from_torch(chain)


def test_chained_with_cosine_annealing_is_refused() -> None:
    o = optimizer([0.1])
    chain = L.ChainedScheduler([L.CosineAnnealingLR(o, 10), L.ExponentialLR(o, 0.9)])
    with pytest.raises(ValueError, match="CosineAnnealingLR"):
        lk.from_torch(chain)


def test_nested_composites_are_refused() -> None:
    o = optimizer([0.1])
    inner = L.ChainedScheduler([L.StepLR(o, 3), L.ExponentialLR(o, 0.9)])
    seq = L.SequentialLR(o, [L.ConstantLR(o, 0.5, 2), inner], [2])
    with pytest.raises(ValueError, match="nested"):
        lk.from_torch(seq)


def test_lambda_inside_sequential_is_refused_by_name() -> None:
    o = optimizer([0.1])
    seq = L.SequentialLR(o, [L.ConstantLR(o, 0.5, 2), L.LambdaLR(o, lambda e: 1.0)], [2])
    with pytest.raises(ValueError, match="LambdaLR"):
        lk.from_torch(seq)


def test_no_torch_import_for_non_torch_objects() -> None:
    code = (
        "import sys, lrkit as lk\n"
        "try:\n    lk.from_torch(object())\nexcept TypeError as e:\n    print('TypeError', e)\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("TypeError from_torch: `scheduler`")
    assert out.strip().endswith("False")


# -- a scheduler built after another one moved the lr (issue 11) --------------------------------------

FIRSTS = {
    "exponential": lambda opt: L.ExponentialLR(opt, 0.5),
    "step": lambda opt: L.StepLR(opt, 1, gamma=0.3),
    "linear": lambda opt: L.LinearLR(opt, start_factor=0.25, total_iters=3),
}
SECONDS = {
    "linear": lambda opt: L.LinearLR(opt, start_factor=0.5, total_iters=4),
    "exponential": lambda opt: L.ExponentialLR(opt, 0.9),
    "step": lambda opt: L.StepLR(opt, 3, gamma=0.5),
    "multistep": lambda opt: L.MultiStepLR(opt, [2, 5], gamma=0.5),
    "constant": lambda opt: L.ConstantLR(opt, factor=0.5, total_iters=3),
    "polynomial": lambda opt: L.PolynomialLR(opt, total_iters=6, power=2.0),
    "cosine": lambda opt: L.CosineAnnealingLR(opt, T_max=5, eta_min=0.01),
}


@SWEEP
@given(first=st.sampled_from(sorted(FIRSTS)), k=st.integers(0, 4), second=st.sampled_from(sorted(SECONDS)),
       lr=st.floats(0.05, 1.0), ahead=st.integers(0, 3))
def test_scheduler_built_after_another_moved_the_lr(first: str, k: int, second: str, lr: float, ahead: int) -> None:
    # torch: a chainable scheduler starts from the group's lr when it is built, not from initial_lr.
    # The port (of the second scheduler, possibly stepped `ahead` times already) gives torch's curve.
    opt = optimizer([lr])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = FIRSTS[first](opt)
        for _ in range(k):
            opt.step()
            one.step()
        two = SECONDS[second](opt)
        want = []
        for _ in range(ahead + 20):
            want.append(opt.param_groups[0]["lr"])
            opt.step()
            two.step()
        # a fresh copy of the same history, ported after `ahead` steps of the second scheduler
        opt2 = optimizer([lr])
        one2 = FIRSTS[first](opt2)
        for _ in range(k):
            opt2.step()
            one2.step()
        two2 = SECONDS[second](opt2)
        for _ in range(ahead):
            opt2.step()
            two2.step()
    s = lk.from_torch(two2)
    np.testing.assert_allclose(s(np.arange(len(want))), want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda o: L.LinearLR(o, 0.1, 0.3, 5), "linear(0.01, 0.03, 5)"),
        (lambda o: L.ConstantLR(o, factor=0.3, total_iters=4), "piecewise_constant([4], [0.03, 0.1])"),
        (lambda o: L.MultiStepLR(o, [0, 3], gamma=0.1), "multistep(0.01, [3], 0.1)"),
        (lambda o: L.OneCycleLR(o, max_lr=0.3, total_steps=50, div_factor=3.0),
         "one_cycle(0.3, 50, div_factor=3.0)"),  # 0.3 / 0.1 = 2.9999999999999996 in float64
    ],
)
def test_printed_ports_carry_no_float_noise(make: Make, expected: str) -> None:
    s = lk.from_torch(make(optimizer([0.1])))
    assert repr(s) == expected
    assert "0000000" not in repr(s) and "9999999" not in repr(s)


def test_linear_after_exponential_starts_from_the_moved_lr() -> None:
    opt = optimizer([0.37])
    e = L.ExponentialLR(opt, 0.5)
    opt.step()
    e.step()
    lin = L.LinearLR(opt, start_factor=0.5, total_iters=4)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0925)  # torch: 0.185 * 0.5
    s = lk.from_torch(lin)
    assert s == lk.linear(0.0925, 0.185, 4)


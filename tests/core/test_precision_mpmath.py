"""The float64 core against mpmath at 50 digits, on random parameters (issue 11).

Each curve is written here straight from SPEC.md in mpmath and compared with lrkit's scalar and numpy
paths at random steps and at the steps where a naive float formula loses relative precision: the
bottom of a cosine wave (``t = T + 1`` of ``T = 333,333,333`` gives ``8.2e-18`` of the amplitude),
the end of a decay or of a restart cycle. The bound is 1e-15 relative (about 4 ulps): the value's
own rounding, not the cancellation of a ``1 + cos`` or ``1 - t / T``.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import need
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit as lk
from lrkit._ops import NumpyOps

mpmath = need("mpmath")
mpmath.mp.dps = 50
mpf = mpmath.mpf

REL = 1e-15

values = st.floats(1e-6, 10.0)
lengths = st.one_of(st.integers(1, 1000), st.integers(1000, 10**9), st.just(333_333_333))


def check(s: lk.Schedule, exact: object, steps: list[int], end: float = 0.0) -> None:
    """1e-15 relative; plus one ulp of ``end`` for a linear ramp ``start r + end (1 - r)`` rising from
    a ``start`` far below ``end`` (``1 - r`` rounds by an ulp). Cosines get no absolute slack, rising
    ones included, so their smallest values must keep their relative precision."""
    got_scalar = [s(t) for t in steps]
    got_vector = s(np.asarray(steps, dtype=np.int64))
    for t, a, b in zip(steps, got_scalar, got_vector):
        want = exact(t)  # type: ignore[operator]
        tol = REL * abs(want) + 2.0**-52 * end + mpf(10) ** -300
        assert abs(mpf(a) - want) <= tol, f"{s!r} at {t}: {a!r} vs {mpmath.nstr(want, 20)} (scalar)"
        assert abs(mpf(float(b)) - want) <= tol, f"{s!r} at {t}: {b!r} vs {mpmath.nstr(want, 20)} (numpy)"


def near(n: int, extra: list[int]) -> list[int]:
    steps = {0, 1, n - 1, n, n + 1, 2 * n - 1, 2 * n, 2 * n + 1, 3 * n + 1, *extra}
    return sorted(t for t in steps if 0 <= t <= 2**53)


@settings(max_examples=40)
@given(start=values, n=lengths, data=st.data())
def test_cosine_wave_near_the_bottom(start: float, n: int, data: st.DataObject) -> None:
    # end = 0: the value at the bottom of each wave is (pi (t - T) / 2T)^2 of the amplitude.
    s = lk.cosine_wave(start, 0.0, n)
    extra = data.draw(st.lists(st.integers(0, 4 * n), max_size=4))

    def exact(t: int) -> object:
        return mpf(start) * (1 + mpmath.cos(mpmath.pi * mpf(t) / n)) / 2

    check(s, exact, near(n, extra))


@settings(max_examples=40)
@given(start=values, end=st.one_of(st.just(0.0), values), n=st.integers(1, 10**7),
       cycles=st.one_of(st.just(0.5), st.floats(0.01, 5.0)), restart=st.booleans(), data=st.data())
def test_cosine_wave_any_cycles(start: float, end: float, n: int, cycles: float, restart: bool,
                                data: st.DataObject) -> None:
    s = lk.cosine_wave(start, end, n, cycles=cycles, restart=restart)

    def exact(t: int) -> object:
        phase = mpf(t) * mpf(cycles) / n  # the float cycles as written, exactly
        if restart:
            w = (1 + mpmath.cos(mpmath.pi * (phase - mpmath.floor(phase)))) / 2
        else:
            w = (1 + mpmath.cos(2 * mpmath.pi * phase)) / 2
        return mpf(end) + (mpf(start) - mpf(end)) * w

    # the bottom of wave j is at t = (j + 1/2) T / cycles; a restart at j T / cycles
    period = n / cycles
    marks = [int(j * period / 2) + d for j in range(1, 6) for d in (-1, 0, 1)]
    steps = [t for t in near(n, data.draw(st.lists(st.integers(0, 5 * n), max_size=4)) + marks) if t >= 0]
    if restart:
        # exclude steps within rounding of a restart: which side a float phase lands on is the
        # documented transformers convention (tests/core/test_formulas.py covers it)
        steps = [t for t in steps if abs(mpf(t) * mpf(cycles) / n - mpmath.nint(mpf(t) * mpf(cycles) / n)) > 1e-9]
    check(s, exact, steps)  # rising too (start < end): no slack in ulps of `end`


@settings(max_examples=40)
@given(start=values, end=values, n=lengths, data=st.data())
def test_cosine_and_linear(start: float, end: float, n: int, data: st.DataObject) -> None:
    steps = near(n, data.draw(st.lists(st.integers(0, 2 * n), max_size=4)))

    def cos_exact(t: int) -> object:
        x = mpf(min(t, n)) / n
        return mpf(end) + (mpf(start) - mpf(end)) * (1 + mpmath.cos(mpmath.pi * x)) / 2

    def lin_exact(t: int) -> object:
        return mpf(start) + (mpf(end) - mpf(start)) * mpf(min(t, n)) / n

    check(lk.cosine(start, end, n), cos_exact, steps)  # rising too: no slack in ulps of `end`
    check(lk.cosine(start, 0.0, n), lambda t: mpf(start) * (1 + mpmath.cos(mpmath.pi * mpf(min(t, n)) / n)) / 2, steps)
    check(lk.linear(start, end, n), lin_exact, steps, max(start, end))


@settings(max_examples=40)
@given(start=values, n=lengths, power=st.floats(0.1, 4.0), data=st.data())
def test_polynomial_to_zero(start: float, n: int, power: float, data: st.DataObject) -> None:
    s = lk.polynomial(start, 0.0, n, power)

    def exact(t: int) -> object:
        return mpf(start) * (1 - mpf(min(t, n)) / n) ** mpf(power)

    check(s, exact, near(n, data.draw(st.lists(st.integers(0, 2 * n), max_size=4))))


@settings(max_examples=40)
@given(start=values, timescale=st.integers(1, 10**6), data=st.data())
def test_inverse_sqrt(start: float, timescale: int, data: st.DataObject) -> None:
    s = lk.inverse_sqrt(start, timescale)
    steps = data.draw(st.lists(st.integers(0, 2**53), min_size=1, max_size=6))
    check(s, lambda t: mpf(start) / mpmath.sqrt(1 + mpf(t) / timescale), steps)


@settings(max_examples=40)
@given(start=values, n=st.integers(1, 10**6), decay=st.floats(0.2, 1.0), data=st.data())
def test_restart_cycles_end(start: float, n: int, decay: float, data: st.DataObject) -> None:
    # cosine_restarts / restarts with whole cycles: the last steps of a cycle are tiny values.
    s = lk.cosine_restarts(start, 0.0, n, decay=decay)
    r = lk.restarts(start, 0.0, n, decay=decay)

    def exact(t: int) -> object:
        i, local = divmod(t, n)
        return mpf(start) * mpf(decay) ** i * (1 + mpmath.cos(mpmath.pi * mpf(local) / n)) / 2

    steps = near(n, data.draw(st.lists(st.integers(0, 4 * n), max_size=4)))
    check(s, exact, steps)
    check(r, exact, steps)


def test_the_issue_11_case() -> None:
    t_max = 333_333_333
    s = lk.cosine_wave(0.37, 0.0, t_max)
    exact = mpf(0.37) * (1 + mpmath.cos(mpmath.pi * mpf(t_max + 1) / t_max)) / 2
    assert float(exact) == pytest.approx(8.2e-18, rel=0.01)
    assert abs(mpf(s(t_max + 1)) - exact) <= REL * exact


# -- rising curves near their start -------------------------------------------------------------
# A curve rising from `start` to `end` (start < end) is small near `start`: written as
# `end - (end - start) * (1 - tiny)` it would be accurate to ulps of the amplitude only (1e-13 of the
# value at 1/650 of the amplitude). Each is compared at b - 1, b, b + 1 of where it starts rising,
# within EPS_REL (4 machine epsilons) relative to the exact value itself (no slack in units of `end`).

EPS_REL = 4 * 2.0**-52
#: Absolute slack for subnormal values (a top start * decay**i past 1e-308), as ``check`` gives.
TINY = mpf(10) ** -300

lows = st.one_of(st.just(0.0), st.floats(1e-9, 1e-3))
highs = st.floats(0.01, 10.0)


def check_ulps(s: lk.Schedule, exact: object, steps: list[int]) -> None:
    """Scalar (int and float steps) and numpy values within ``EPS_REL`` of the exact value, relative."""
    steps = sorted({t for t in steps if t >= 0})
    got_vector = s(np.asarray(steps, dtype=np.int64))
    for t, b in zip(steps, got_vector):
        want = exact(t)  # type: ignore[operator]
        for path, got in (("int", s(t)), ("float", s(float(t))), ("numpy", float(b))):
            assert abs(mpf(got) - want) <= EPS_REL * want + TINY, (
                f"{s!r} at {t}: {got!r} vs {mpmath.nstr(want, 20)} ({path}, "
                f"{float(abs(mpf(got) - want) / want / 2.0**-52):.2f} eps)")


def rise(lo: float, hi: float, x: object) -> object:
    """``lo + (hi - lo) * (1 - cos(pi x)) / 2`` exactly (the float parameters as written)."""
    return mpf(lo) + (mpf(hi) - mpf(lo)) * (1 - mpmath.cos(mpmath.pi * x)) / 2


@settings(max_examples=30)
@given(lo=lows, hi=highs, n=lengths, b=st.integers(1, 10**6))
def test_rising_cosine_near_its_start(lo: float, hi: float, n: int, b: int) -> None:
    check_ulps(lk.cosine(lo, hi, n), lambda t: rise(lo, hi, mpf(min(t, n)) / n), [0, 1, 2, 3, n - 1, n, n + 1])
    # after another piece: b - 1 (the falling piece before), b, b + 1
    s = lk.join([lk.cosine(hi, lo, b), lk.cosine(lo, hi, n)], [b])

    def joined(t: int) -> object:
        return rise(hi, lo, mpf(t) / b) if t < b else rise(lo, hi, mpf(min(t - b, n)) / n)

    check_ulps(s, joined, [b - 1, b, b + 1, b + 2, b + n - 1, b + n, b + n + 1])


@settings(max_examples=30)
@given(peak=highs, n=st.integers(1000, 10**7), pct=st.floats(0.05, 0.45), div=st.floats(2.0, 1e4),
       three=st.booleans())
def test_rising_one_cycle_near_its_start(peak: float, n: int, pct: float, div: float, three: bool) -> None:
    s = lk.one_cycle(peak, n, pct_start=pct, div_factor=div, three_phase=three)
    initial = peak / div
    e1 = float(pct * n) - 1  # torch's phase end, as a float

    def exact(t: int) -> object:
        return rise(initial, peak, mpf(t) / mpf(e1))

    check_ulps(s, exact, [t for t in (0, 1, 2, 3) if t <= e1])


@settings(max_examples=30)
@given(lo=lows, hi=highs, n=st.integers(1, 10**6), decay=st.one_of(st.just(1.0), st.floats(0.2, 1.0)),
       data=st.data())
def test_rising_restart_cycles_near_their_starts(lo: float, hi: float, n: int, decay: float,
                                                  data: st.DataObject) -> None:
    # cosine_restarts / restarts(shape="cosine") from lo * decay**i up to hi: each cycle starts at k n.
    ks = data.draw(st.lists(st.integers(1, 10**3), min_size=1, max_size=3))
    steps = [k * n + d for k in (0, *ks) for d in (-1, 0, 1, 2)]

    def exact(t: int) -> object:
        i, local = divmod(t, n)
        return rise(mpf(lo) * mpf(decay) ** i, hi, mpf(local) / n)

    check_ulps(lk.cosine_restarts(lo, hi, n, decay=decay), exact, steps)
    check_ulps(lk.restarts(lo, hi, n, decay=decay), exact, steps)


@settings(max_examples=30)
@given(hi=highs, ratio=st.floats(0.05, 0.9), n=st.integers(1, 10**5), decay=st.floats(0.3, 0.9))
def test_restart_cycles_crossing_their_end(hi: float, ratio: float, n: int, decay: float) -> None:
    # start above a positive end with decay < 1: the first cycles fall, then tops fall below `end` and
    # the cycles rise; each keeps the precision of its own direction.
    lo = hi * ratio
    cross = next(i for i in range(1000) if hi * decay**i < lo)
    steps = [k * n + d for k in (0, 1, cross, cross + 1, cross + 5) for d in (-1, 0, 1, 2)]

    def exact(t: int) -> object:
        i, local = divmod(t, n)
        top = mpf(hi) * mpf(decay) ** i
        return mpf(lo) + (top - mpf(lo)) * (1 + mpmath.cos(mpmath.pi * mpf(local) / n)) / 2

    check_ulps(lk.cosine_restarts(hi, lo, n, decay=decay), exact, steps)
    check_ulps(lk.restarts(hi, lo, n, decay=decay), exact, steps)


@settings(max_examples=30)
@given(lo=lows, hi=highs, n=st.integers(1, 10**7), cycles=st.one_of(st.just(0.5), st.floats(0.01, 5.0)),
       restart=st.booleans())
def test_rising_cosine_wave_near_its_tops(lo: float, hi: float, n: int, cycles: float, restart: bool) -> None:
    # cosine_wave(lo, hi, ...) is at lo (its start) at each whole phase t * cycles / n = j.
    s = lk.cosine_wave(lo, hi, n, cycles=cycles, restart=restart)

    def exact(t: int) -> object:
        phase = mpf(t) * mpf(cycles) / n
        return rise(lo, hi, phase - mpmath.floor(phase) if restart else 2 * phase)

    steps = [int(j * n / cycles) + d for j in (0, 1, 2, 7) for d in (-1, 0, 1, 2)]
    if restart:  # which side of a restart a step within rounding of it lands is the natives' (test_formulas)
        steps = [t for t in steps if abs(mpf(t) * mpf(cycles) / n - mpmath.nint(mpf(t) * mpf(cycles) / n)) > 1e-9]
    check_ulps(s, exact, steps)


@settings(max_examples=30)
@given(lo=lows, hi=highs, n=st.integers(1, 10**6), at=st.integers(1, 1000))
def test_rising_warmup_cooldown_and_wsd(lo: float, hi: float, n: int, at: int) -> None:
    # warmup(shape="cosine") from lo to hi, then hi; a cosine cooldown from lo up to hi; a WSD whose
    # cosine decay rises from its peak lo to hi.
    check_ulps(lk.warmup(lk.constant(hi), n, start=lo, shape="cosine"),
               lambda t: rise(lo, hi, mpf(min(t, n)) / n), [0, 1, 2, n - 1, n, n + 1])
    check_ulps(lk.cooldown(lk.constant(lo), at, n, end=hi, shape="cosine"),
               lambda t: mpf(lo) if t < at else rise(lo, hi, mpf(min(t - at, n)) / n),
               [at - 1, at, at + 1, at + 2, at + n])
    if lo > 0.0:
        wsd = lk.warmup_stable_decay(lo, 0, at, n, end=hi, shape="cosine")
        check_ulps(wsd, lambda t: mpf(lo) if t < at else rise(lo, hi, mpf(min(t - at, n)) / n),
                   [at - 1, at, at + 1, at + 2, at + n])


def test_a_join_mixing_rising_and_falling_cosines_gathered(monkeypatch: pytest.MonkeyPatch) -> None:
    # Enough alike pieces that numpy evaluates the join group by group (Ops.gathered_piecewise): rising
    # and falling cosines are separate groups (whether a piece rises is a setting), each in its own
    # form; every piece within EPS_REL of the exact value at b - 1, b, b + 1 of its start, and the
    # same bits as each piece evaluated on its own.
    pieces, edges, b = [], [], 0
    for i in range(40):
        lo, hi, n = 1e-4 * (i + 1), 0.3 + 0.01 * i, 50 + 7 * i
        pieces.append(lk.cosine(lo, hi, n) if i % 2 else lk.cosine(hi, lo, n))
        b += n
        edges.append(b)
    s = lk.join(pieces, edges[:-1])
    starts = [0, *edges[:-1]]
    groups = {(g.cls.__name__, g.settings.get("_rising"), len(g.members)) for g in s._gather_plan().groups}  # type: ignore[attr-defined]
    assert groups == {("Cosine", True, 20), ("Cosine", False, 20)}

    gathered: list[int] = []
    real = NumpyOps.gathered_piecewise
    monkeypatch.setattr(NumpyOps, "gathered_piecewise", lambda self, *a: gathered.append(1) or real(self, *a))  # type: ignore[func-returns-value]
    t = np.arange(edges[-1] + 3)
    values = s(t)
    assert gathered
    alone = np.concatenate([p(np.arange(p.steps)) for p in pieces] + [pieces[-1](np.arange(pieces[-1].steps, pieces[-1].steps + 3))])  # type: ignore[attr-defined]
    np.testing.assert_array_equal(values, alone)

    def exact(t: int) -> object:
        i = sum(1 for e in edges[:-1] if e <= t)
        p = pieces[i]
        return rise(p.start, p.end, mpf(min(t - starts[i], p.steps)) / p.steps)  # type: ignore[attr-defined]

    for k in sorted({e + d for e in starts for d in (-1, 0, 1, 2)} - {-1}):
        want = exact(k)
        assert abs(mpf(float(values[k])) - want) <= EPS_REL * want, (k, values[k])

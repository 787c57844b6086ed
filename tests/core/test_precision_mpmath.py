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

mpmath = need("mpmath")
mpmath.mp.dps = 50
mpf = mpmath.mpf

REL = 1e-15

values = st.floats(1e-6, 10.0)
lengths = st.one_of(st.integers(1, 1000), st.integers(1000, 10**9), st.just(333_333_333))


def check(s: lk.Schedule, exact: object, steps: list[int], end: float = 0.0) -> None:
    """1e-15 relative; plus one ulp of ``end`` for a curve ``end + (start - end) w`` rising from a
    ``start`` far below ``end`` (``start - end`` rounds by an ulp of ``end``). A curve to 0 gets no
    absolute slack, so its smallest values must keep their relative precision."""
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
    check(s, exact, steps, end)


@settings(max_examples=40)
@given(start=values, end=values, n=lengths, data=st.data())
def test_cosine_and_linear(start: float, end: float, n: int, data: st.DataObject) -> None:
    steps = near(n, data.draw(st.lists(st.integers(0, 2 * n), max_size=4)))

    def cos_exact(t: int) -> object:
        x = mpf(min(t, n)) / n
        return mpf(end) + (mpf(start) - mpf(end)) * (1 + mpmath.cos(mpmath.pi * x)) / 2

    def lin_exact(t: int) -> object:
        return mpf(start) + (mpf(end) - mpf(start)) * mpf(min(t, n)) / n

    check(lk.cosine(start, end, n), cos_exact, steps, end)
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

"""Precision where a naive formula loses it: the end of a long cosine decay, huge steps."""

from __future__ import annotations

from decimal import Decimal, getcontext

import numpy as np
import pytest
from helpers import need
from hypothesis import given
from hypothesis import strategies as st

import lrkit as lk

need("core")

getcontext().prec = 50


def dec_cos(x: Decimal) -> Decimal:
    """cos(x) by its Taylor series in 50-digit decimals (|x| <= 4)."""
    term, total, k, x2 = Decimal(1), Decimal(1), 0, x * x
    while abs(term) > Decimal("1e-45"):
        k += 2
        term = -term * x2 / (k * (k - 1))
        total += term
    return total


# pi to 50 digits, so no float rounding enters the reference.
PI = Decimal("3.14159265358979323846264338327950288419716939937510")


def exact_cosine(start: float, end: float, steps: int, t: int) -> float:
    x = Decimal(min(t, steps)) / Decimal(steps)
    half = (1 + dec_cos(PI * x)) / 2
    return float(Decimal(end) + (Decimal(start) - Decimal(end)) * half)


@pytest.mark.parametrize("t", [999_990, 999_999, 999_999 - 1, 999_000, 500_000, 1])
def test_end_of_a_million_step_cosine_keeps_full_relative_precision(t: int) -> None:
    n = 1_000_000
    s = lk.cosine(1.0, 0.0, n)
    exact = exact_cosine(1.0, 0.0, n, t)
    assert s(t) == pytest.approx(exact, rel=1e-15, abs=0)
    assert s(np.array([t]))[0] == pytest.approx(exact, rel=4e-15, abs=0)


def test_the_naive_form_would_be_far_off() -> None:
    """Guard that the test above can fail: ``(1 + cos)/2`` is ~1e-6 relative off at step n - 1."""
    import math

    n, t = 1_000_000, 999_999
    naive = (1 + math.cos(math.pi * t / n)) / 2
    exact = exact_cosine(1.0, 0.0, n, t)
    assert abs(naive - exact) / exact > 1e-7


@given(n=st.integers(1000, 10**8), back=st.integers(1, 999), start=st.floats(1e-3, 10.0))
def test_cosine_tail_precision(n: int, back: int, start: float) -> None:
    t = n - back
    exact = exact_cosine(start, 0.0, n, t)
    assert lk.cosine(start, 0.0, n)(t) == pytest.approx(exact, rel=1e-14, abs=0)
    # Composition shifts the step exactly before the leaf converts it.
    w = 10**9
    assert lk.warmup(lk.cosine(start, 0.0, n), w)(w + t) == pytest.approx(exact, rel=1e-14, abs=0)


@pytest.mark.parametrize("b", [2**53 - 1000, 2**53 - 1, 2**53])
def test_huge_steps_stay_exact_under_composition(b: int) -> None:
    # Past 2**53 a float step could not tell b from b + 1: Python ints stay ints through joins.
    # (Boundaries themselves are at most 2**53, SPEC section 11; the steps may go past it.)
    s = lk.join([lk.constant(1.0), lk.linear(0.0, 1.0, 4)], [b])
    assert [s(b - 1), s(b), s(b + 1), s(b + 2)] == [1.0, 0.0, 0.25, 0.5]
    assert lk.per_epoch(lk.step(1.0, 0.5, 1), 3)(3 * 10**12 + 2) == 0.0
    assert lk.per_epoch(lk.multistep(1.0, [10**12], 0.5), 3)(3 * 10**12) == 0.5
    assert lk.per_epoch(lk.multistep(1.0, [10**12], 0.5), 3)(3 * 10**12 - 1) == 1.0


def test_python_ints_past_float_range() -> None:
    assert lk.cosine(1.0, 0.5, 10)(10**400) == 0.5
    assert lk.join([lk.constant(1.0), lk.linear(0.0, 1.0, 4)], [2**53])(2**53 + 10**400 + 2) == 1.0


@pytest.mark.parametrize("k", [10, 31, 40, 52])
def test_restarts_with_a_whole_period_mult_restart_exactly(k: int) -> None:
    # period 1, period_mult 2: cycle k starts at 2**k - 1 exactly (torch CosineAnnealingWarmRestarts).
    s = lk.cosine_restarts(1.0, 0.0, 1, period_mult=2.0)
    b = 2**k - 1
    assert s(b) == 1.0 and s(np.array([b]))[0] == 1.0
    assert s(b - 1) < 1e-4  # the last step of the previous cycle, near its end value 0

"""Hostile and absurd arguments (SPEC section 11, issue 13): refused at construction, or safe at every step.

Every schedule declares the interval its values stay in (``Schedule.bounds``). Construction either
refuses (``ValueError``/``TypeError`` naming the argument, with what was received), or every value at
any step up to ``2**53`` is finite, non-negative and inside ``bounds``, on Python floats and numpy.
The reproducers of issue 13 are pinned one by one; hypothesis then fuzzes constructor arguments over
the whole float range and random composition trees (the traced backend: ``tests/backends/test_hostile_jax.py``).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from helpers import need
from hypothesis import example, given, settings
from hypothesis import strategies as st
from schedule_strategies import MAX_STEP, Call, hostile_leaves, hostile_steps, hostile_trees, trees

import lrkit as lk

need("core")

#: ``owner: `argument`...Received: ...`` (the owner may be dotted: ``cosine.bounds``).
NAMED = re.compile(r"^[\w.]+: .*`\w+.*Received: ", re.S)


def check_refusal(exc: Exception) -> None:
    assert isinstance(exc, (ValueError, TypeError)), repr(exc)
    assert NAMED.match(str(exc)), f"refusal names no argument: {exc!r}"


def check_schedule(s: lk.Schedule, steps: list[int]) -> None:
    """Finite, non-negative and inside ``s.bounds`` at every step, on Python floats and numpy."""
    lo, hi = s.bounds
    assert 0.0 <= lo <= hi < math.inf, (s, lo, hi)
    for t in steps:
        v = s(t)
        assert type(v) is float and lo <= v <= hi, f"{s!r} at step {t}: {v!r} outside [{lo!r}, {hi!r}]"
    for arr in (np.asarray(steps, dtype=np.int64), np.asarray(steps, dtype=np.float64)):
        vs = s(arr)
        bad = ~((vs >= lo) & (vs <= hi))  # NaN is bad too
        assert not bad.any(), f"{s!r} ({arr.dtype}) at steps {arr[bad][:5]}: {vs[bad][:5]} outside [{lo!r}, {hi!r}]"
    s.breakpoints(MAX_STEP + 1)
    _ = s.duration


#: Steps of the pinned examples (which draw none).
FIXED_STEPS = [0, 1, 2, 3, 10, 1000, 2**31 - 1, 2**52, MAX_STEP - 1, MAX_STEP]


def build(call: Call) -> lk.Schedule | None:
    try:
        return call.build()
    except (ValueError, TypeError) as exc:
        check_refusal(exc)
        return None


# -- the reproducers of issue 13 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: lk.linear(0.0, 1.0, 10**400), "linear: `steps` must be at most 2**53"),
        (lambda: lk.warmup(lk.constant(1.0), 10**400), "warmup: `steps` must be at most 2**53"),
        (lambda: lk.linear(0.0, 1.0, 2**53 + 1), "linear: `steps` must be at most 2**53"),
        (lambda: lk.join([lk.constant(1.0)] * 2, [2**53 + 1]), "join: `boundaries[0]` must be at most 2**53"),
        (lambda: lk.multistep(1.0, [2**53 + 1], 0.5), "multistep: `milestones[0]` must be at most 2**53"),
        (lambda: lk.cyclic(0.0, 1.0, 2**53, 1), "cyclic: `up` + `down` (one cycle) must be at most 2**53"),
        (lambda: lk.cyclic(0.0, 1.0, 2**52 + 1), "cyclic: `up` + `down` (one cycle) must be at most 2**53"),
        (lambda: lk.cosine_restarts(1.0, 0.0, 100, period_mult=1e307), "cosine_restarts: `period_mult`"),
        (lambda: lk.cosine_wave(1.0, 0.0, 10, cycles=1e308), "cosine_wave: `cycles`"),
        (lambda: lk.one_cycle(1.0, 100, div_factor=1e-310), "one_cycle: `div_factor`"),
        (lambda: lk.one_cycle(1.0, 100, final_div_factor=1e-310), "one_cycle: `final_div_factor`"),
        (lambda: lk.cyclic(1.0, 0.0, 10, mode="exp_range", gamma=2.0), "cyclic: `gamma`"),
        (lambda: lk.cyclic(0.0, 1.0, 10, mode="exp_range", gamma=2.0), "cyclic: `gamma`"),
        (lambda: lk.cyclic(1.0, 1.0, 10, mode="exp_range", gamma=2.0), "cyclic: `gamma`"),  # 0 * inf
        (lambda: lk.constant(1e308) + lk.constant(1e308), "sum: `schedules`"),
        (lambda: lk.constant(1e308) * lk.constant(1e308), "product: `schedules`"),
        (lambda: lk.constant(1e200) * lk.constant(1e200) * lk.constant(1e-300), "product: `schedules`"),
        (lambda: lk.constant(1e300) * 1e10, "scale: `factor`"),
        (lambda: 1e200 * (1e200 * lk.constant(1.0)), "scale: `factor`"),
        (lambda: lk.constant(1e300) ** 2.0, "power: `exponent`"),
        (lambda: lk.exponential(1.0, 1.1, 1), "exponential: `rate`"),
        (lambda: lk.exponential(1.0, 2.0, 10**6, staircase=True), "exponential: `rate`"),
        (lambda: lk.step(1.0, 2.0, 1000), "step: `gamma`"),
        (lambda: lk.multistep(1e300, [1, 2, 3], 1e8), "multistep: `gamma`"),
        (lambda: lk.cosine_restarts(1.0, 0.0, 10, decay=1.5), "cosine_restarts: `decay`"),
        (lambda: lk.warmup(lk.constant(1e300), 10, start=1e-300, shape="exponential"), "warmup: `start`"),
        (lambda: lk.shift(lk.exponential(1.0, 1.0 + 6e-14, 1), 2**53), "shift: `steps`"),  # e**540 at 2**53
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_issue_13_reproducers_are_refused_naming_the_argument(make, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value).startswith(words), str(info.value)
    check_refusal(info.value)


def test_exponential_breakpoints_with_a_subnormal_end() -> None:
    # end / start underflows to 0 (math domain error before): the crossing is found from the logs.
    s = lk.exponential(527.0, 0.5, 10, end=5e-324)
    assert s.breakpoints(1000) == ()
    x = 10 * (math.log(5e-324) - math.log(527.0)) / math.log(0.5)  # ~10831.5
    assert s.breakpoints(20_000) == (math.floor(x), math.ceil(x))
    assert s(math.ceil(x)) == 5e-324 and s(0) == 527.0


def test_integral_floats_are_durations_and_fractions_are_not() -> None:
    # SPEC section 7: 1e4 is taken as the integer it equals, 10.5 is refused.
    assert lk.linear(0.0, 1.0, 1e4) == lk.linear(0.0, 1.0, 10_000)
    assert type(lk.linear(0.0, 1.0, 1e4).steps) is int
    assert lk.multistep(1.0, [np.float64(3.0)], 0.5) == lk.multistep(1.0, [3], 0.5)
    with pytest.raises((TypeError, ValueError), match=r"linear: `steps` must be a positive integer.*Received: steps=10\.5"):
        lk.linear(0.0, 1.0, 10.5)
    with pytest.raises(ValueError, match=r"`steps` must be at most 2\*\*53.*Received: steps=1e\+300"):
        lk.linear(0.0, 1.0, 1e300)


@pytest.mark.parametrize("n", [MAX_STEP - 1, MAX_STEP])
def test_durations_up_to_2_53_are_accepted_and_exact(n: int) -> None:
    s = lk.linear(0.0, 1.0, n)
    assert s(n - 1) < 1.0 == s(n) == s(n + 1)
    assert lk.join([lk.constant(1.0), lk.constant(0.5)], [n])(n - 1) == 1.0
    # One cycle of n steps (torch's formula rounds 1 + t / n near the top: only the range is pinned).
    check_schedule(lk.cyclic(0.0, 1.0, n - 1, 1), [0, 1, n // 2, n - 2, n - 1, n])


@pytest.mark.parametrize(
    "make",
    [
        # At the edge of what is refused: these stay finite up to 2**53 and are accepted.
        lambda: lk.constant(1.7976931348623157e308),
        lambda: lk.constant(1e154) * lk.constant(1e154),
        lambda: lk.constant(1e308) + lk.constant(7e307),
        lambda: lk.exponential(1.0, 1.0 + 2**-52, 1),  # e**2 at step 2**53
        lambda: lk.exponential(1.0, 1e10, 1, end=1e300),
        lambda: lk.exponential(1e-300, 2.0, 2**44),  # 2**512 * 1e-300 at step 2**53
        lambda: lk.step(1.0, 1e300, 2**53),
        lambda: lk.cyclic(1.0, 0.0, 10, mode="exp_range", gamma=1.0),
        lambda: lk.cyclic(1.0, 0.0, 10, mode="exp_range", gamma=0.5),
        lambda: lk.cosine_restarts(1.0, 0.0, 10, period_mult=2.0, decay=1.5),  # ~50 cycles to 2**53
        lambda: lk.one_cycle(1e300, 100, div_factor=1e-8, final_div_factor=1e8),
        lambda: lk.cosine_wave(1.0, 0.0, 10, cycles=1e290),
        lambda: lk.warmup(lk.constant(1e300), 10, start=1e-7, shape="exponential"),
    ],
)
def test_extreme_but_finite_constructions_are_accepted(make) -> None:  # type: ignore[no-untyped-def]
    s = make()
    check_schedule(s, [0, 1, 2, 10, 99, 100, 101, 2**31 - 1, 2**52, MAX_STEP - 1, MAX_STEP])


def test_bounds_of_exact_nodes_are_exact() -> None:
    assert lk.constant(0.5).bounds == (0.5, 0.5)
    assert lk.piecewise_constant([3, 7], [0.5, 2.0, 0.25]).bounds == (0.25, 2.0)
    assert (3.0 * lk.piecewise_constant([3], [0.5, 2.0])).bounds == (1.5, 6.0)
    assert (lk.constant(0.5) * lk.constant(4.0) + lk.constant(1.0)).bounds == (3.0, 3.0)
    lo, hi = lk.cosine(1.0, 0.1, 100).bounds  # a formula that rounds: a few ulps of slack
    assert 0.1 - 1e-12 < lo <= 0.1 and 1.0 <= hi < 1.0 + 1e-12
    with pytest.raises(ValueError, match="total_steps"):
        _ = lk.cosine(1.0, 0.0, "50%").bounds
    assert lk.cosine(1.0, 0.0, "50%").bind(total_steps=10).bounds[1] >= 1.0


def test_percent_durations_are_checked_once_bound() -> None:
    s = lk.exponential(1.0, 1.1, "10%")  # the growth is known only once the run's length is
    assert s.unbound
    with pytest.raises(ValueError, match="exponential: `rate`"):
        s.bind(total_steps=1000)


# -- fuzzing ------------------------------------------------------------------------------------------


@settings(max_examples=max(20, settings.default.max_examples))
@given(call=hostile_leaves(), data=st.data())
@example(call=Call("cyclic", 0.0, 1.0, 2**53, 1), data=None)
@example(call=Call("constant", 10**400), data=None)  # OverflowError converting it to float
@example(call=Call("linear", 0.0, 10**400, 10), data=None)
@example(call=Call("one_cycle", 0.0, 2, 0.5), data=None)  # an empty phase: named `pct_start`
@example(call=Call("multistep", 0.0, [1, 1], 1.3407807929942597e154), data=None)  # 0 * inf at step 1
def test_any_leaf_is_refused_or_safe_everywhere(call: Call, data: st.DataObject) -> None:
    s = build(call)
    if s is not None:
        check_schedule(s, data.draw(hostile_steps(s)) if data is not None else FIXED_STEPS)


@settings(max_examples=max(20, settings.default.max_examples))
@given(call=hostile_trees(), data=st.data())
def test_any_composition_is_refused_or_safe_everywhere(call: Call, data: st.DataObject) -> None:
    s = build(call)
    if s is not None:
        check_schedule(s, data.draw(hostile_steps(s)))


@settings(max_examples=max(10, settings.default.max_examples // 3))
@given(drawn=trees(), data=st.data())
def test_ordinary_trees_stay_inside_their_bounds_at_any_step(drawn: tuple[lk.Schedule, int], data: st.DataObject) -> None:
    s, _ = drawn
    check_schedule(s, data.draw(hostile_steps(s)))


@pytest.mark.parametrize("metric", [10**400, 10**5000], ids=["1e400", "1e5000"])  # 1e5000: past repr's limit
def test_plateau_metric_past_float_range_is_a_clear_error(metric: int) -> None:
    p = lk.ReduceOnPlateau()
    with pytest.raises(ValueError, match=r"`metric` must be a real number within the float range.*bits>"):
        p.update(p.initial_state(), metric, 0.1)

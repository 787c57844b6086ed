"""Every leaf and composition formula against the independent reference interpreter.

``reference.evaluate_config`` is written from SPEC.md (and torch's source for the torch-defined
curves) without importing lrkit; here lrkit's scalar path (Python floats) and numpy path (one
vectorised call) must match it over hypothesis-drawn parameters, at every breakpoint b-1, b, b+1,
past the end and at far steps.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import need
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import KINDS, evaluate_config
from schedule_strategies import COMPOSITIONS, LEAVES, RECIPES, leaf, probe_steps_for, trees

import lrkit as lk
from lrkit._base import _REGISTRY
from lrkit._ops import NumpyOps

need("core")

# A third of the profile's examples per leaf kind (16 kinds), the full count for the trees.
FEW = max(10, settings.default.max_examples // 3)


def check_against_reference(schedule: lk.Schedule, steps: list[int], rtol: float = 1e-9) -> None:
    config = schedule.to_config()
    expected = np.array([evaluate_config(config, t) for t in steps])
    finite = expected[np.isfinite(expected)]
    atol = 1e-12 * max(1.0, float(np.max(np.abs(finite)))) if finite.size else 0.0
    scalar = np.array([schedule(t) for t in steps])
    vector = schedule(np.asarray(steps, dtype=np.int64))
    assert vector.dtype == np.float64 and vector.shape == (len(steps),)
    msg = f"{schedule!r} at steps {steps}"
    np.testing.assert_allclose(scalar, expected, rtol=rtol, atol=atol, err_msg="scalar: " + msg)
    np.testing.assert_allclose(vector, expected, rtol=rtol, atol=atol, err_msg="numpy: " + msg)


def test_reference_covers_the_registry() -> None:
    assert set(_REGISTRY) == set(KINDS)
    assert set(LEAVES) | set(COMPOSITIONS) | set(RECIPES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(LEAVES))
@settings(max_examples=FEW)
@given(data=st.data())
def test_leaf_matches_reference(kind: str, data: st.DataObject) -> None:
    schedule, horizon = data.draw(leaf(kind))
    steps = data.draw(probe_steps_for(schedule, horizon))
    check_against_reference(schedule, steps)


@given(data=st.data())
def test_composition_matches_reference(data: st.DataObject) -> None:
    schedule, horizon = data.draw(trees())
    steps = data.draw(probe_steps_for(schedule, horizon, limit=200))
    check_against_reference(schedule, steps)


@settings(max_examples=FEW)
@given(data=st.data())
def test_float_steps_match_reference(data: st.DataObject) -> None:
    """Fractional steps (a schedule is a function of a real step, e.g. under per-epoch fractions)."""
    schedule, horizon = data.draw(trees(max_leaves=3))
    steps = data.draw(st.lists(st.floats(0.0, float(horizon)), min_size=1, max_size=20))
    config = schedule.to_config()
    expected = [evaluate_config(config, t) for t in steps]
    atol = 1e-12 * max(1.0, *(abs(e) for e in expected if math.isfinite(e)))
    np.testing.assert_allclose([schedule(t) for t in steps], expected, rtol=1e-9, atol=atol)
    np.testing.assert_allclose(schedule(np.array(steps)), expected, rtol=1e-9, atol=atol)


# Hand-picked anchors: the formulas at a few named points, independent of both implementations.
ANCHORS = [
    (lk.linear(0.0, 1.0, 4), [(0, 0.0), (1, 0.25), (3, 0.75), (4, 1.0), (5, 1.0)]),
    (lk.cosine(1.0, 0.0, 4), [(0, 1.0), (2, 0.5), (4, 0.0), (10**9, 0.0)]),
    (lk.cosine_wave(1.0, 0.0, 4), [(0, 1.0), (4, 0.0), (8, 1.0), (6, 0.5)]),
    (lk.cosine_wave(1.0, 0.0, 4, cycles=2.0, restart=True), [(0, 1.0), (1, 0.5), (2, 1.0), (3, 0.5)]),
    (lk.exponential(1.0, 0.5, 2), [(0, 1.0), (1, 2**-0.5), (2, 0.5), (4, 0.25)]),
    (lk.exponential(1.0, 0.5, 2, staircase=True), [(1, 1.0), (2, 0.5), (3, 0.5)]),
    (lk.exponential(1.0, 2.0, 1, end=5.0), [(2, 4.0), (3, 5.0), (10**9, 5.0)]),
    (lk.polynomial(1.0, 0.0, 4, power=2.0), [(2, 0.25), (4, 0.0), (9, 0.0)]),
    (lk.polynomial(1.0, 0.0, 4, cycle=True), [(0, 1.0), (4, 0.0), (5, 0.375), (8, 0.0), (9, 0.25)]),
    (lk.step(1.0, 0.5, 3), [(2, 1.0), (3, 0.5), (5, 0.5), (6, 0.25)]),
    (lk.multistep(1.0, [2, 2, 5], 0.5), [(1, 1.0), (2, 0.25), (4, 0.25), (5, 0.125)]),
    (lk.piecewise_constant([3, 5], [3.0, 2.0, 1.0]), [(2, 3.0), (3, 2.0), (4, 2.0), (5, 1.0)]),
    (lk.piecewise_linear([2, 4], [1.0, 3.0]), [(0, 1.0), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]),
    (lk.inverse_sqrt(1.0, 1), [(0, 1.0), (3, 0.5), (15, 0.25)]),
    (lk.inverse_time(1.0, 1.0, 2), [(2, 0.5), (6, 0.25)]),
    (lk.inverse_time(1.0, 1.0, 2, staircase=True), [(1, 1.0), (2, 0.5), (3, 0.5)]),
    (lk.cyclic(0.0, 1.0, 2, 4), [(0, 0.0), (1, 0.5), (2, 1.0), (4, 0.5), (6, 0.0), (8, 1.0)]),
    (lk.cyclic(0.0, 1.0, 2, mode="triangular2"), [(2, 1.0), (6, 0.5), (10, 0.25)]),
    (lk.cyclic(0.0, 1.0, 2, mode="exp_range", gamma=0.5), [(2, 0.25), (1, 0.25)]),
    (lk.one_cycle(1.0, 10, pct_start=0.5, div_factor=10.0, final_div_factor=10.0),
     [(0, 0.1), (4, 1.0), (9, 0.01), (10**6, lk.one_cycle(1.0, 10, 0.5, 10.0, 10.0)(10))]),
    (lk.cosine_restarts(1.0, 0.0, 2, period_mult=2.0), [(0, 1.0), (1, 0.5), (2, 1.0), (4, 0.5), (6, 1.0)]),
    (lk.cosine_restarts(1.0, 0.0, 2, decay=0.5), [(2, 0.5), (4, 0.25), (5, 0.125)]),
    (lk.warmup_stable_decay(1.0, 2, 2, 4, shape="sqrt"), [(1, 0.5), (2, 1.0), (4, 1.0), (5, 0.5), (8, 0.0)]),
    (lk.join([lk.constant(1.0), lk.linear(1.0, 0.0, 2)], [3]), [(2, 1.0), (3, 1.0), (4, 0.5), (5, 0.0)]),
    (lk.warmup(lk.constant(1.0), 4), [(0, 0.0), (2, 0.5), (4, 1.0)]),
    (lk.warmup(lk.constant(1.0), 4, start=0.5, shape="cosine"), [(2, 0.75), (4, 1.0)]),
    (lk.warmup(lk.constant(4.0), 2, start=1.0, shape="exponential"), [(1, 2.0), (2, 4.0)]),
    (lk.warmup(lk.linear(1.0, 0.0, 8), 4, overlay=True), [(2, 0.5), (4, 0.5), (6, 0.25)]),
    (lk.per_epoch(lk.step(1.0, 0.5, 1), 10), [(9, 1.0), (10, 0.5), (25, 0.25)]),
    (lk.constant(2.0) * lk.constant(3.0) + 1.0, [(0, 7.0)]),
    (lk.constant(4.0) ** 0.5 * 0.25, [(0, 0.5)]),
]


@pytest.mark.parametrize("schedule, points", ANCHORS, ids=lambda x: repr(x)[:40])
def test_anchor_points(schedule: lk.Schedule, points: list[tuple[int, float]]) -> None:
    for t, v in points:
        assert schedule(t) == pytest.approx(v, rel=1e-12, abs=1e-15), t
        assert evaluate_config(schedule.to_config(), t) == pytest.approx(v, rel=1e-12, abs=1e-15), t
        assert float(schedule(np.array([t]))[0]) == pytest.approx(v, rel=1e-12, abs=1e-15), t


def _near_whole_phases(steps: int, cycles: float, top: int, count: int) -> list[int]:
    """Steps up to ``top`` whose exact phase ``t * cycles / steps`` lies closest to a whole number."""
    from fractions import Fraction

    c = Fraction(cycles) / steps
    t = np.unique(np.linspace(1, top, 4001).astype(np.int64)).tolist()
    t += [round(k / c) + d for k in (10**6, 10**8, 8.5 * 10**8) for d in (-1, 0, 1) if round(k / c) + d <= top]

    def gap(k: int) -> Fraction:
        p = k * c
        return min(p - math.floor(p), math.ceil(p) - p)

    return sorted(sorted(set(t), key=gap)[:count])


@pytest.mark.parametrize(("steps", "cycles"), [(1, 0.85), (7, 0.3), (1000, 2.7), (3, 1.1)])
def test_cosine_wave_restart_follows_the_native_cycle_at_far_phases(steps: int, cycles: float) -> None:
    """Found by the explore profile: ``cosine_wave(0, 1, 1, cycles=0.85, restart=True)`` at step 1e9,
    whose exact phase is 2.2e-8 cycles short of a restart that transformers' float phase reaches: the
    Python-int path kept the exact cycle (about ``end``), the float path and the reference the native's
    restart (``start``). Both paths take the native's cycle within its rounding of a restart."""
    s = lk.cosine_wave(0.0, 1.0, steps, cycles=cycles, restart=True)
    probes = _near_whole_phases(steps, cycles, 2**31 - 1, 40)
    check_against_reference(s, [p + d for p in probes for d in (-1, 0, 1)])


class _Float32Branches(NumpyOps):
    """numpy in float64 reporting float32's epsilon: runs the branches a float32 table takes (Keras on
    a torch ``mps`` device, which has no float64) with float64 arithmetic, to check their math."""

    def eps(self, x: object) -> float:
        return 2.0**-23


@pytest.mark.parametrize("restart", [False, True])
@pytest.mark.parametrize(("start", "end"), [(0.3, 0.01), (0.0, 1.0), (0.01, 0.3)])
def test_cosine_wave_float32_branches_rising_and_falling(start: float, end: float, restart: bool) -> None:
    # The phase is snapped to whole cycles (restart) and taken mod 1 in floats there; rising waves use
    # the distance to the top. The reference's values, restarts (every 12 steps) included.
    s = lk.cosine_wave(start, end, 30, cycles=2.5, restart=restart)
    steps = list(range(400))
    got = np.asarray(s._eval(np.asarray(steps, dtype=np.float64), _Float32Branches()), dtype=np.float64)
    want = np.array([evaluate_config(s.to_config(), t) for t in steps])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)

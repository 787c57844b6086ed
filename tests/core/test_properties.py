"""Properties of random composition trees: values, vectorisation, configs, repr, durations, shapes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from helpers import need
from hypothesis import given, settings
from hypothesis import strategies as st
from schedule_strategies import leaf, positive_values, probe_steps_for, trees, values

import lrkit as lk
from lrkit._compose import shift

need("core")

FEW = max(10, settings.default.max_examples // 3)
#: The names a repr may use: lrkit's public constructors and nothing else (no builtins).
NAMESPACE = {"__builtins__": {}, **{n: getattr(lk, n) for n in lk.__all__}}


def steps_of(data: st.DataObject, limit: int = 150) -> tuple[lk.Schedule, list[int]]:
    schedule, horizon = data.draw(trees())
    return schedule, data.draw(probe_steps_for(schedule, horizon, limit=limit))


@given(data=st.data())
def test_finite_non_negative_and_vectorised_equals_scalar(data: st.DataObject) -> None:
    schedule, steps = steps_of(data)
    scalar = np.array([schedule(t) for t in steps])
    assert all(type(schedule(t)) is float for t in steps[:3])
    vector = schedule(np.asarray(steps))
    assert np.isfinite(scalar).all() and (scalar >= 0).all(), (schedule, steps)
    # The scalar path of an int step may take other (exact integer) arithmetic (cosine_wave's phase):
    # both are within a few ulps of the value, also near the start of a rising curve (_cos_rise).
    atol = 1e-300
    np.testing.assert_allclose(vector, scalar, rtol=1e-13, atol=atol, err_msg=repr(schedule))
    # int64, float64 and Python-list steps, 2-D shape, shuffled order and one-element arrays agree.
    t = np.asarray(steps, dtype=np.int64)
    np.testing.assert_array_equal(schedule(t.astype(np.float64)), vector)
    np.testing.assert_array_equal(schedule(list(steps)), vector)
    perm = np.asarray(data.draw(st.permutations(range(len(steps)))))
    np.testing.assert_array_equal(schedule(t[perm]), vector[perm])
    if len(steps) % 2 == 0:
        np.testing.assert_array_equal(schedule(t.reshape(2, -1)), vector.reshape(2, -1))
    k = data.draw(st.integers(0, len(steps) - 1))
    assert schedule(t[k : k + 1]).shape == (1,)
    np.testing.assert_allclose(schedule(t[k : k + 1])[0], scalar[k], rtol=1e-13, atol=atol)
    assert schedule(np.array([], dtype=np.int64)).shape == (0,)


def test_a_rising_wave_near_its_start_agrees_to_ulps_of_its_value() -> None:
    """Found by the explore profile: the int path (exact integer phase) and the float path of a
    restarting cosine_wave rising from 0.0 to 1.0 differed by 2.2e-16 (one ulp of 1.0) at a value of
    0.0015, 1.4e-13 relative, when a rising curve was written as ``end - (end - start) * (1 - tiny)``.
    Written from the distance to its start, both paths are within ulps of the value itself (mpmath:
    0.00153376385124035399...)."""
    s = lk.cosine_wave(0.0, 1.0, 100, cycles=2.493850711439866, restart=True)
    exact = 0.0015337638512403539935
    steps = np.arange(302)
    assert abs(s(1) - exact) <= 2 * math.ulp(exact) and abs(s(np.array([1]))[0] - exact) <= 2 * math.ulp(exact)
    np.testing.assert_allclose(s(steps), [s(int(k)) for k in steps], rtol=1e-15, atol=0.0)


@given(data=st.data())
def test_config_and_json_round_trip(data: st.DataObject) -> None:
    schedule, _ = data.draw(trees())
    config = schedule.to_config()
    rebuilt = lk.from_config(config)
    assert rebuilt == schedule and hash(rebuilt) == hash(schedule)
    assert rebuilt.to_config() == config
    text = json.dumps(config, allow_nan=False)
    assert lk.from_config(json.loads(text)) == schedule


@given(data=st.data())
def test_repr_evaluates_back_to_an_equal_schedule(data: st.DataObject) -> None:
    schedule, _ = data.draw(trees())
    if "shift(" in repr(schedule):  # shift is internal (used by the ports), not a public name
        namespace = {**NAMESPACE, "shift": shift}
    else:
        namespace = NAMESPACE
    assert eval(repr(schedule), namespace) == schedule, repr(schedule)


@given(data=st.data())
def test_past_duration_the_value_holds(data: st.DataObject) -> None:
    schedule, _ = data.draw(trees())
    d = schedule.duration
    if d is None:
        return
    later = [d, d + 1, 2 * d + 7, 10**6 + d, 2**31 - 1]
    v = schedule(d)
    for t in later:
        assert schedule(t) == pytest.approx(v, rel=1e-12, abs=1e-300), (schedule, t)


@given(data=st.data())
def test_breakpoints_are_sorted_and_inside(data: st.DataObject) -> None:
    schedule, horizon = data.draw(trees())
    bs = schedule.breakpoints(horizon)
    assert list(bs) == sorted(set(bs)) and all(0 < b < horizon for b in bs)
    assert all(isinstance(b, int) for b in bs)


MONOTONE = ["linear", "cosine", "exponential", "step", "multistep", "inverse_sqrt", "inverse_time"]


@pytest.mark.parametrize("kind", MONOTONE)
@settings(max_examples=FEW)
@given(data=st.data())
def test_monotone_curves_are_monotone(kind: str, data: st.DataObject) -> None:
    schedule, horizon = data.draw(leaf(kind))
    config = schedule.to_config()
    first, last = schedule(0), schedule(horizon)
    v = schedule(np.arange(horizon + 1))
    slack = 1e-15 * max(1.0, float(np.max(np.abs(v))))
    d = np.diff(v)
    if kind in ("linear", "cosine"):
        rising = config["end"] > config["start"]
    elif kind in ("exponential", "step", "multistep"):
        rising = config.get("rate", config.get("gamma")) > 1
    else:
        rising = False
    if rising:
        assert (d >= -slack).all() and last >= first
    else:
        assert (d <= slack).all() and last <= first


@settings(max_examples=FEW)
@given(a=values, b=values, c=values, n=st.integers(1, 300), m=st.integers(1, 300))
def test_join_of_meeting_lines_is_the_piecewise_line(a: float, b: float, c: float, n: int, m: int) -> None:
    joined = lk.join([lk.linear(a, b, n), lk.linear(b, c, m)], [n])
    line = lk.piecewise_linear([0, n, n + m], [a, b, c])
    t = np.arange(n + m + 5)
    np.testing.assert_allclose(joined(t), line(t), rtol=1e-12, atol=1e-15)
    # Continuous at the boundary: the step across it is no bigger than the slopes on either side.
    jump = abs(joined(n) - joined(n - 1))
    assert jump <= max(abs(b - a) / n, abs(c - b) / m) * (1 + 1e-9) + 4e-16 * max(a, b, c)


@settings(max_examples=FEW)
@given(data=st.data(), w=st.integers(1, 200), start=values, overlay=st.booleans())
def test_warmup_is_a_join_with_a_line(data: st.DataObject, w: int, start: float, overlay: bool) -> None:
    inner, horizon = data.draw(trees(max_leaves=3))
    warm = lk.warmup(inner, w, start=start, overlay=overlay)
    rest = shift(inner, w) if overlay else inner
    joined = lk.join([lk.linear(start, inner(0), w), rest], [w])
    t = np.arange(w + horizon + 2)
    np.testing.assert_allclose(warm(t), joined(t), rtol=1e-12, atol=1e-15)


@settings(max_examples=FEW)
@given(data=st.data(), k=st.integers(1, 30))
def test_per_epoch_is_constant_within_an_epoch(data: st.DataObject, k: int) -> None:
    inner, horizon = data.draw(trees(max_leaves=3))
    s = lk.per_epoch(inner, k)
    t = np.arange(min(horizon, 500) * k)
    v = s(t)
    np.testing.assert_array_equal(v, inner(t // k))


@given(a=positive_values, b=positive_values, n=st.integers(1, 1000))
def test_algebra(a: float, b: float, n: int) -> None:
    c, d = lk.cosine(a, b, n), lk.linear(b, a, n)
    t = np.arange(0, 2 * n + 2)
    np.testing.assert_allclose((c * d)(t), c(t) * d(t), rtol=1e-15)
    np.testing.assert_allclose((c + d)(t), c(t) + d(t), rtol=1e-15)
    np.testing.assert_allclose((c + 0.5)(t), c(t) + 0.5, rtol=1e-15)
    np.testing.assert_allclose((0.5 + c)(t), c(t) + 0.5, rtol=1e-15)
    np.testing.assert_allclose((3.0 * c)(t), 3.0 * c(t), rtol=1e-15)
    np.testing.assert_allclose((c**2.0)(t), c(t) ** 2, rtol=1e-14)
    assert c * d * c == (c * d) * c == c * (d * c)  # one normal form
    assert 2.0 * (3.0 * c) == 6.0 * c and (2.0 * c) * 3.0 == 6.0 * c


def test_schedules_are_immutable_values() -> None:
    s = lk.warmup(lk.cosine(1.0, 0.0, 10), 3)
    with pytest.raises(AttributeError, match="immutable"):
        s.steps = 4  # type: ignore[misc]
    assert s == lk.warmup(lk.cosine(1.0, 0.0, 10), 3) and len({s, lk.warmup(lk.cosine(1.0, 0.0, 10), 3)}) == 1
    assert s != lk.warmup(lk.cosine(1.0, 0.0, 10), 4) and s != "warmup"
    assert lk.constant(-0.0).to_config()["value"] == 0.0 and math.copysign(1, lk.constant(-0.0)(0)) == 1


def test_numpy_inputs_for_arguments_and_steps() -> None:
    s = lk.piecewise_constant(np.array([2, 4]), np.array([1.0, 0.5, 0.25]))
    assert s == lk.piecewise_constant([2, 4], [1.0, 0.5, 0.25])
    assert json.dumps(s.to_config())
    assert lk.cosine(np.float32(0.5), 0.0, np.int64(10)).to_config() == lk.cosine(0.5, 0.0, 10).to_config()
    out = s(np.int64(3))
    assert type(out) is np.float64 and out == 0.5
    assert s(np.array(3)).shape == () and s(np.uint8(4)) == 0.25


@settings(max_examples=FEW)
@given(data=st.data())
def test_large_arrays_chunked_sorted_or_shuffled_match_small_ones(data: st.DataObject) -> None:
    from lrkit._base import _CHUNK

    schedule, horizon = data.draw(trees(max_leaves=4))
    n = 2 * _CHUNK + data.draw(st.integers(1, 1000))
    t = np.arange(n) * max(1, horizon // n + 1) // 2  # sorted, with repeats when horizon is short
    big = schedule(t)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    perm = rng.permutation(n)
    np.testing.assert_array_equal(schedule(t[perm]), big[perm])
    pick = rng.choice(n, 50, replace=False)
    np.testing.assert_allclose(big[pick], [schedule(int(k)) for k in t[pick]], rtol=1e-13, atol=1e-300)


@settings(max_examples=FEW)
@given(data=st.data())
def test_join_pieces_are_half_open_and_see_local_time(data: st.DataObject) -> None:
    kids = [k for k, _ in data.draw(st.lists(trees(max_leaves=2), min_size=2, max_size=4))]
    gaps = data.draw(st.lists(st.integers(1, 200), min_size=len(kids) - 1, max_size=len(kids) - 1))
    bounds = np.cumsum(gaps).tolist()
    s = lk.join(kids, bounds)
    starts = [0, *bounds]
    for i, b in enumerate(starts):
        if i:  # at the boundary the new piece applies, at its local step 0
            assert s(b) == kids[i](0) and s(b - 1) == kids[i - 1](b - 1 - starts[i - 1])
        k = data.draw(st.integers(0, 10**6 if i == len(kids) - 1 else gaps[i] - 1))
        assert s(b + k) == kids[i](k)


@given(data=st.data())
def test_pickle_and_deepcopy_give_equal_working_schedules(data: st.DataObject) -> None:
    import copy
    import pickle

    schedule, horizon = data.draw(trees(max_leaves=4))
    for other in (pickle.loads(pickle.dumps(schedule)), copy.deepcopy(schedule)):
        assert other == schedule and repr(other) == repr(schedule)
        t = np.arange(0, horizon + 2, max(1, horizon // 50))
        np.testing.assert_array_equal(other(t), schedule(t))

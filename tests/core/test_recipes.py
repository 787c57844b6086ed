"""SPEC section 9: percentages of the run, ``bind``, ``per_tokens``, ``stretch``, ``cooldown``, ``rounded``.

Every expectation is computed here from the definition (exact ``Fraction`` arithmetic for the
rounding of positions, brute-force sums for token counts, textbook formulas for the curves), never by
asking lrkit.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from helpers import need
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import evaluate_config, tokens_before

import lrkit as lk

need("core")

RUN_LENGTHS = st.one_of(st.integers(1, 10_000), st.integers(1, 10**9),
                        st.sampled_from([1, 2, 3, 7, 97, 999_983, 10**9 - 1, 10**9]))


def half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def pct(tenths: int) -> str:
    """A percentage with one decimal written as text, e.g. 25 -> '2.5%'."""
    return f"{Decimal(tenths) / 10}%"


@st.composite
def partitions(draw, parts: int) -> list[int]:  # type: ignore[no-untyped-def]
    """``parts`` positive numbers of tenths of a percent summing to 100%."""
    cuts = sorted(draw(st.lists(st.integers(1, 999), min_size=parts - 1, max_size=parts - 1, unique=True)))
    edges = [0, *cuts, 1000]
    return [b - a for a, b in zip(edges, edges[1:])]


# -- percentages and bind --------------------------------------------------------------------------


@given(p=st.integers(1, 1000), n=RUN_LENGTHS)
def test_a_percentage_binds_to_the_nearest_step(p: int, n: int) -> None:
    want = half_up(Fraction(p, 10) * n / 100)
    assume(want >= 1)
    s = lk.cosine(1.0, 0.0, pct(p))
    assert s.unbound
    b = s.bind(total_steps=n)
    assert not b.unbound and b == lk.cosine(1.0, 0.0, want)


@given(parts=st.integers(2, 5).flatmap(partitions), n=RUN_LENGTHS)
def test_join_pieces_naming_the_whole_run_sum_to_it(parts: list[int], n: int) -> None:
    cum = np.cumsum(parts).tolist()
    positions = [half_up(Fraction(c, 10) * n / 100) for c in cum]
    assume(all(b > a for a, b in zip([0, *positions], positions)))  # every piece at least one step
    s = lk.join([lk.linear(0.1, 0.2, pct(p)) for p in parts], [pct(c) for c in cum[:-1]])
    b = s.bind(n)
    assert list(b.boundaries) == positions[:-1]
    lengths = [c.steps for c in b.schedules]
    assert lengths == [y - x for x, y in zip([0, *positions], positions)]
    assert sum(lengths) == n == b.duration


@given(parts=partitions(3), n=RUN_LENGTHS, shape=st.sampled_from(["linear", "cosine", "sqrt", "square"]))
def test_warmup_stable_decay_phases_sum_to_the_run(parts: list[int], n: int, shape: str) -> None:
    w, s, d = (pct(p) for p in parts)
    c1, c2 = half_up(Fraction(parts[0], 10) * n / 100), half_up(Fraction(parts[0] + parts[1], 10) * n / 100)
    assume(n - c2 >= 1)
    b = lk.warmup_stable_decay(1.0, w, s, d, shape=shape).bind(n)
    assert (b.warmup, b.stable, b.decay) == (c1, c2 - c1, n - c2)
    assert b.duration == n


@given(parts=partitions(2), n=RUN_LENGTHS, overlay=st.booleans())
def test_warmup_and_its_schedule_sum_to_the_run(parts: list[int], n: int, overlay: bool) -> None:
    w = half_up(Fraction(parts[0], 10) * n / 100)
    assume(1 <= w < n)
    b = lk.warmup(lk.cosine(1.0, 0.0, pct(parts[1])), pct(parts[0])).bind(n)
    assert b.steps == w and b.schedule.steps == n - w and b.duration == n
    # overlaid, the schedule counts from step 0: its own percentage is of the whole run
    o = lk.warmup(lk.cosine(1.0, 0.0, "100%"), pct(parts[0]), overlay=True).bind(n)
    assert (o.steps, o.schedule.steps) == (w, n)


@given(parts=partitions(2), n=RUN_LENGTHS)
def test_cooldown_branch_ends_with_the_run(parts: list[int], n: int) -> None:
    at = half_up(Fraction(parts[0], 10) * n / 100)
    assume(at < n)
    b = lk.cooldown(lk.constant(1.0), pct(parts[0]), pct(parts[1]), shape="sqrt").bind(n)
    assert (b.at, b.steps, b.duration) == (at, n - at, n)


def test_whole_steps_stay_as_written_when_mixed_with_percentages() -> None:
    s = lk.join([lk.linear(0.0, 1.0, 7), lk.cosine(1.0, 0.0, "50%"), lk.constant(0.1)], [7, "57.5%"])
    b = s.bind(1001)
    # 57.5% of 1001 = 575.575 -> 576; the cosine starts at 7 and ends there: 569 steps
    assert b == lk.join([lk.linear(0.0, 1.0, 7), lk.cosine(1.0, 0.0, 501), lk.constant(0.1)], [7, 576])


def test_bind_on_a_bound_schedule_is_itself_and_epochs_tokens_are_their_own_clock() -> None:
    s = lk.cosine(1.0, 0.0, 10)
    assert s.bind(123) is s and not s.unbound
    e = lk.per_epoch(lk.multistep(1.0, ["50%"], 0.1), steps_per_epoch=10)
    assert e.bind(1000) == lk.per_epoch(lk.multistep(1.0, [50], 0.1), 10)  # 50% of 100 epochs
    t = lk.per_tokens(lk.cosine(1.0, 0.0, "100%"), 64)
    assert t.bind(1000) == lk.per_tokens(lk.cosine(1.0, 0.0, 64_000), 64)


def test_repr_and_config_keep_the_percentages() -> None:
    s = lk.warmup(lk.cosine(3e-4, 3e-5, "97.50%"), "2.5%")
    assert repr(s) == "warmup(cosine(0.0003, 3e-05, '97.5%'), '2.5%')"
    config = json.loads(json.dumps(s.to_config()))
    assert config["steps"] == "2.5%" and config["schedule"]["steps"] == "97.5%"
    assert lk.from_config(config) == s and lk.from_config(config).unbound
    assert lk.multistep(1.0, ["10%", 500], 0.5).to_config()["milestones"] == ["10%", 500]
    assert lk.cosine(1.0, 0.0, "5%") == lk.cosine(1.0, 0.0, "5.0%")
    assert lk.cosine(1.0, 0.0, "5%") != lk.cosine(1.0, 0.0, 5)


def test_unbound_schedules_refuse_evaluation_naming_total_steps() -> None:
    s = lk.warmup(lk.cosine(1.0, 0.0, 900), "10%")
    for use in (lambda: s(0), lambda: s(np.arange(3)), lambda: s.duration, lambda: s.breakpoints(100),
                lambda: (2.0 * s)(1), lambda: lk.cooldown(s, 5, 5)(0)):
        with pytest.raises(ValueError, match="total_steps"):
            use()
    with pytest.raises(ValueError, match=r"'10%'"):
        s(0)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "100", None])
def test_bind_refuses_a_bad_total_steps(bad: object) -> None:
    with pytest.raises((ValueError, TypeError), match="total_steps"):
        lk.cosine(1.0, 0.0, "5%").bind(bad)  # type: ignore[arg-type]


def test_a_percentage_resolving_to_no_step_is_refused_naming_total_steps() -> None:
    with pytest.raises(ValueError, match=r"total_steps=10.*`steps` must be a positive integer"):
        lk.cosine(1.0, 0.0, "1%").bind(10)
    with pytest.raises(ValueError, match=r"total_steps=3.*boundaries"):
        lk.join([lk.constant(1.0)] * 3, ["10%", "20%"]).bind(3)


@pytest.mark.parametrize("bad", ["0%", "100.01%", "-1%", "5", "5 %%", "1e2%", "1/2%", "", "%", "nan%", "inf%"])
def test_malformed_or_out_of_range_percentages_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"cosine: `steps` must be .*Received: steps="):
        lk.cosine(1.0, 0.0, bad)


def test_percentages_are_refused_where_they_mean_nothing() -> None:
    with pytest.raises(TypeError, match="steps_per_epoch"):
        lk.per_epoch(lk.constant(1.0), "10%")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tokens_per_step"):
        lk.per_tokens(lk.constant(1.0), "10%")  # type: ignore[arg-type]


# -- warmup_stable_decay square, cooldown --------------------------------------------------------------


def decayed(shape: str, v0: float, end: float, x: float) -> float:
    return {
        "linear": v0 + (end - v0) * x,
        "cosine": end + (v0 - end) * (1 + math.cos(math.pi * x)) / 2,
        "sqrt": end + (v0 - end) * (1 - math.sqrt(x)),
        "square": end + (v0 - end) * (1 - x * x),
    }[shape]


@given(peak=st.floats(0, 10), end=st.floats(0, 10), w=st.integers(0, 50), s=st.integers(0, 50),
       d=st.integers(1, 200), t=st.integers(0, 400))
def test_wsd_square_matches_its_formula(peak: float, end: float, w: int, s: int, d: int, t: int) -> None:
    got = lk.warmup_stable_decay(peak, w, s, d, end, shape="square")(t)
    if t < w:
        want = peak * t / w
    elif t < w + s:
        want = peak
    else:
        want = decayed("square", peak, end, min(t - w - s, d) / d)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-12)


@given(at=st.integers(0, 300), n=st.integers(1, 300), end=st.floats(0, 1),
       shape=st.sampled_from(["linear", "cosine", "sqrt", "square"]), data=st.data())
def test_cooldown_matches_its_formula(at: int, n: int, end: float, shape: str, data: st.DataObject) -> None:
    base = lk.warmup(lk.cosine(1.0, 0.1, 200), 20)
    s = lk.cooldown(base, at, n, end, shape)
    steps = [0, at - 1, at, at + 1, at + n - 1, at + n, at + n + 1, 10**9, *data.draw(st.lists(st.integers(0, 700)))]
    v0 = (1.0 * at / 20) if at < 20 else 0.1 + 0.9 * (1 + math.cos(math.pi * min(at - 20, 200) / 200)) / 2
    for t in (t for t in steps if t >= 0):
        if t < at:
            want = (1.0 * t / 20) if t < 20 else 0.1 + 0.9 * (1 + math.cos(math.pi * min(t - 20, 200) / 200)) / 2
        else:
            want = decayed(shape, v0, end, min(t - at, n) / n)
        assert s(t) == pytest.approx(want, rel=1e-12, abs=1e-12), t
    assert s.duration == at + n


def test_cooldown_past_the_end_of_a_finite_schedule_starts_from_its_held_value() -> None:
    s = lk.cooldown(lk.cosine(1.0, 0.2, 100), at=500, steps=10)
    assert s(499) == s(500) == pytest.approx(0.2) and s(505) == pytest.approx(0.1) and s(510) == 0.0


@pytest.mark.parametrize(("kwargs", "exc", "arg"), [
    ({"at": -1}, ValueError, "at"), ({"at": 1.5}, ValueError, "at"), ({"at": "101%"}, ValueError, "at"),
    ({"steps": 0}, ValueError, "steps"), ({"steps": "x"}, ValueError, "steps"), ({"end": -1.0}, ValueError, "end"),
    ({"shape": "exp"}, ValueError, "shape"), ({"schedule": 0.1}, TypeError, "schedule"),
])
def test_cooldown_refuses_bad_arguments(kwargs: dict, exc: type, arg: str) -> None:
    args = {"schedule": lk.constant(1.0), "at": 10, "steps": 5, **kwargs}
    with pytest.raises(exc, match=rf"cooldown: `{arg}`.*Received: {arg}="):
        lk.cooldown(**args)


# -- rounded -------------------------------------------------------------------------------------------


@given(a=st.integers(0, 300), b=st.integers(0, 300), n=st.integers(1, 400))
@settings(max_examples=30)
def test_rounded_linear_rounds_each_exact_value_half_to_even(a: int, b: int, n: int) -> None:
    s = lk.rounded(lk.linear(float(a), float(b), n))
    ts = np.arange(n + 2)
    want = [float(round(Fraction(a) + Fraction((b - a) * min(t, n), n))) for t in ts.tolist()]
    assert [s(t) for t in ts.tolist()] == want
    assert s(ts).tolist() == want
    assert s == lk.linear(float(a), float(b), n).round()


def test_rounded_halves_go_to_even() -> None:
    s = lk.rounded(lk.piecewise_constant([1, 2, 3, 4], [0.5, 1.5, 2.5, 2.4999, 1e15 + 0.5]))
    assert [s(t) for t in range(5)] == [0.0, 2.0, 2.0, 2.0, 1e15]


# -- stretch -------------------------------------------------------------------------------------------


@given(ratio=st.sampled_from([0.1, 0.25, 0.5, 0.7, 1.0, 1.1, 1.5, 2.0, 3.3, 10.0]),
       ms=st.lists(st.integers(1, 10_000), min_size=1, max_size=5), w=st.integers(1, 500), d=st.integers(1, 5000))
def test_stretch_rounds_every_position_to_the_nearest_step(ratio: float, ms: list[int], w: int, d: int) -> None:
    r = Fraction(str(ratio))
    ms = sorted(ms)
    want = [half_up(m * r) for m in ms]
    assume(want[0] >= 1 and half_up(w * r) >= 1 and half_up((w + d) * r) > half_up(w * r))
    got = lk.stretch(lk.multistep(1.0, ms, 0.5), ratio)
    assert list(got.milestones) == want
    s = lk.stretch(lk.warmup(lk.cosine(1.0, 0.0, d), w), ratio)
    assert (s.steps, s.steps + s.schedule.steps) == (half_up(w * r), half_up((w + d) * r))
    j = lk.stretch(lk.join([lk.linear(0.0, 1.0, w), lk.cosine(1.0, 0.0, d)], [w]), ratio)
    assert j.boundaries[0] == j.schedules[0].steps == half_up(w * r)
    assert j.duration == half_up((w + d) * r)


def test_stretch_scales_every_kind_of_duration() -> None:
    s = lk.join([lk.warmup_stable_decay(1.0, 10, 80, 10), lk.step(0.1, 0.5, 20)], [100])
    assert lk.stretch(s, 2) == lk.join([lk.warmup_stable_decay(1.0, 20, 160, 20), lk.step(0.1, 0.5, 40)], [200])
    c = lk.cyclic(0.0, 1.0, 5, 7, mode="exp_range", gamma=0.99)
    assert lk.stretch(c, 3) == lk.cyclic(0.0, 1.0, 15, 21, mode="exp_range", gamma=0.99)
    assert lk.stretch(lk.cosine(1.0, 0.0, "50%"), 3) == lk.cosine(1.0, 0.0, "50%")  # already relative


@pytest.mark.parametrize(("ratio", "exc"), [(0, ValueError), (-1.0, ValueError), (math.nan, ValueError),
                                            (math.inf, ValueError), ("2", TypeError), (None, TypeError)])
def test_stretch_refuses_a_bad_ratio(ratio: object, exc: type) -> None:
    with pytest.raises(exc, match=r"stretch: `ratio`"):
        lk.stretch(lk.cosine(1.0, 0.0, 10), ratio)  # type: ignore[arg-type]


def test_stretch_refuses_a_piece_rounded_to_nothing() -> None:
    with pytest.raises(ValueError, match=r"stretch: with ratio=0.1.*steps"):
        lk.stretch(lk.cosine(1.0, 0.0, 4), 0.1)


# -- per_tokens ------------------------------------------------------------------------------------------


@st.composite
def batch_sizes(draw, depth: int = 2):  # type: ignore[no-untyped-def]
    """A batch-size schedule of the accepted forms, whole at every step (rounded where needed)."""
    sizes = st.integers(0, 600)
    kind = draw(st.sampled_from(["constant", "linear", "piecewise", "warmup", "join"] if depth else
                                ["constant", "linear", "piecewise"]))
    if kind == "constant":
        return lk.constant(float(draw(sizes)))
    if kind == "linear":
        a, b, n = draw(sizes), draw(sizes), draw(st.integers(1, 700))
        if draw(st.booleans()):
            return lk.rounded(lk.linear(float(a), float(b), n))
        k = draw(st.integers(-3, 3))  # a whole number per step
        return lk.linear(float(a), float(max(a + k * n, 0) if a + k * n >= 0 else a), n)
    if kind == "piecewise":
        bs = sorted(set(draw(st.lists(st.integers(1, 500), max_size=4))))
        return lk.piecewise_constant(bs, [float(draw(sizes)) for _ in range(len(bs) + 1)])
    if kind == "warmup":
        child = draw(batch_sizes(depth - 1))
        start = float(draw(sizes))
        return lk.rounded(lk.warmup(child, draw(st.integers(1, 300)), start, overlay=draw(st.booleans())))
    kids = draw(st.lists(batch_sizes(depth - 1), min_size=1, max_size=3))
    gaps = draw(st.lists(st.integers(1, 300), min_size=len(kids) - 1, max_size=len(kids) - 1))
    return lk.join(kids, np.cumsum(gaps).tolist())


@given(batch=batch_sizes(), data=st.data())
@settings(max_examples=80)
def test_tokens_match_a_brute_force_cumulative_sum(batch: lk.Schedule, data: st.DataObject) -> None:
    lr = lk.join([lk.linear(0.0, 1.0, 5000), lk.cosine(1.0, 0.1, 100_000)], [5000])
    s = lk.per_tokens(lr, batch)
    config = batch.to_config()
    steps = sorted({*data.draw(st.lists(st.integers(0, 2500), min_size=1, max_size=30)), 0, 1, 2, 10 ** 6 + 3, 10 ** 9})
    tokens = [tokens_before(config, t) for t in steps]
    # and the batch schedule's own values, added up by a plain loop where it is cheap
    run, acc = [], 0
    for t in range(min(2501, max(steps) + 1)):
        run.append(acc)
        acc += round(batch(t))
    for t, want in zip(steps, tokens):
        if t < len(run):
            assert run[t] == want, t
        assert s.tokens(t, _scalar()) == want, (t, batch)
    want_lr = [lr(x) for x in tokens]
    assert [s(t) for t in steps] == want_lr
    np.testing.assert_allclose(s(np.asarray(steps)), want_lr, rtol=1e-12, atol=1e-15)


def _scalar():  # type: ignore[no-untyped-def]
    from lrkit._ops import SCALAR_OPS

    return SCALAR_OPS


@given(k=st.integers(1, 2**20), t=st.integers(0, 10**9))
def test_a_fixed_token_count_multiplies_the_step(k: int, t: int) -> None:
    lr = lk.warmup(lk.cosine(1.0, 0.0, 10**12), 10**9)
    assert lk.per_tokens(lr, k)(t) == lr(t * k)


def test_per_tokens_batch_warmup_example() -> None:
    batch = lk.rounded(lk.warmup(lk.constant(64.0), 100, start=8.0))
    s = lk.per_tokens(lk.constant(1.0), batch)
    assert s.tokens(100, _scalar()) == sum(round(8 + 56 * j / 100) for j in range(100))
    assert s.tokens(150, _scalar()) == s.tokens(100, _scalar()) + 50 * 64


@pytest.mark.parametrize(("batch", "exc", "what"), [
    (lk.cosine(64.0, 8.0, 10), TypeError, "built from constant"),
    (lk.warmup(lk.constant(64.0), 10, shape="cosine"), TypeError, "built from constant"),
    (lk.constant(8.5), ValueError, "whole batch size"),
    (lk.linear(8.0, 64.0, 1000), ValueError, "rounded"),
    (lk.piecewise_constant([5], [8.0, 12.25]), ValueError, "whole batch size"),
    (lk.rounded(lk.linear(8.5, 64.0, 10)), ValueError, "whole batch sizes"),
    (0, ValueError, "tokens_per_step"), (-4, ValueError, "tokens_per_step"), (2.5, TypeError, "tokens_per_step"),
    (None, TypeError, "tokens_per_step"),
])
def test_per_tokens_refuses_other_batch_sizes(batch: object, exc: type, what: str) -> None:
    with pytest.raises(exc, match=rf"per_tokens: .*{what}"):
        lk.per_tokens(lk.constant(1.0), batch)  # type: ignore[arg-type]


def test_per_tokens_config_repr_and_duration() -> None:
    batch = lk.piecewise_constant([10], [50.0, 100.0])
    s = lk.per_tokens(lk.warmup(lk.cosine(1.0, 0.0, 9000), 1000), batch)
    assert lk.from_config(json.loads(json.dumps(s.to_config()))) == s
    assert repr(lk.per_tokens(lk.constant(1.0), 64)) == "per_tokens(constant(1.0), 64)"
    # 10 steps of 50, then 100 per step: 10 000 tokens at step 105, 1000 at step 15
    assert s.duration == 105 and set(s.breakpoints(200)) == {10, 15, 105}
    assert evaluate_config(s.to_config(), 15) == s(15) == 1.0


# -- every duration of every kind -------------------------------------------------------------------


def _kinds_in(s: lk.Schedule) -> set[str]:
    out = {s.kind}
    for name in s._children:
        v = getattr(s, name)
        for c in v if isinstance(v, tuple) else (v,):
            out |= _kinds_in(c)
    return out


PERCENT_PAIRS = [  # written in percentages of a 1000-step run, and the same in steps
    (lk.linear(0.0, 0.2, "2%"), lk.linear(0.0, 0.2, 20)),
    (lk.cosine_wave(0.3, 0.0, "3%", cycles=2.5, restart=True), lk.cosine_wave(0.3, 0.0, 30, cycles=2.5, restart=True)),
    (lk.exponential(0.5, 0.5, "0.4%", staircase=True), lk.exponential(0.5, 0.5, 4, staircase=True)),
    (lk.polynomial(0.5, 0.01, "1%", power=0.5, cycle=True), lk.polynomial(0.5, 0.01, 10, power=0.5, cycle=True)),
    (lk.step(0.4, 0.5, "0.7%"), lk.step(0.4, 0.5, 7)),
    (lk.multistep(0.4, ["0.5%", 12, "1.2%", 30], 0.3), lk.multistep(0.4, [5, 12, 12, 30], 0.3)),
    (lk.piecewise_constant(["0.3%", 10, "2.5%"], [0.4, 0.2, 0.05, 0.01]),
     lk.piecewise_constant([3, 10, 25], [0.4, 0.2, 0.05, 0.01])),
    (lk.piecewise_linear([0, "0.5%", 20, "3%"], [0.0, 0.4, 0.1, 0.2]), lk.piecewise_linear([0, 5, 20, 30], [0.0, 0.4, 0.1, 0.2])),
    (lk.inverse_sqrt(0.3, "1%"), lk.inverse_sqrt(0.3, 10)),
    (lk.inverse_time(0.3, 0.5, "0.4%", staircase=True), lk.inverse_time(0.3, 0.5, 4, staircase=True)),
    (lk.cyclic(0.01, 0.3, "0.4%", "0.6%", mode="exp_range", gamma=0.97), lk.cyclic(0.01, 0.3, 4, 6, mode="exp_range", gamma=0.97)),
    (lk.one_cycle(0.4, "6%", pct_start=0.25), lk.one_cycle(0.4, 60, pct_start=0.25)),
    (lk.cosine_restarts(0.3, 0.01, "0.5%", period_mult=2.0), lk.cosine_restarts(0.3, 0.01, 5, period_mult=2.0)),
    (lk.shift(lk.linear(0.0, 1.0, "1%"), "0.3%"), lk.shift(lk.linear(0.0, 1.0, 10), 3)),
    (lk.per_epoch(lk.multistep(0.3, ["20%"], 0.1), 10), lk.per_epoch(lk.multistep(0.3, [20], 0.1), 10)),
    (lk.cooldown(lk.cosine(0.3, 0.1, "5%"), "2%", "1%", shape="square"), lk.cooldown(lk.cosine(0.3, 0.1, 50), 20, 10, shape="square")),
    (lk.rounded(lk.linear(8.0, 20.0, "3%")), lk.rounded(lk.linear(8.0, 20.0, 30))),
    (lk.cosine(1.0, 0.0, 30) * lk.step(0.3, 0.5, "1%") + lk.constant(0.01), lk.cosine(1.0, 0.0, 30) * lk.step(0.3, 0.5, 10) + 0.01),
    ((0.5 * lk.cyclic(0.0, 0.4, "0.5%")) ** 2.0, (0.5 * lk.cyclic(0.0, 0.4, 5)) ** 2.0),
]


@pytest.mark.parametrize(("written", "in_steps"), PERCENT_PAIRS, ids=[p[1].kind for p in PERCENT_PAIRS])
def test_every_duration_of_every_kind_binds(written: lk.Schedule, in_steps: lk.Schedule) -> None:
    assert written.unbound and not in_steps.unbound
    assert written.bind(1000) == in_steps
    assert lk.from_config(json.loads(json.dumps(written.to_config()))).bind(1000) == in_steps
    with pytest.raises(ValueError, match="total_steps"):
        written(0)


UNSTRETCHABLE = {"one_cycle", "cyclic", "per_epoch", "per_tokens"}  # torch's -1, per-step gamma, epochs


@settings(max_examples=60)
@given(data=st.data(), k=st.sampled_from([2, 3]))
def test_stretching_by_a_whole_ratio_slows_the_curve_down_exactly(data: st.DataObject, k: int) -> None:
    from schedule_strategies import trees

    s, horizon = data.draw(trees(max_leaves=4))
    assume(not (_kinds_in(s) & UNSTRETCHABLE))
    st_ = lk.stretch(s, k)
    ts = sorted(set(data.draw(st.lists(st.integers(0, horizon), max_size=20))) | {0, horizon})
    ts += [b + d for b in s.breakpoints(horizon) for d in (-1, 0, 1) if b + d >= 0]
    np.testing.assert_allclose(st_(np.asarray(ts) * k), s(np.asarray(ts)), rtol=1e-9, atol=1e-12)
    assert lk.stretch(s, 1) == s

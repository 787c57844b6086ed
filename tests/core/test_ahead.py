"""``lrkit._ahead``: a schedule at a run of steps in one numpy pass, each value the scalar one bit for bit.

The torch adapter reads its values from here and promises exactly what it evaluated before, one step
at a time, ``s(float(k))`` (a float step: ``cosine_wave`` computes the phase of an int step in
integers, which differs far out); this file pins that promise for every leaf, random composition trees, joins of many pieces (evaluated
gathered), ``per_tokens``, and runs starting anywhere (at breakpoints, at far steps). Whether those
values are right is checked against the independent reference elsewhere (``tests/conformance``).
The table's functions are checked one by one against ``ScalarOps`` on awkward inputs (NaN, signed
zeros, infinities, negative operands).
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
import pytest
from helpers import need
from hypothesis import given, settings
from hypothesis import strategies as st
from schedule_strategies import FAR_STEPS, LEAVES, leaf, mixed_join, trees

import lrkit as lk
from lrkit._ahead import EXACT_OPS, ExactOps, values_ahead
from lrkit._ops import SCALAR_OPS

need("core")


def _bits(values: list[float]) -> list[bytes]:
    return [struct.pack("<d", v) for v in values]


def _check(schedule: lk.Schedule, start: int, count: int) -> None:
    got = values_ahead(schedule, start, count)
    assert got is not None, f"{schedule!r} from step {start}: the numpy pass gave up"
    want = [schedule(float(k)) for k in range(start, start + count)]
    assert _bits(got) == _bits(want), next(
        f"{schedule!r} at step {start + i}: ahead {a!r}, scalar {b!r}"
        for i, (a, b) in enumerate(zip(got, want)) if _bits([a]) != _bits([b])
    )


def _starts(horizon: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, horizon + 5), st.sampled_from(FAR_STEPS), st.just(2**53 - 300))


@pytest.mark.parametrize("kind", sorted(LEAVES))
@settings(max_examples=15)
@given(data=st.data())
def test_every_leaf_bit_for_bit(kind: str, data: Any) -> None:
    schedule, horizon = data.draw(leaf(kind))
    _check(schedule, data.draw(_starts(horizon)), data.draw(st.integers(1, 300)))


@settings(max_examples=60)
@given(drawn=trees(), data=st.data())
def test_composition_trees_bit_for_bit(drawn: Any, data: Any) -> None:
    schedule, horizon = drawn
    _check(schedule, data.draw(_starts(horizon)), data.draw(st.integers(1, 400)))


@pytest.mark.parametrize("n", [5, 40, 300])
def test_joins_of_many_pieces_bit_for_bit(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    gathered = []
    real = ExactOps.gathered_piecewise
    monkeypatch.setattr(ExactOps, "gathered_piecewise", lambda self, *a: gathered.append(1) or real(self, *a))
    alike = lk.join([lk.linear(0.5, 1.0, 7) if i % 2 else lk.cosine(1.0, 0.25, 9) for i in range(n)],
                    [8 * i + i % 3 for i in range(1, n)])
    for schedule in (mixed_join(n), alike):
        end = schedule.boundaries[-1]  # type: ignore[attr-defined]
        for start in (0, 1, 7, end // 2, end - 3, end + 1, 10**9):
            _check(schedule, start, 257)
        if schedule is alike:  # runs crossing many pieces of few kinds take the gathered path
            assert bool(gathered) == (n > 8)


def test_a_pass_crossing_many_short_pieces_gives_up_within_its_budget() -> None:
    singles = lk.join([lk.warmup(lk.cosine(1.0, 0.1 * (i % 5), 8), 2) for i in range(300)],
                      [10 * i for i in range(1, 300)])
    alike = lk.join([lk.linear(0.5, 1.0, 7) if i % 2 else lk.cosine(1.0, 0.25, 9) for i in range(300)],
                    [10 * i for i in range(1, 300)])
    assert values_ahead(singles, 100, 1024, max_runs=32) is None  # about 100 pieces, each on its own
    assert values_ahead(singles, 100, 64, max_runs=32) is not None  # about 7
    assert values_ahead(alike, 100, 1024, max_runs=32) is not None  # 2 groups, gathered
    _check(singles, 100, 1024)  # with no budget: every value, bit for bit


@settings(max_examples=20)
@given(tokens=st.integers(1, 5000), start=st.integers(0, 2000), count=st.integers(1, 300))
def test_per_tokens_bit_for_bit(tokens: int, start: int, count: int) -> None:
    batch = lk.join([lk.constant(1.0), lk.constant(float(tokens))], [17])
    _check(lk.per_tokens(lk.warmup(lk.cosine(1e-3, 1e-5, 10**6), 5000), batch), start, count)


class _Stub:
    def __init__(self, result: Any) -> None:
        self.result = result

    def _eval(self, t: Any, ops: Any) -> Any:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.mark.parametrize(
    "result", [ValueError("math domain error"), ZeroDivisionError("float division by zero"), math.inf, math.nan]
)
def test_gives_up_where_the_numpy_pass_cannot_stand_in(result: Any) -> None:
    assert values_ahead(_Stub(result), 0, 4) is None


def test_a_constant_fills_the_run() -> None:
    assert values_ahead(_Stub(0.25), 3, 4) == [0.25] * 4


# -- the table, function by function, against ScalarOps ----------------------------------------------

awkward = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 1e-310, 2.0**53, math.pi, math.inf, -math.inf, math.nan]),
)


def _scalar(fn: Any, *args: float) -> Any:
    try:
        return float(fn(*args))
    except (ValueError, ZeroDivisionError, OverflowError, TypeError) as e:
        return type(e)


def _table(fn: Any, *cols: list[float]) -> list[Any]:
    """The table's function on arrays, compared element by element (an element the scalar function
    raises on is compared by computing that element alone, where the table raises the same)."""
    arrays = [np.asarray(c, dtype=np.float64) for c in cols]
    with np.errstate(all="ignore"):
        try:
            return [float(v) for v in np.asarray(fn(*arrays), dtype=np.float64).tolist()]
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return [_one(fn, *(c[i] for c in cols)) for i in range(len(cols[0]))]


def _one(fn: Any, *args: float) -> Any:
    """The table's function on one-element arrays (its elements reach ``math`` as Python floats)."""
    try:
        return float(np.asarray(fn(*(np.asarray([a], dtype=np.float64) for a in args)), dtype=np.float64)[0])
    except (ValueError, ZeroDivisionError, OverflowError, TypeError) as e:
        return type(e)


def _same(a: Any, b: Any) -> bool:
    """Bit for bit; where Python raises (``floor(nan)``, ``x / 0``), numpy's NaN/inf stands in (no step of
    a valid schedule evaluates such a thing: its values are finite at every step)."""
    if isinstance(b, type):
        return True
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or struct.pack("<d", a) == struct.pack("<d", b)
    return a == b


@pytest.mark.parametrize("name", ["cos", "sin", "exp", "log", "sqrt", "floor", "ceil"])
@settings(max_examples=40)
@given(xs=st.lists(awkward, min_size=1, max_size=8))
def test_unary_functions_match_scalar_ops(name: str, xs: list[float]) -> None:
    mine, ref = getattr(EXACT_OPS, name), getattr(SCALAR_OPS, name)
    got = _table(mine, xs)
    want = [_scalar(ref, x) for x in xs]
    assert all(_same(a, b) for a, b in zip(got, want)), (name, xs, got, want)


@pytest.mark.parametrize("name", ["minimum", "maximum", "power", "fmod", "floordiv", "div"])
@settings(max_examples=40)
@given(pairs=st.lists(st.tuples(awkward, awkward), min_size=1, max_size=8))
def test_binary_functions_match_scalar_ops(name: str, pairs: list[tuple[float, float]]) -> None:
    mine, ref = getattr(EXACT_OPS, name), getattr(SCALAR_OPS, name)
    xs, ys = [a for a, _ in pairs], [b for _, b in pairs]
    want = [_scalar(ref, a, b) for a, b in pairs]
    got = _table(mine, xs, ys)
    assert all(_same(a, b) for a, b in zip(got, want)), (name, pairs, got, want)


@settings(max_examples=40)
@given(triples=st.lists(st.tuples(awkward, awkward, awkward), min_size=1, max_size=8))
def test_clip_matches_scalar_ops(triples: list[tuple[float, float, float]]) -> None:
    xs, los, his = ([t[i] for t in triples] for i in range(3))
    got = _table(EXACT_OPS.clip, xs, los, his)
    want = [_scalar(SCALAR_OPS.clip, *t) for t in triples]
    assert all(_same(a, b) for a, b in zip(got, want)), (triples, got, want)

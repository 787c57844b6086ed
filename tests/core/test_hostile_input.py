"""Hostile and absurd input to the core (SPEC section 11): configs too deep or too large are refused
before anything is built, nothing recursive on a schedule can reach Python's recursion limit, schedules
have no ``__dict__``, and the algebra answers every operand in lrkit's message format."""

from __future__ import annotations

import copy
import json
import math
import pickle

import numpy as np
import pytest
from conformance_cases_core import ALL_KINDS
from helpers import need

import lrkit as lk
from lrkit._base import _REGISTRY

need("core")

LEAF = {"type": "constant", "value": 1.0}


def nested(levels: int) -> dict:
    """A config ``levels`` schedules deep: warmup(warmup(... constant(1.0) ...))."""
    c: dict = dict(LEAF)
    for _ in range(levels - 1):
        c = {"type": "warmup", "schedule": c, "steps": 1}
    return c


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts schedule nodes constructed while the test runs."""
    count = [0]
    original = lk.Schedule.__init__

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        count[0] += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(lk.Schedule, "__init__", counting)
    return count


# -- configs --------------------------------------------------------------------------------------


def test_a_config_100_levels_deep_loads_and_round_trips() -> None:
    s = lk.from_config(nested(100))
    assert lk.from_config(json.loads(json.dumps(s.to_config()))) == s
    assert s(0) == 0.0 and s(1000) == 1.0  # 99 one-step warmups from 0, then the constant


@pytest.mark.parametrize("levels", [101, 2000, 100_000])
def test_deeper_configs_are_refused_before_building_anything(levels: int, builds: list[int]) -> None:
    with pytest.raises(ValueError, match=r"from_config: `config` must nest schedules at most 100 levels deep"):
        lk.from_config(nested(levels))
    assert builds[0] == 0


def test_lists_nested_without_end_are_refused(builds: list[int]) -> None:
    deep: list = [1]
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError, match="at most 100 levels deep"):
        lk.from_config({"type": "piecewise_constant", "boundaries": deep, "values": [1.0, 2.0]})
    assert builds[0] == 0


def test_more_than_a_million_numbers_are_refused_before_building(builds: list[int]) -> None:
    n = 500_001  # 500,001 boundaries and 500,002 values
    config = {"type": "piecewise_constant", "boundaries": list(range(1, n + 1)), "values": [0.5] * (n + 1)}
    with pytest.raises(ValueError, match=r"must hold at most 1,000,000 numbers"):
        lk.from_config(config)
    assert builds[0] == 0


def test_shared_references_count_as_the_tree_they_expand_to(builds: list[int]) -> None:
    # 21 levels of sum([c, c]) share one dict per level: 2**21 leaves once expanded.
    c: dict = dict(LEAF)
    for _ in range(21):
        c = {"type": "sum", "schedules": [c, c]}
    with pytest.raises(ValueError, match=r"must hold at most 1,000,000 numbers"):
        lk.from_config(c)
    assert builds[0] == 0


def test_shared_references_below_the_limits_load_as_their_expansion() -> None:
    shared: dict = {"type": "cosine", "start": 1.0, "end": 0.0, "steps": 10}
    config = {"type": "join", "schedules": [shared] * 64, "boundaries": list(range(10, 640, 10))}
    expanded = json.loads(json.dumps(config))  # no sharing left
    s = lk.from_config(config)
    assert s == lk.from_config(expanded)
    assert s(15) == pytest.approx(0.5 * (1 + math.cos(math.pi * 5 / 10)))


def test_a_config_that_contains_itself_is_refused(builds: list[int]) -> None:
    loop: dict = {"type": "warmup", "steps": 1}
    loop["schedule"] = loop
    with pytest.raises(ValueError, match="contains itself"):
        lk.from_config(loop)
    assert builds[0] == 0


def test_long_lists_load_in_linear_time() -> None:
    # 300,000 boundaries: a check quadratic in the length would not finish (pytest-timeout).
    n = 300_000
    config = {"type": "piecewise_constant", "boundaries": list(range(1, n + 1)),
              "values": [1.0 / (1 + i % 7) for i in range(n + 1)]}
    s = lk.from_config(config)
    assert s(0) == 1.0 and s(n) == 1.0 / (1 + n % 7) and s(13) == 1.0 / (1 + 13 % 7)
    assert s.to_config() == config
    with pytest.raises(ValueError, match=r"`boundaries` must be strictly increasing.*\.\.\. \(\d+ more\)"):
        lk.piecewise_constant([*range(1, n), 5], [1.0] * (n + 1))
    with pytest.raises(ValueError, match=r"`values\[299999\]`"):
        lk.piecewise_constant(list(range(1, n + 1)), [1.0] * (n - 1) + [-1.0, 1.0])


def test_nested_scale_factors_never_reach_infinity() -> None:
    config = {"type": "scale", "factor": 1e200,
              "schedule": {"type": "scale", "factor": 1e200, "schedule": {"type": "constant", "value": 0.0}}}
    with pytest.raises(ValueError, match="factor"):
        lk.from_config(config)
    with pytest.raises(ValueError, match="factor"):
        lk.constant(1.0) * 1e200 * 1e200
    for s in ALL_KINDS:  # every config is standard JSON: never Infinity or NaN
        json.dumps(s.to_config(), allow_nan=False)


# -- nothing recursive reaches the recursion limit ----------------------------------------------


def test_python_built_schedules_nest_at_most_100_levels() -> None:
    s = lk.constant(1.0)
    depth = 1
    with pytest.raises(ValueError, match=r"warmup: schedules nest at most 100 levels deep.*101 levels"):
        for _ in range(2000):
            s = lk.warmup(s, 1)
            depth += 1
    assert depth == 100
    # Every operation on the deepest schedule allowed works.
    assert repr(s).count("warmup(") == 99
    assert hash(s) == hash(lk.from_config(s.to_config()))
    assert s == lk.from_config(json.loads(json.dumps(s.to_config())))
    assert pickle.loads(pickle.dumps(s)) == s
    assert copy.deepcopy(s) is s and copy.copy(s) is s  # immutable
    assert s(1000) == 1.0 and s(0) == 0.0
    assert s.breakpoints(200) == tuple(range(1, 100))
    for make in (lambda: lk.join([s, s], [5]), lambda: lk.per_epoch(s, 2), lambda: lk.shift(s, 1), lambda: s ** 2.0):
        with pytest.raises(ValueError, match="101 levels"):
            make()


def test_flat_compositions_do_not_nest() -> None:
    # Sums, products and scalings flatten: a long chain stays two levels deep.
    s = lk.constant(1.0)
    for _ in range(500):
        s = s + lk.constant(0.001)
    t = lk.cosine(1.0, 0.5, 10)
    for _ in range(500):
        t = t * lk.constant(1.0)
    u = lk.cosine(1.0, 0.5, 10)
    for _ in range(500):
        u = 2.0 * u / 2.0
    assert s(0) == pytest.approx(1.5) and t(10) == 0.5 and u(10) == 0.5
    assert s._depth == t._depth == u._depth == 2


# -- the object protocol --------------------------------------------------------------------------


@pytest.mark.parametrize("s", ALL_KINDS, ids=lambda s: s.kind)
def test_schedules_have_slots_and_no_dict(s: lk.Schedule) -> None:
    assert not hasattr(s, "__dict__")
    with pytest.raises(TypeError):
        vars(s)
    with pytest.raises(AttributeError, match="immutable"):
        s.anything = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="immutable"):
        setattr(s, s._names[0], None)
    assert pickle.loads(pickle.dumps(s, protocol=pickle.HIGHEST_PROTOCOL)) == s
    assert pickle.loads(pickle.dumps(s, protocol=2)) == s
    assert copy.deepcopy(s) is s


def test_every_node_type_is_slotted() -> None:
    for cls in _REGISTRY.values():
        assert "__slots__" in cls.__dict__, cls
        assert all("__dict__" not in k.__dict__ for k in cls.__mro__ if k is not object), cls


def cosine(t: float, start: float, end: float, n: int) -> float:
    return end + (start - end) * 0.5 * (1 + math.cos(math.pi * min(t, n) / n))


def test_division_by_a_number_scales() -> None:
    s = lk.cosine(1.0, 0.2, 100)
    for k in (2, 4.0, 3, 0.5):
        q = s / k
        assert q == (1.0 / k) * s
        assert eval(repr(q), {n: getattr(lk, n) for n in lk.__all__}) == q  # repr round-trips
        for t in (0, 37, 100):
            assert q(t) == pytest.approx(cosine(t, 1.0, 0.2, 100) / k, rel=1e-15)


@pytest.mark.parametrize(("make", "exc", "words"), [
    (lambda s: s / 0, ValueError, "scale: `divisor` must be a finite positive number. Received: divisor=0"),
    (lambda s: s / -2.0, ValueError, "Received: divisor=-2.0"),
    (lambda s: s / math.nan, ValueError, "Received: divisor=nan"),
    (lambda s: s / 1e-320, ValueError, "Received: divisor=1e-320"),
    (lambda s: s / s, TypeError, "dividing by a schedule is not supported"),
    (lambda s: 2 / s, TypeError, "`x / schedule` is not supported"),
    (lambda s: -s, TypeError, "`-schedule` is not supported: a schedule's values are non-negative. "
                              "Received: -cosine(1.0, 0.0, 10)"),
    (lambda s: s - s, TypeError, "`a - b` is not supported"),
    (lambda s: 1.0 - s, TypeError, "`a - schedule` is not supported"),
    (lambda s: s * True, TypeError, "scale: `factor` must be an lrkit schedule or a real number, not a bool. "
                                    "Received: factor=True"),
    (lambda s: False * s, TypeError, "not a bool. Received: factor=False"),
    (lambda s: s * "2", TypeError, "not of type str. Received: factor='2'"),
    (lambda s: s * None, TypeError, "Received: factor=None"),
    (lambda s: s * 1j, TypeError, "not of type complex"),
    (lambda s: s + "x", TypeError, "sum: `other` must be an lrkit schedule or a real number, not of type str. "
                                   "Received: other='x'"),
    (lambda s: "x" + s, TypeError, "sum: `other`"),
    (lambda s: s + True, TypeError, "not a bool"),
    (lambda s: s ** s, TypeError, "power: `exponent` must be a positive real number, not a schedule"),
    (lambda s: 2 ** s, TypeError, "`x ** schedule` is not supported"),
    (lambda s: s ** "2", TypeError, "power: `exponent`"),
    (lambda s: s * -1.0, ValueError, "factor"),
])
def test_bad_operands_get_lrkits_message(make, exc, words) -> None:  # type: ignore[no-untyped-def]
    s = lk.cosine(1.0, 0.0, 10)
    with pytest.raises(exc) as info:
        make(s)
    assert words in str(info.value)
    assert "unsupported operand" not in str(info.value)


def test_unary_plus_is_the_schedule() -> None:
    s = lk.cosine(1.0, 0.0, 10)
    assert +s is s


def test_numpy_steps_are_checked_whatever_their_dtype() -> None:
    s = lk.warmup(lk.cosine(1.0, 0.0, 90), 10)
    for bad, shown in ((np.array([3, -2, 5]), "-2"), (np.array([1.0, np.nan]), "nan"),
                       (np.array([0.0, -np.inf]), "-inf"), (np.arange(100_000) - 1, "-1")):
        with pytest.raises(ValueError, match=f"non-negative everywhere. Received: step containing {shown}"):
            s(bad)
    big = np.array([0, 5, 2**40], dtype=np.uint64)  # unsigned: never negative
    assert s(big).tolist() == [s(0), s(5), s(2**40)]


def test_cosine_wave_cycles_must_keep_the_exact_product_finite() -> None:
    """Found by the explore profile: cycles=1e300 kept t / steps * cycles finite but not the product
    t * cycles that float64 arrays form exactly, which overflowed to NaN past step 1.8e8."""
    with pytest.raises(ValueError, match=r"cosine_wave: `cycles` must keep .* Received: cycles=1e\+300"):
        lk.cosine_wave(0.0, 0.0, 2147483647, cycles=1e300)
    s = lk.cosine_wave(0.3, 0.1, 2147483647, cycles=1e292)  # just inside: 2**53 * 1e292 < 1.8e308
    far = np.array([0, 10**9, 2**31 - 1, 2**53 - 1, 2**53], dtype=np.int64)
    for v in (s(far), s(far.astype(np.float64)), np.array([s(int(k)) for k in far])):
        assert np.isfinite(v).all() and (v >= s.bounds[0]).all() and (v <= s.bounds[1]).all(), v

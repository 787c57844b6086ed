"""Bad input: every argument of every constructor, and bad steps.

A wrong kind of argument is a ``TypeError``, a bad value a ``ValueError``, both at construction, with
a message that starts with the constructor, names the argument and echoes what was received.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from helpers import need

import lrkit as lk

need("core")

NAN, INF = math.nan, math.inf
S = lk.constant(0.1)

VALUE = [("x", TypeError), (None, TypeError), (True, TypeError), (-0.1, ValueError), (NAN, ValueError),
         (INF, ValueError), (-INF, ValueError), (1j, TypeError)]
# An integral float (1e4, 10.0) is the integer it equals (SPEC section 7); a fraction is a bad value.
STEPS = [(0, ValueError), (-3, ValueError), (2.5, ValueError), (10.5, ValueError), (0.0, ValueError),
         (NAN, ValueError), (True, TypeError), (None, TypeError), (np.float64(3.5), ValueError),
         (2**53 + 1, ValueError), (10**400, ValueError), (1e300, ValueError), (INF, ValueError)]
#: A duration may also be a percentage of the run: any other string is a bad value.
PERCENT = [("10", ValueError), ("0%", ValueError), ("100.5%", ValueError), ("-5%", ValueError),
           ("1e1%", ValueError), ("%", ValueError), ("5%%", ValueError), ("five%", ValueError)]
DURATION = STEPS + PERCENT
COUNT = [(-1, ValueError), (1.5, ValueError), (-1.0, ValueError), (True, TypeError), (None, TypeError),
         ("0", ValueError), ("0%", ValueError)]
FACTOR = [(0.0, ValueError), (-1.0, ValueError), (NAN, ValueError), (INF, ValueError), ("2", TypeError),
          (True, TypeError), (None, TypeError)]
FLAG = [(1, TypeError), ("yes", TypeError), (None, TypeError), (np.float64(1.0), TypeError)]


def choice(*_: str) -> list[tuple[object, type]]:
    return [("bogus", ValueError), ("", ValueError), (1, TypeError), (None, TypeError)]


# constructor -> (valid keyword arguments, {argument: [(bad value, exception), ...]})
TABLE: dict = {
    lk.constant: ({"value": 0.1}, {"value": VALUE}),
    lk.linear: ({"start": 0.0, "end": 1.0, "steps": 10}, {"start": VALUE, "end": VALUE, "steps": DURATION}),
    lk.cosine: ({"start": 1.0, "end": 0.0, "steps": 10}, {"start": VALUE, "end": VALUE, "steps": DURATION}),
    lk.cosine_wave: (
        {"start": 1.0, "end": 0.0, "steps": 10},
        {"start": VALUE, "end": VALUE, "steps": DURATION, "cycles": FACTOR, "restart": FLAG},
    ),
    lk.exponential: (
        {"start": 1.0, "rate": 0.5, "every": 10},
        {"start": VALUE, "rate": FACTOR, "every": DURATION, "staircase": FLAG,
         "end": [e for e in VALUE if e[0] is not None]},
    ),
    lk.polynomial: (
        {"start": 1.0, "end": 0.0, "steps": 10},
        {"start": VALUE, "end": VALUE, "steps": DURATION, "power": FACTOR, "cycle": FLAG},
    ),
    lk.step: ({"start": 1.0, "gamma": 0.5, "every": 10}, {"start": VALUE, "gamma": FACTOR, "every": DURATION}),
    lk.multistep: (
        {"start": 1.0, "milestones": [2, 5], "gamma": 0.5},
        {"start": VALUE, "gamma": FACTOR,
         "milestones": [(5, TypeError), ({3}, TypeError), ("12", TypeError), ([0], ValueError),
                        ([3, 2], ValueError), ([1.5], ValueError), ([2, None], TypeError), (None, TypeError),
                        (np.array(3), TypeError)]},
    ),
    lk.piecewise_constant: (
        {"boundaries": [2, 4], "values": [1.0, 0.5, 0.1]},
        {"boundaries": [(5, TypeError), ({2, 4}, TypeError), ([0, 4], ValueError), ([2, 2], ValueError),
                        ([4, 2], ValueError), ([2.5, 4], ValueError), ([2], ValueError), ([1, 2, 3], ValueError),
                        (None, TypeError)],
         "values": [([1.0, -1.0, 0.1], ValueError), ([1.0, "a", 0.1], TypeError), ([1.0, 0.5], ValueError),
                    ([1.0, NAN, 0.1], ValueError), ([], ValueError), (0.1, TypeError)]},
    ),
    lk.piecewise_linear: (
        {"steps": [0, 10], "values": [0.0, 1.0]},
        {"steps": [([], ValueError), ([-1, 4], ValueError), ([4, 2], ValueError), ([0, 0], ValueError),
                   ([0, 1.5], ValueError), ([0, 5, 9], ValueError), (7, TypeError)],
         "values": [([0.0], ValueError), ([0.0, -2.0], ValueError), ([0.0, INF], ValueError),
                    ([0.0, None], TypeError), ("ab", TypeError)]},
    ),
    lk.inverse_sqrt: ({"start": 1.0, "timescale": 10}, {"start": VALUE, "timescale": DURATION}),
    lk.inverse_time: (
        {"start": 1.0, "rate": 0.5, "every": 10},
        {"start": VALUE, "rate": FACTOR, "every": DURATION, "staircase": FLAG},
    ),
    lk.cyclic: (
        {"low": 0.0, "high": 1.0, "up": 10},
        {"low": VALUE, "high": VALUE, "up": DURATION, "down": [d for d in DURATION if d[0] is not None],
         "mode": choice(), "gamma": FACTOR},
    ),
    lk.one_cycle: (
        {"peak": 1.0, "steps": 100},
        {"peak": VALUE, "steps": DURATION,
         "pct_start": [(0.0, ValueError), (1.0, ValueError), (1.5, ValueError), (-0.2, ValueError),
                       (NAN, ValueError), ("0.3", TypeError), (None, TypeError)],
         "div_factor": FACTOR, "final_div_factor": FACTOR, "anneal": choice(), "three_phase": FLAG},
    ),
    lk.cosine_restarts: (
        {"start": 1.0, "end": 0.0, "period": 10},
        {"start": VALUE, "end": VALUE, "period": DURATION,
         "period_mult": [(0.5, ValueError), (0.0, ValueError), (NAN, ValueError), (INF, ValueError),
                         ("2", TypeError), (None, TypeError)],
         "decay": FACTOR},
    ),
    lk.restarts: (
        {"start": 1.0, "end": 0.0, "period": 10, "shape": "tanh"},
        {"start": VALUE, "end": VALUE, "period": DURATION, "shape": choice(),
         "period_mult": [(0.5, ValueError), (NAN, ValueError), ("2", TypeError), (None, TypeError)],
         "decay": FACTOR, "k": FACTOR, "power": [*FACTOR, (2.0, ValueError)],
         "limit": [(0, ValueError), (-1, ValueError), (1.5, ValueError), (True, TypeError), ("2", TypeError)],
         "lb": [(3.0, ValueError), (NAN, ValueError), ("1", TypeError), (None, TypeError)],
         "ub": [(-7.0, ValueError), (INF, ValueError), ("1", TypeError), (None, TypeError)]},
    ),
    lk.warmup_stable_decay: (
        {"peak": 1.0, "warmup": 10, "stable": 10, "decay": 10},
        {"peak": VALUE, "warmup": COUNT, "stable": COUNT, "decay": DURATION, "end": VALUE, "shape": choice()},
    ),
    lk.join: (
        {"schedules": [S, S], "boundaries": [5]},
        {"schedules": [([], ValueError), ([S, 0.1], TypeError), (S, TypeError), ([S, None], TypeError),
                       (None, TypeError), ([S, S, S], ValueError)],
         "boundaries": [([], ValueError), ([0], ValueError), ([-5], ValueError), ([2.5], ValueError),
                        ([5, 6], ValueError), (5, TypeError), (None, TypeError)]},
    ),
    lk.warmup: (
        {"schedule": S, "steps": 10},
        {"schedule": [(0.1, TypeError), (None, TypeError), ([S], TypeError)], "steps": DURATION,
         "start": VALUE, "shape": choice(), "overlay": FLAG},
    ),
    lk.per_epoch: (
        {"schedule": S, "steps_per_epoch": 10},
        {"schedule": [(0.1, TypeError), (None, TypeError), ("constant(0.1)", TypeError)],
         "steps_per_epoch": [*STEPS, ("10%", TypeError)]},
    ),
    lk.shift: (
        {"schedule": S, "steps": 10},
        {"schedule": [(0.1, TypeError), (None, TypeError)], "steps": DURATION},
    ),
}

CASES = [
    pytest.param(fn, valid, arg, bad, exc, id=f"{fn.__name__}-{arg}-{i}")
    for fn, (valid, args) in TABLE.items()
    for arg, bads in args.items()
    for i, (bad, exc) in enumerate(bads)
]


def echoes(message: str, bad: object) -> bool:
    if isinstance(bad, int) and bad.bit_length() > 64:  # too long to print: described by its size
        return f"an integer of {bad.bit_length()} bits" in message
    if repr(bad) in message or str(bad) in message:
        return True
    if isinstance(bad, (list, tuple)):  # a bad element, named by its position
        return any(repr(x) in message for x in bad)
    return False


@pytest.mark.parametrize("fn, valid, arg, bad, exc", CASES)
def test_bad_argument(fn, valid, arg, bad, exc) -> None:  # type: ignore[no-untyped-def]
    fn(**valid)  # the valid call works
    with pytest.raises(exc) as info:
        fn(**{**valid, arg: bad})
    message = str(info.value)
    assert message.startswith(f"{fn.__name__}:"), message
    assert f"`{arg}" in message, message
    assert "Received:" in message and echoes(message.split("Received:", 1)[1], bad), message


def test_table_covers_every_argument_of_every_constructor() -> None:
    public = {getattr(lk, n) for n in lk.__all__}
    constructors = {
        fn for fn in public
        if inspect.isfunction(fn) and fn.__module__ in ("lrkit._schedules", "lrkit._compose")
    }
    assert constructors == set(TABLE)
    for fn, (_, args) in TABLE.items():
        assert set(inspect.signature(fn).parameters) == set(args), fn.__name__


def test_one_cycle_refuses_an_empty_phase() -> None:
    # torch OneCycleLR divides by zero when a phase has no length (pct_start * steps == 1).
    with pytest.raises(ValueError, match=r"one_cycle: `pct_start` .*phase 0 .*Received: steps=4, pct_start=0.25"):
        lk.one_cycle(1.0, 4, pct_start=0.25)


def test_value_errors_are_schedule_errors() -> None:
    with pytest.raises(lk.ScheduleError):
        lk.cosine(1.0, 0.0, 0)
    assert issubclass(lk.ScheduleError, ValueError)


def test_exponential_warmup_needs_positive_ends() -> None:
    with pytest.raises(ValueError, match=r"warmup: `start`.*Received: start=0.0"):
        lk.warmup(lk.constant(1.0), 5, start=0.0, shape="exponential")
    with pytest.raises(ValueError, match=r"schedule\(0\)=0.0"):
        lk.warmup(lk.constant(0.0), 5, start=0.1, shape="exponential")


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: S * -1.0, ValueError),
        (lambda: S * NAN, ValueError),
        (lambda: -2 * S, ValueError),
        (lambda: S ** 0, ValueError),
        (lambda: S ** -1.0, ValueError),
        (lambda: S ** "2", TypeError),
        (lambda: S * "2", TypeError),
        (lambda: S + "2", TypeError),
        (lambda: S * True, TypeError),
        (lambda: S + INF, ValueError),
    ],
)
def test_bad_algebra(make, exc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc):
        make()


BAD_STEPS = [
    (-1, ValueError), (-0.5, ValueError), (NAN, ValueError), (INF, ValueError), (True, TypeError),
    ("3", TypeError), (None, TypeError), (np.array([1, -1]), ValueError), (np.array([0.0, NAN]), ValueError),
    (np.array([INF]), ValueError), (np.array(["a"]), TypeError), (np.array([True]), TypeError),
    (np.array([1 + 2j]), TypeError), (np.float64(-1.0), ValueError), (np.bool_(True), TypeError),
    ([0, -3], ValueError), (object(), TypeError), (1 + 0j, TypeError),
]


@pytest.mark.parametrize("step, exc", BAD_STEPS, ids=lambda x: repr(x)[:20])
def test_bad_step(step, exc) -> None:  # type: ignore[no-untyped-def]
    s = lk.warmup(lk.cosine(1.0, 0.0, 10), 5)
    with pytest.raises(exc, match="step"):
        s(step)


def test_node_classes_check_their_call_like_a_dataclass() -> None:
    from lrkit._schedules import Cosine

    assert Cosine(1.0, 0.0, 10) == Cosine(start=1.0, end=0.0, steps=10) == lk.cosine(1.0, 0.0, 10)
    for args, kwargs, words in [
        ((1.0, 0.0), {}, "missing required argument 'steps'"),
        ((1.0, 0.0, 10, 4), {}, "at most 3 arguments"),
        ((1.0, 0.0, 10), {"start": 2.0}, "multiple values for argument 'start'"),
        ((1.0, 0.0, 10), {"stpes": 2}, "unexpected keyword argument 'stpes'"),
    ]:
        with pytest.raises(TypeError, match=words):
            Cosine(*args, **kwargs)
    s = lk.cosine(1.0, 0.0, 10)
    with pytest.raises(AttributeError, match="immutable"):
        del s.steps


@pytest.mark.parametrize(("fn", "valid", "typo", "meant"), [
    (lk.cosine, {"start": 1.0, "end": 0.0}, "stesp", "steps"),
    (lk.warmup, {"schedule": S, "steps": 10}, "shpae", "shape"),
    (lk.one_cycle, {"peak": 1.0, "steps": 100}, "pct_strat", "pct_start"),
    (lk.exponential, {"start": 1.0, "rate": 0.5, "every": 10}, "stair_case", "staircase"),
])
def test_a_misspelled_keyword_gets_did_you_mean(fn, valid, typo, meant) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError) as info:
        fn(**valid, **{typo: 1})
    assert str(info.value).startswith(f"{fn.__name__}: got an unexpected keyword argument {typo!r}. "
                                      f"Did you mean {meant!r}?")
    assert inspect.signature(fn).parameters  # the wrapper keeps the signature for help() and IDEs


def test_node_classes_suggest_too() -> None:
    from lrkit._schedules import Cosine

    with pytest.raises(TypeError, match="Did you mean 'steps'"):
        Cosine(1.0, 0.0, stesp=10)


@pytest.mark.parametrize(("make", "want"), [
    (lambda: lk.cosine(1.0, 0.0, 1e4), lk.cosine(1.0, 0.0, 10_000)),
    (lambda: lk.cosine(1.0, 0.0, 10.0), lk.cosine(1.0, 0.0, 10)),
    (lambda: lk.cosine(1.0, 0.0, np.float64(10.0)), lk.cosine(1.0, 0.0, 10)),
    (lambda: lk.warmup(S, 5e2), lk.warmup(S, 500)),
    (lambda: lk.warmup_stable_decay(1.0, 0.0, 1e2, 1e2), lk.warmup_stable_decay(1.0, 0, 100, 100)),
    (lambda: lk.join([S, S], [1e3]), lk.join([S, S], [1000])),
    (lambda: lk.multistep(1.0, [1e2, 2e2], 0.5), lk.multistep(1.0, [100, 200], 0.5)),
])
def test_integral_floats_are_the_integers_they_equal(make, want) -> None:  # type: ignore[no-untyped-def]
    got = make()
    assert got == want and repr(got) == repr(want)
    assert all(type(v) is int for f in got._fields for v in
               (getattr(got, f.name) if isinstance(getattr(got, f.name), tuple) else (getattr(got, f.name),))
               if f.name in ("steps", "warmup", "stable", "decay", "boundaries", "milestones"))


def test_a_fractional_duration_says_it_is_not_whole() -> None:
    with pytest.raises(ValueError, match=r"cosine: `steps` must be a positive integer; 10.5 is not a whole number. "
                                         r"Received: steps=10.5"):
        lk.cosine(1.0, 0.0, 10.5)

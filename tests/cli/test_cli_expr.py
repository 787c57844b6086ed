"""The SPEC parser: a whitelist over ``ast``, never ``eval``."""

from __future__ import annotations

import math

import helpers
import pytest
import schedule_strategies as strat
from hypothesis import given
from hypothesis import strategies as st

import lrkit as lk
from lrkit._expr import SpecError, parse

helpers.need("core")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cosine(3e-4, 3e-5, 10000)", lk.cosine(3e-4, 3e-5, 10000)),
        ("warmup(cosine(3e-4, 3e-5, 10_000), 500)", lk.warmup(lk.cosine(3e-4, 3e-5, 10_000), 500)),
        ("warmup(cosine(1.0, 0.0, 90), steps=10, start=0.1, shape='cosine')",
         lk.warmup(lk.cosine(1.0, 0.0, 90), steps=10, start=0.1, shape="cosine")),
        ("join([linear(0.0, 1.0, 10), constant(1.0)], [10])",
         lk.join([lk.linear(0.0, 1.0, 10), lk.constant(1.0)], [10])),
        ("join((linear(0.0, 1.0, 10), constant(1.0)), (10,))",
         lk.join([lk.linear(0.0, 1.0, 10), lk.constant(1.0)], [10])),
        ("0.5 * cosine(1.0, 0.0, 100)", 0.5 * lk.cosine(1.0, 0.0, 100)),
        ("cosine(1.0, 0.0, 100) * 0.5", lk.cosine(1.0, 0.0, 100) * 0.5),
        ("cosine(1.0, 0.0, 100) * step(1.0, 0.5, 10)", lk.cosine(1.0, 0.0, 100) * lk.step(1.0, 0.5, 10)),
        ("constant(0.01) + cosine(1.0, 0.0, 100)", lk.constant(0.01) + lk.cosine(1.0, 0.0, 100)),
        ("cosine(1.0, 0.0, 100) / 4", 0.25 * lk.cosine(1.0, 0.0, 100)),
        ("cosine(1.0 / 2, 0.0, 100)", lk.cosine(0.5, 0.0, 100)),
        ("cosine(1.0, 0.0, 100) ** 2", lk.cosine(1.0, 0.0, 100) ** 2),
        ("cosine(1.0, 0.0, 2 ** 10)", lk.cosine(1.0, 0.0, 1024)),
        ("cosine(1.0, 0.0, 10 * 100 + 5)", lk.cosine(1.0, 0.0, 1005)),
        ("exponential(1.0, 0.5, 10, staircase=True, end=None)", lk.exponential(1.0, 0.5, 10, staircase=True)),
        ("multistep(1.0, [30, 60, 90], 0.1)", lk.multistep(1.0, [30, 60, 90], 0.1)),
        ("per_epoch(step(0.1, 0.5, 2), 100)", lk.per_epoch(lk.step(0.1, 0.5, 2), 100)),
        ("  cosine(+1.0, 0, 5)  ", lk.cosine(1.0, 0.0, 5)),
    ],
)
def test_accepted(text: str, expected: lk.Schedule) -> None:
    got = parse(text)
    assert got == expected
    assert got.to_config() == expected.to_config()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("__import__('os').system('true')", "attribute access"),
        ("__import__('os')", "`__import__` is not an lrkit constructor"),
        ("cosine.__class__", "attribute access"),
        ("cosine(1.0, 0.0, 10).__class__.__mro__", "attribute access"),
        ("lk.cosine(1.0, 0.0, 10)", "attribute access"),
        ("().__class__.__bases__[0].__subclasses__()", "attribute access"),
        ("cosine(1.0, 0.0, 10)[0]", "subscript"),
        ("[cosine(1.0, 0.0, n) for n in (1, 2)]", "comprehension"),
        ("(lambda: 1)()", "computed function"),
        ("lambda: cosine(1, 0, 1)", "lambda"),
        ("cosine(**{'start': 1.0})", "**-unpacking"),
        ("cosine(*[1.0, 0.0, 10])", "*-unpacking"),
        ("cosine(1.0, 0.0, x)", "`x` is not an lrkit constructor"),
        ("open('/etc/passwd')", "`open` is not an lrkit constructor"),
        ("eval('1')", "`eval` is not an lrkit constructor"),
        ("cosin(1.0, 0.0, 10)", "Did you mean 'cosine'"),
        ("cosine", "`cosine` must be called"),
        ("from_torch(1)", "needs a framework object"),
        ("from_keras({'class_name': 'CosineDecay'})", "needs a framework object"),
        ("from_config({'type': 'constant', 'value': 1.0})", "not an lrkit constructor"),
        ("ReduceOnPlateau()", "not an lrkit constructor"),
        ("{'type': 'constant'}", "a dict"),
        ("{1, 2}", "a set"),
        ("f'{1}'", "f-string"),
        ("cosine(1.0, 0.0, 10) if True else 1", "conditional expression"),
        ("1 < 2", "comparison"),
        ("cosine(1.0, 0.0, 10) - constant(1.0)", "operator `-`"),
        ("2 / cosine(1.0, 0.0, 10)", "a division by a schedule"),
        ("cosine(1.0, 0.0, 10) // 2", "operator `//`"),
        ("-cosine(1.0, 0.0, 10)", "operator `-` applied to a"),
        ("2 ** 10 ** 10", "exponents above 64"),
        ("cosine(1.0, 0.0, 9 ** 9 ** 9)", "exponents above 64"),
        ("'x' * 10 ** 9", "arithmetic on a str"),
        ("[1] * 1000", "arithmetic on a list"),
        ("2 ** cosine(1.0, 0.0, 10)", "a schedule as an exponent"),
        ("b'bytes'", "the constant"),
        ("1j", "the constant"),
        ("...", "the constant"),
        ("(x := 1)", "assignment expression"),
        ("cosine(1.0, 0.0, 10); import os", "not a valid expression"),
        ("import os", "not a valid expression"),
        ("cosine(1.0,", "not a valid expression"),
        ("", "must be an expression"),
        ("0.5", "must build a schedule"),
        ("[cosine(1.0, 0.0, 10)]", "must build a schedule"),
        ("'cosine'", "must build a schedule"),
        ("(" * 300 + "1" + ")" * 300, "SPEC"),
        ("warmup(" * 210 + "constant(1.0)" + ", 1)" * 210, "SPEC"),
        ("cosine(1.0, 0.0, 10) " + "+ constant(1.0) " * 5000, "at most 10000 characters"),
    ],
)
def test_refused(text: str, needle: str) -> None:
    with pytest.raises(SpecError) as info:
        parse(text)
    msg = str(info.value)
    assert needle in msg
    assert msg.startswith("SPEC: ")
    assert "\n" not in msg


@pytest.mark.parametrize(
    ("text", "error", "needle"),
    [
        ("cosine(1.0, 0.0, 0)", ValueError, "cosine: `steps` must be a positive integer. Received: steps=0"),
        ("cosine(1.0, 0.0, 10.5)", ValueError, "`steps` must be a positive integer; 10.5 is not a whole number"),
        ("cosine(1.0, 0.0, stesp=10)", TypeError, "cosine: got an unexpected keyword argument 'stesp'. Did you mean 'steps'?"),
        ("cosine(-1.0, 0.0, 10)", ValueError, "`start`"),
        ("cosine(1.0, 0.0)", TypeError, "steps"),
        ("cosine(1.0, 0.0, 10, bogus=1)", TypeError, "bogus"),
        ("warmup(cosine(1.0, 0.0, 10), 0)", ValueError, "warmup: `steps`"),
        ("cosine(1e999, 0.0, 10)", ValueError, "`start` must be finite"),
        ("join([constant(1.0), constant(2.0)], [])", ValueError, "boundaries"),
    ],
)
def test_constructor_errors_pass_through(text: str, error: type, needle: str) -> None:
    with pytest.raises(error) as info:
        parse(text)
    assert needle in str(info.value)


def test_schedules_nest_at_most_100_levels_like_configs() -> None:
    deep = "warmup(" * 99 + "constant(1.0)" + ", 1)" * 99
    assert parse(deep)._depth == 100
    with pytest.raises(ValueError, match="nest at most 100 levels deep"):
        parse("warmup(" + deep + ", 1)")


def test_integral_floats_are_durations() -> None:
    assert parse("warmup(cosine(1.0, 0.0, 1e4), 5e2)") == lk.warmup(lk.cosine(1.0, 0.0, 10_000), 500)
    assert repr(parse("cosine(1.0, 0.0, 1e4)")) == "cosine(1.0, 0.0, 10000)"


@given(st.text(max_size=60))
def test_junk_never_escapes_as_anything_but_value_or_type_error(text: str) -> None:
    try:
        out = parse(text)
    except (ValueError, TypeError):
        return
    assert isinstance(out, lk.Schedule)


_TOKENS = st.sampled_from([
    "cosine", "warmup", "join", "(", ")", "[", "]", ",", "1", "0.5", "-", "*", "+", "**", "'a'", "x",
    ".", "__class__", "=", "steps", "lambda", ":", "for", "in", "9", "e9", "{", "}", "not", "None", " ",
])


@given(st.lists(_TOKENS, max_size=25).map("".join))
def test_token_soup_never_escapes(text: str) -> None:
    try:
        out = parse(text)
    except (ValueError, TypeError):
        return
    assert isinstance(out, lk.Schedule)


@given(strat.trees())
def test_every_repr_parses_back_to_the_same_curve(drawn: tuple[lk.Schedule, int]) -> None:
    s, horizon = drawn
    back = parse(repr(s))
    assert repr(back) == repr(s)
    for t in helpers.probe_steps(s, min(horizon, 2000)):
        a, b = s(t), back(t)
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300) or a == b, (t, a, b)

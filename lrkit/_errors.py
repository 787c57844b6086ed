"""Argument checks shared by every constructor.

Every message has the shape ``<owner>: `<arg>` must be <constraint>. Received: <arg>=<value!r>``, so
the user sees which call, which argument and what was passed. Checks run at construction only; the
evaluated math never raises on data (it may be traced by JAX or Keras).
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import types
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


class ScheduleError(ValueError):
    """A schedule was given an argument with a bad value (catchable as ``ValueError``)."""


class BackendUnavailableError(ImportError):
    """A backend was asked for but its framework is not installed."""


#: Largest duration or count (SPEC section 11): every integer up to it is exact in float64.
MAX_COUNT = 2**53


def show(value: Any) -> str:
    """``repr(value)``, except that a huge integer is described by its size (its digits could be
    thousands long, and past 4,300 digits Python refuses to print it at all)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"<an integer of {value.bit_length()} bits>"
    return repr(value)


def _fail(owner: str, name: str, constraint: str, value: Any) -> ScheduleError:
    return ScheduleError(f"{owner}: `{name}` must be {constraint}. Received: {name}={show(value)}")


def _type_fail(owner: str, name: str, constraint: str, value: Any) -> TypeError:
    return TypeError(
        f"{owner}: `{name}` must be {constraint}. "
        f"Received: {name}={show(value)} of type {type(value).__name__}"
    )


def _is_real(value: Any) -> bool:
    if type(value) is float or type(value) is int:  # the common case, without the ABC check
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    if type(value) is int:
        return True
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def real(owner: str, name: str, value: Any) -> float:
    """A finite real number, returned as a Python float."""
    if type(value) is float and value - value == 0.0:  # finite (inf - inf and NaN are NaN)
        return value
    if not _is_real(value):
        raise _type_fail(owner, name, "a real number", value)
    try:
        out = float(value)
    except OverflowError:  # an int (or Fraction, Decimal) past the float range
        raise _fail(owner, name, "finite", value) from None
    if not math.isfinite(out):
        raise _fail(owner, name, "finite", value)
    return out


def value(owner: str, name: str, v: Any) -> float:
    """A learning rate or similar: finite and non-negative (``-0.0`` becomes ``0.0``)."""
    if type(v) is float and 0.0 <= v < math.inf:
        return v + 0.0  # -0.0 becomes 0.0
    out = real(owner, name, v)
    if out < 0:
        raise _fail(owner, name, "a finite non-negative number", v)
    return out + 0.0


def positive(owner: str, name: str, v: Any) -> float:
    """A rate or factor: finite and strictly positive."""
    out = real(owner, name, v)
    if out <= 0:
        raise _fail(owner, name, "a finite positive number", v)
    return out


def _integral(v: Any) -> Any:
    """An integral float (``1e4``, ``np.float64(3)``) as the ``int`` it equals (SPEC section 7)."""
    if _is_real(v) and not _is_int(v):
        try:
            f = float(v)
        except (OverflowError, TypeError, ValueError):
            return v
        if math.isfinite(f) and f.is_integer():
            return int(f)
    return v


def _not_whole(owner: str, name: str, constraint: str, v: Any) -> Exception:
    """A fraction (``10.5``, ``inf``) is a bad value; anything else that is not a number, a bad kind."""
    if _is_real(v):
        return ScheduleError(
            f"{owner}: `{name}` must be {constraint}; {v!r} is not a whole number. Received: {name}={v!r}"
        )
    return _type_fail(owner, name, constraint, v)


def positive_int(owner: str, name: str, v: Any) -> int:
    """A duration: a positive integer at most ``2**53`` (an integral float such as ``1e4`` is taken
    as the integer it equals; ``10.5`` is refused)."""
    if type(v) is int and 0 < v <= MAX_COUNT:
        return v
    n = _integral(v)
    if not _is_int(n):
        raise _not_whole(owner, name, "a positive integer", v)
    if n <= 0:
        raise _fail(owner, name, "a positive integer", v)
    if n > MAX_COUNT:
        raise _fail(owner, name, "at most 2**53 (9007199254740992)", v)
    return int(n)


def non_negative_int(owner: str, name: str, v: Any) -> int:
    """A count: a non-negative integer at most ``2**53`` (integral floats as for ``positive_int``)."""
    n = _integral(v)
    if not _is_int(n):
        raise _not_whole(owner, name, "a non-negative integer", v)
    if n < 0:
        raise _fail(owner, name, "a non-negative integer", v)
    if n > MAX_COUNT:
        raise _fail(owner, name, "at most 2**53 (9007199254740992)", v)
    return int(n)


def reach(owner: str, name: str, bounds: tuple[float, float], value: Any) -> tuple[float, float]:
    """``bounds`` (the ``(lo, hi)`` a node's values can reach), refused unless ``0 <= lo <= hi < inf``.

    ``name`` is the argument to blame: the one whose value lets the curve overflow, turn NaN or
    go negative somewhere in steps ``0 .. 2**53`` (SPEC section 11).
    """
    lo, hi = bounds
    if 0.0 <= lo <= hi < math.inf:  # NaN fails every comparison
        return lo, hi
    if not lo >= 0.0 and hi < math.inf:
        what = f"values down to {lo!r}"
    else:
        what = f"values up to {hi!r}"
    raise ScheduleError(
        f"{owner}: `{name}` must keep every value finite and non-negative up to step 2**53 "
        f"(it would give {what}). Received: {name}={show(value)}"
    )


def boolean(owner: str, name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise _type_fail(owner, name, "True or False", v)
    return v


def choice(owner: str, name: str, v: Any, choices: Sequence[str]) -> str:
    if not isinstance(v, str):
        raise _type_fail(owner, name, f"one of {list(choices)}", v)
    if v not in choices:
        raise _fail(owner, name, f"one of {list(choices)}", v)
    return v


def sequence(owner: str, name: str, v: Any, *, min_len: int = 0) -> tuple[Any, ...]:
    """A list, tuple or 1-D numpy array, as a tuple (sets, dicts and iterators are refused: unordered
    or single-use)."""
    if isinstance(v, (str, bytes)) or not (isinstance(v, Sequence) or getattr(v, "ndim", None) == 1):
        raise _type_fail(owner, name, "a list or tuple", v)
    out = tuple(v.tolist() if hasattr(v, "tolist") else v)
    if len(out) < min_len:
        raise _fail(owner, name, f"a list of at least {min_len} item(s)", v)
    return out


def each(owner: str, name: str, items: tuple[Any, ...], check: Any) -> tuple[Any, ...]:
    """``check(owner, "name[i]", item)`` for every item, so a message names the bad position.

    Long lists of plain ``int`` durations or ``float`` values take a fast path (a config may hold a
    million of them): the same result, checked in bulk; the item-by-item checks run only to word
    the error for a list that fails.
    """
    fast = _FAST.get(check)
    if fast is not None and len(items) > 8 and fast(items):
        if check is value:
            return tuple((np.asarray(items, dtype=np.float64) + 0.0).tolist())  # -0.0 becomes 0.0
        return tuple(items)
    return tuple(check(owner, f"{name}[{i}]", x) for i, x in enumerate(items))


def all_durations(items: tuple[Any, ...], low: int = 1) -> bool:
    return _plain_ints(items) and low <= min(items) and max(items) <= MAX_COUNT


def _all_values(items: tuple[Any, ...]) -> bool:
    if set(map(type, items)) != {float}:
        return False
    a = np.asarray(items, dtype=np.float64)
    return bool(np.isfinite(a).all() and (a >= 0.0).all())


def strictly_increasing(owner: str, name: str, v: tuple[Any, ...]) -> None:
    if _int64s(v) and bool((np.diff(np.asarray(v, dtype=np.int64)) > 0).all()):
        return
    for a, b in zip(v, v[1:]):
        pair = _same_kind(a, b)
        if pair is not None and not pair[1] > pair[0]:
            raise _fail(owner, name, "strictly increasing", _Shown(v))


def non_decreasing(owner: str, name: str, v: tuple[Any, ...]) -> None:
    if _int64s(v) and bool((np.diff(np.asarray(v, dtype=np.int64)) >= 0).all()):
        return
    for a, b in zip(v, v[1:]):
        pair = _same_kind(a, b)
        if pair is not None and pair[1] < pair[0]:
            raise _fail(owner, name, "sorted in non-decreasing order", _Shown(v))


def _plain_ints(v: tuple[Any, ...]) -> bool:
    return len(v) > 0 and set(map(type, v)) == {int}


def _int64s(v: tuple[Any, ...]) -> bool:
    """Plain ints that numpy holds exactly (a long list is then checked in bulk)."""
    return len(v) > 8 and _plain_ints(v) and -(2**62) < min(v) and max(v) < 2**62


class _Shown:
    """A list as an error message shows it: the first and last items of a long one."""

    def __init__(self, items: Any) -> None:
        self.items = list(items)

    def __repr__(self) -> str:
        v = self.items
        if len(v) <= 20:
            return repr(v)
        return f"[{', '.join(map(repr, v[:8]))}, ... ({len(v) - 16} more), {', '.join(map(repr, v[-8:]))}]"


# -- durations: a whole number of steps, or a percentage of the run -----------------------------


class Percent:
    """A duration written as a percentage of the run (``"2.5%"``), resolved by ``Schedule.bind``.

    Holds the exact value (a ``Fraction`` of percent) and prints as the string it was written as
    (normalised: ``"2.50%"`` prints ``'2.5%'``), so ``repr`` and ``to_config`` keep the percentage.
    Arithmetic and comparison with numbers raise ``ValueError`` naming ``total_steps``: a schedule
    holding a ``Percent`` cannot be evaluated before it is bound.
    """

    __slots__ = ("fraction", "text")

    def __init__(self, text: str, fraction: Any) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "fraction", fraction)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Percent is immutable")

    def __repr__(self) -> str:
        return repr(self.text)

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Percent) and other.fraction == self.fraction

    def __hash__(self) -> int:
        return hash(("Percent", self.fraction))

    def __reduce__(self) -> Any:
        return (parse_percent, (self.text,))

    def _unbound(self, *_: Any) -> Any:
        raise unbound_error("schedule", f"a duration of {self.text} of the run")

    __float__ = __int__ = __index__ = _unbound
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _unbound
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __neg__ = _unbound
    __lt__ = __le__ = __gt__ = __ge__ = _unbound


def unbound_error(owner: str, what: str) -> ScheduleError:
    """The error for using a schedule that still holds percentages of the run."""
    return ScheduleError(
        f"{owner}: the schedule has {what}, so it needs the run's length: "
        "pass `total_steps` (the number of optimizer updates in the run), or call "
        "schedule.bind(total_steps=N) first. Received: total_steps=None"
    )


_PERCENT_CHARS = frozenset("0123456789.")


def parse_percent(text: str) -> Percent | None:
    """``"2.5%"`` as a ``Percent``; ``None`` if ``text`` is not a decimal number followed by ``%``.

    The range ``0 < P <= 100`` is checked by the caller (``duration``), which names the argument.
    """
    from decimal import Decimal
    from fractions import Fraction

    body = text.strip()
    if not body.endswith("%"):
        return None
    body = body[:-1].strip()
    if not body or not set(body) <= _PERCENT_CHARS or body.count(".") > 1 or body == ".":
        return None
    d = Decimal(body)
    canon = format(d.normalize(), "f") if d != 0 else "0"
    return Percent(f"{canon}%", Fraction(d))


def duration(owner: str, name: str, v: Any, *, zero: bool = False) -> int | Percent:
    """A duration: a positive integer (non-negative with ``zero``) or a percentage of the run.

    ``"P%"`` (``0 < P <= 100``, ``P`` a decimal number such as ``"2.5"``) becomes a :class:`Percent`,
    resolved to ``round(P * total_steps / 100)`` steps by ``Schedule.bind``.
    """
    if type(v) is int and 0 < v <= MAX_COUNT:
        return v
    if isinstance(v, Percent):
        return v
    if isinstance(v, str):
        p = parse_percent(v)
        if p is None or not 0 < p.fraction <= 100:
            kind = "a non-negative integer" if zero else "a positive integer"
            raise _fail(owner, name, f"{kind} or a percentage of the run between 0% (excluded) and 100%, "
                        "such as '5%' or '2.5%'", v)
        return p
    if not _is_real(v):  # an integral float is the integer it equals (positive_int)
        kind = "a non-negative integer" if zero else "a positive integer"
        raise _type_fail(owner, name, f"{kind} or a percentage of the run such as '5%'", v)
    return non_negative_int(owner, name, v) if zero else positive_int(owner, name, v)


def _same_kind(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Two positions in comparable form, or ``None`` (a step and a percentage: compared once bound)."""
    pa, pb = isinstance(a, Percent), isinstance(b, Percent)
    if pa and pb:
        return a.fraction, b.fraction
    if pa or pb:
        return None
    return a, b


def unexpected_keyword(owner: str, name: str, params: Sequence[str]) -> TypeError:
    """``TypeError`` for an unknown keyword argument, with the closest known name ("did you mean")."""
    import difflib  # only on this error path: ``import lrkit`` stays light

    close = difflib.get_close_matches(name, list(params), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return TypeError(
        f"{owner}: got an unexpected keyword argument {name!r}.{hint} It takes: {', '.join(params)}"
    )


def keywords(fn: F) -> F:
    """Decorate a public constructor so a misspelled keyword argument gets a "did you mean".

    ``lk.cosine(1.0, 0.0, stesp=10)`` raises ``cosine: got an unexpected keyword argument 'stesp'.
    Did you mean 'steps'?`` instead of Python's bare message. The wrapper shares ``fn``'s globals,
    so ``doctest`` still finds ``fn``'s examples in its own module; ``inspect.signature`` follows
    ``__wrapped__``.
    """
    params = tuple(
        p.name for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in inspect.signature(fn).parameters.values())
    owner, unexpected = fn.__name__, unexpected_keyword

    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs and not accepts_any:
            for k in kwargs:
                if k not in params:
                    raise unexpected(owner, k, params)
        return fn(*args, **kwargs)

    wrapper = types.FunctionType(call.__code__, fn.__globals__, fn.__name__, None, call.__closure__)
    return functools.update_wrapper(wrapper, fn)  # type: ignore[return-value]


#: Bulk checks for ``each``: a check -> a test that every item passes it as is.
_FAST: dict[Any, Callable[[tuple[Any, ...]], bool]] = {
    positive_int: all_durations,
    non_negative_int: lambda items: all_durations(items, 0),
    duration: all_durations,
    value: _all_values,
}


def bulk_check(check: Any, fast: Callable[[tuple[Any, ...]], bool]) -> None:
    """Let ``each`` check a long list for ``check`` in bulk with ``fast`` (``True``: every item passes as is)."""
    _FAST[check] = fast

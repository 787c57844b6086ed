"""Argument checks shared by every constructor.

Every message has the shape ``<owner>: `<arg>` must be <constraint>. Received: <arg>=<value!r>``, so
the user sees which call, which argument and what was passed. Checks run at construction only; the
evaluated math never raises on data (it may be traced by JAX or Keras).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any


class ScheduleError(ValueError):
    """A schedule was given an argument with a bad value (catchable as ``ValueError``)."""


class BackendUnavailableError(ImportError):
    """A backend was asked for but its framework is not installed."""


def _fail(owner: str, name: str, constraint: str, value: Any) -> ScheduleError:
    return ScheduleError(f"{owner}: `{name}` must be {constraint}. Received: {name}={value!r}")


def _type_fail(owner: str, name: str, constraint: str, value: Any) -> TypeError:
    return TypeError(
        f"{owner}: `{name}` must be {constraint}. "
        f"Received: {name}={value!r} of type {type(value).__name__}"
    )


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def real(owner: str, name: str, value: Any) -> float:
    """A finite real number, returned as a Python float."""
    if not _is_real(value):
        raise _type_fail(owner, name, "a real number", value)
    out = float(value)
    if not math.isfinite(out):
        raise _fail(owner, name, "finite", value)
    return out


def value(owner: str, name: str, v: Any) -> float:
    """A learning rate or similar: finite and non-negative (``-0.0`` becomes ``0.0``)."""
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


def positive_int(owner: str, name: str, v: Any) -> int:
    """A duration: a positive integer (an integral float such as ``1e4`` is not accepted)."""
    if not _is_int(v):
        raise _type_fail(owner, name, "a positive integer", v)
    if v <= 0:
        raise _fail(owner, name, "a positive integer", v)
    return int(v)


def non_negative_int(owner: str, name: str, v: Any) -> int:
    if not _is_int(v):
        raise _type_fail(owner, name, "a non-negative integer", v)
    if v < 0:
        raise _fail(owner, name, "a non-negative integer", v)
    return int(v)


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
    """``check(owner, "name[i]", item)`` for every item, so a message names the bad position."""
    return tuple(check(owner, f"{name}[{i}]", x) for i, x in enumerate(items))


def strictly_increasing(owner: str, name: str, v: tuple[Any, ...]) -> None:
    for a, b in zip(v, v[1:]):
        if not b > a:
            raise _fail(owner, name, "strictly increasing", list(v))


def non_decreasing(owner: str, name: str, v: tuple[Any, ...]) -> None:
    for a, b in zip(v, v[1:]):
        if b < a:
            raise _fail(owner, name, "sorted in non-decreasing order", list(v))

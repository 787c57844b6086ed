"""Argument handling shared by the Keras and optax ports.

The natives take loosely typed numbers (Python floats, numpy scalars, 0-d tensors) and integral
floats for step counts (``decay_steps=1000.0``). These helpers turn them into the plain Python
numbers the lrkit constructors take, or raise an error naming the native argument.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from lrkit._errors import ScheduleError


def number(owner: str, name: str, v: Any) -> float:
    """A finite real number given as a Python/numpy number or a 0-d array/tensor."""
    if isinstance(v, bool) or v is None:
        raise TypeError(
            f"{owner}: `{name}` must be a real number. Received: {name}={v!r} of type {type(v).__name__}"
        )
    if isinstance(v, numbers.Real):
        out = float(v)
    elif tuple(getattr(v, "shape", (None,))) == () and hasattr(v, "__float__"):
        try:
            out = float(v)
        except (TypeError, ValueError):
            raise TypeError(
                f"{owner}: `{name}` must be a real number. Received: {name}={v!r} "
                f"of type {type(v).__name__}"
            ) from None
    else:
        raise TypeError(
            f"{owner}: `{name}` must be a real number. Received: {name}={v!r} of type {type(v).__name__}"
        )
    if not math.isfinite(out):
        raise ScheduleError(f"{owner}: `{name}` must be finite. Received: {name}={v!r}")
    return out


def value(owner: str, name: str, v: Any) -> float:
    """A learning rate: finite and non-negative."""
    out = number(owner, name, v)
    if out < 0:
        raise ScheduleError(
            f"{owner}: `{name}` must be a finite non-negative number. Received: {name}={v!r}"
        )
    return out


def flag(owner: str, name: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if type(v).__name__ == "bool_":  # numpy bool
        return bool(v)
    raise TypeError(
        f"{owner}: `{name}` must be True or False. Received: {name}={v!r} of type {type(v).__name__}"
    )


def integral(x: float) -> int | None:
    """``int(x)`` if ``x`` is a whole number, else ``None``."""
    return int(x) if float(x).is_integer() else None


def whole(owner: str, name: str, v: Any, *, minimum: int = 1, why: str = "") -> int:
    """A step count: an int or an integral float, at least ``minimum``."""
    x = number(owner, name, v)
    n = integral(x)
    if n is None:
        raise ScheduleError(
            f"{owner}: `{name}` must be a whole number of steps{why}. Received: {name}={v!r}"
        )
    if n < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ScheduleError(f"{owner}: `{name}` must be {kind}. Received: {name}={v!r}")
    return n


def cosine_any(start: float, end: float, steps: float) -> Any:
    r"""``cosine(start, end, steps)`` for a positive, possibly fractional ``steps``.

    A fractional horizon ``d`` has an exact lrkit form: :math:`(1 + \cos(\pi t / d)) / 2 =
    \cos^2(\pi t / (2d))` is ``cosine_wave(start, end, 1, cycles=0.5 / d)`` while ``t < d``, and the
    value holds ``end`` from the first whole step ``ceil(d)`` on.
    """
    from lrkit._compose import join
    from lrkit._schedules import constant, cosine, cosine_wave

    n = integral(steps)
    if n is not None:
        return cosine(start, end, n)
    return join([cosine_wave(start, end, 1, cycles=0.5 / steps), constant(end)], [math.ceil(steps)])


def clean(x: float) -> float:
    """``x``, a product or ratio of native parameters, printed the way the user wrote them.

    ``0.1 * 0.1`` is ``0.010000000000000002`` in float64; the shortest decimal within 2 ulps of it
    (``0.01``) is what the recipe means, and a port prints ``linear(0.01, 0.1, 5)`` instead of the
    float noise. The value moves by at most 2 ulps (``4.4e-16`` relative), far inside the rounding
    the natives themselves accumulate; a value with no shorter form within 2 ulps is kept as is.

    Examples:
      >>> clean(0.1 * 0.1), clean(0.1 * 3), clean(1 / 3)
      (0.01, 0.3, 0.3333333333333333)
    """
    if x == 0.0 or not math.isfinite(x):
        return x
    slack = 2.0 * math.ulp(x)
    for digits in range(1, 16):
        c = float(f"{x:.{digits}g}")
        if abs(c - x) <= slack:
            return c
    return x

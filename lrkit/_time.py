"""Time maps over a schedule tree: ``bind`` (percentages of the run to steps) and ``stretch``.

Both rewrite every duration of a schedule and rebuild it node by node. A node declares its
durations on its class (``_chain``: consecutive pieces from its local step 0, ``_positions``: steps
where something happens, ``_periods``: lengths that repeat, independent of position); composition
nodes that place children in time (``join``, ``warmup``, ``per_epoch``, ...) override
``Schedule._retime``.

**Cumulative rounding.** A new duration is never rounded on its own: the new *positions* (where a
piece starts and ends, counted on the whole run's clock) are computed exactly (``Fraction``) and
rounded half up, and a piece's length is the difference of its rounded ends. So pieces that
together span the run sum to exactly its length, a child of a ``join`` ends exactly where the next
one starts, and a whole-step duration is unchanged by ``bind`` (half-up rounding commutes with
shifts by whole steps, which round-half-to-even does not).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from lrkit import _errors as E


def round_half_up(x: Fraction) -> int:
    """``floor(x + 1/2)``: the nearest integer, halves upward."""
    return math.floor(x + Fraction(1, 2))


class Retimer:
    """Maps a written duration to its exact length on the new clock (``None``: keep as written)."""

    owner = "retime"

    def length(self, v: Any) -> Fraction | None:
        raise NotImplementedError

    def epochs(self, steps_per_epoch: int) -> Retimer:
        """The map for a child whose clock counts epochs of ``steps_per_epoch`` steps."""
        return self

    def tokens(self, count: Any) -> Retimer:
        """The map for a child whose clock counts tokens; ``count(n)`` = tokens in the first n steps."""
        return self


class Bind(Retimer):
    """``"P%"`` -> ``P * total / 100`` (``total`` on the child's own clock); whole steps unchanged."""

    owner = "bind"

    def __init__(self, total: Fraction, total_steps: int) -> None:
        self.total = total
        self.total_steps = total_steps

    def length(self, v: Any) -> Fraction | None:
        if isinstance(v, E.Percent):
            return v.fraction * self.total / 100
        return Fraction(v)

    def epochs(self, steps_per_epoch: int) -> Retimer:
        return Bind(self.total / steps_per_epoch, self.total_steps)

    def tokens(self, count: Any) -> Retimer:
        return Bind(Fraction(count(self.total_steps)), self.total_steps)


class Stretch(Retimer):
    """Whole-step durations times ``ratio``; percentages kept (they already scale with the run)."""

    owner = "stretch"

    def __init__(self, ratio: Fraction) -> None:
        self.ratio = ratio

    def length(self, v: Any) -> Fraction | None:
        if isinstance(v, E.Percent):
            return None
        return Fraction(v) * self.ratio


def _pos(offset: Fraction, x: Fraction) -> int:
    """Local position ``x`` (exact, new clock) of a node whose step 0 is at ``offset``, rounded."""
    return round_half_up(offset + x) - round_half_up(offset)


def retime_chain(rt: Retimer, offset: Fraction, values: list[Any], start: Fraction = Fraction(0)) -> tuple[list[Any], Fraction]:
    """Consecutive pieces starting at local ``start``: new lengths and the exact local end."""
    out, x = [], start
    for v in values:
        if v is None:
            out.append(None)
            continue
        n = rt.length(v)
        if n is None:
            out.append(v)
            continue
        out.append(_pos(offset, x + n) - _pos(offset, x))
        x = x + n
    return out, x


def retime_position(rt: Retimer, offset: Fraction, v: Any) -> Any:
    n = rt.length(v)
    return v if n is None else _pos(offset, n)


def retime_period(rt: Retimer, v: Any) -> Any:
    if v is None:
        return None
    n = rt.length(v)
    return v if n is None else round_half_up(n)


def retime_children(node: Any, rt: Retimer, offset: Fraction, values: dict[str, Any]) -> None:
    """Children that share the node's clock and start (product, sum, scale, ...)."""
    for name in node._children:
        v = getattr(node, name)
        values[name] = tuple(c._retime(rt, offset) for c in v) if isinstance(v, tuple) else v._retime(rt, offset)


def retime_fields(node: Any, rt: Retimer, offset: Fraction) -> Any:
    """The default ``Schedule._retime``: the node's declared durations, children on its own clock."""
    values = {n: getattr(node, n) for n in node._names}
    if node._chain:
        new, _ = retime_chain(rt, offset, [values[n] for n in node._chain])
        values.update(zip(node._chain, new))
    for n in node._positions:
        v = values[n]
        values[n] = tuple(retime_position(rt, offset, x) for x in v) if isinstance(v, tuple) else retime_position(rt, offset, v)
    for n in node._periods:
        values[n] = retime_period(rt, values[n])
    retime_children(node, rt, offset, values)
    return rebuild(node, values)


def rebuild(node: Any, values: dict[str, Any]) -> Any:
    if all(values[n] is getattr(node, n) or (values[n] == getattr(node, n) and type(values[n]) is type(getattr(node, n)))
           for n in node._names):
        return node
    return type(node)(**values)


def total_steps_arg(owner: str, total_steps: Any) -> int:
    return E.positive_int(owner, "total_steps", total_steps)


def bind(schedule: Any, total_steps: Any) -> Any:
    """``schedule.bind(total_steps)``: every percentage of the run resolved to steps."""
    n = total_steps_arg("bind", total_steps)
    if not schedule._unbound:
        return schedule
    try:
        out = schedule._retime(Bind(Fraction(n), n), Fraction(0))
    except ValueError as e:
        raise E.ScheduleError(f"bind: with total_steps={n}, {e}") from None
    if out._unbound:  # a node type that does not declare its durations
        raise E.ScheduleError(f"bind: cannot resolve the percentages of {out!r}. Received: total_steps={n}")
    return out


def resolve(owner: str, schedule: Any, total_steps: Any) -> Any:
    """What an adapter runs: ``schedule`` bound to ``total_steps``, or an error if it needs it."""
    if total_steps is None:
        if getattr(schedule, "_unbound", False):
            from lrkit._base import _percent_text

            raise E.unbound_error(owner, _percent_text(schedule))
        return schedule
    n = total_steps_arg(owner, total_steps)
    return bind(schedule, n)


def stretch_ratio(owner: str, ratio: Any) -> Fraction:
    """``ratio`` as an exact fraction, read as the decimal it prints as (``0.7`` is 7/10)."""
    r = E.positive(owner, "ratio", ratio)
    if isinstance(ratio, int):
        return Fraction(ratio)
    if isinstance(ratio, Fraction):
        return ratio
    return Fraction(repr(r))

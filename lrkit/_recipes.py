r"""Recipes in the language of modern training: tokens, stretching, cooldown branches, rounding.

* ``per_tokens(schedule, tokens_per_step)``: a schedule written in tokens (or samples), evaluated
  at steps, with a fixed number of tokens per step or a schedule of per-step batch sizes.
* ``stretch(schedule, ratio)``: every duration times ``ratio`` (composer's ``scale_schedule_ratio``).
* ``cooldown(schedule, at, steps, ...)``: branch a decay from any step of a run (WSD cooldowns).
* ``rounded(schedule)``: integer values, for batch sizes and other integer hyperparameters.

Each node's value is computed from the step alone, through the same ``Ops`` table as every curve,
so every backend evaluates it and resuming is exact.
"""

from __future__ import annotations

import math
from typing import Any

from lrkit import _errors as E
from lrkit._base import Schedule, frozen, register
from lrkit._compose import Join, Warmup, _schedule
from lrkit._ops import SCALAR_OPS, Ops
from lrkit._schedules import Constant, Linear, PiecewiseConstant, _cos_anneal, _cos_rise, _hull, _padded, _set

COOLDOWN_SHAPES = ("linear", "cosine", "sqrt", "square")


# -- rounded ------------------------------------------------------------------------------------


def _round_half_even(x: Any, ops: Ops) -> Any:
    """``x`` rounded to the nearest integer, halves to even, with ``floor`` and ``where`` only.

    ``x - floor(x)`` is exact in binary floating point. A value within 4 ulps of a half counts as
    the half: a curve computes an exact half (``linear(8, 9, 2)`` at step 1) with a rounding error
    of an ulp or two about one time in fifteen, and it should still round to even.
    """
    r = ops.floor(x)
    d = x - r
    up = r + 1.0
    tol = 4.0 * ops.eps(x) * ops.maximum(x, 1.0)
    odd = r - 2.0 * ops.floor(r * 0.5)  # 1.0 for an odd r, 0.0 for an even one
    tie = ops.where(odd > 0.5, up, r)
    return ops.where(d > 0.5 + tol, up, ops.where(d < 0.5 - tol, r, tie))


@register
@frozen
class Rounded(Schedule):
    kind = "rounded"
    _children = ("schedule",)
    schedule: Schedule

    def __post_init__(self) -> None:
        _schedule(self.kind, "schedule", self.schedule)

    def _eval(self, t: Any, ops: Ops) -> Any:
        return _round_half_even(self.schedule._eval(t, ops), ops)

    def _range(self, until: int) -> tuple[float, float]:
        lo, hi = self.schedule._range_at(until)  # rounding is monotone: whole numbers around them
        return float(math.floor(lo)), float(math.ceil(hi))

    @property
    def duration(self) -> int | None:
        return self.schedule.duration

    def _breaks(self, until: int) -> list[int]:
        return self.schedule._breaks(until)


# -- cooldown -----------------------------------------------------------------------------------


@register
@frozen
class Cooldown(Schedule):
    kind = "cooldown"
    _children = ("schedule",)
    schedule: Schedule
    at: int
    steps: int
    end: float = 0.0
    shape: str = "linear"

    def __post_init__(self) -> None:
        _schedule(self.kind, "schedule", self.schedule)
        _set(self, "at", E.duration(self.kind, "at", self.at, zero=True))
        _set(self, "steps", E.duration(self.kind, "steps", self.steps))
        _set(self, "end", E.value(self.kind, "end", self.end))
        E.choice(self.kind, "shape", self.shape, COOLDOWN_SHAPES)
        if not (self.schedule._unbound or isinstance(self.at, E.Percent)):
            _set(self, "_from", float(self.schedule(self.at)))

    def _decay(self, u: Any, ops: Ops) -> Any:
        v0: float = self._from  # type: ignore[attr-defined]
        n = float(self.steps)
        done = ops.minimum(ops.to_float(u), n)  # steps of the cooldown done
        r = ops.div(n - done, n)  # fraction of the cooldown left, exact (correctly rounded under XLA too)
        if self.shape == "linear":
            return v0 * r + self.end * (1.0 - r)
        if self.shape == "cosine" and v0 < self.end:  # rising: from the steps done
            return _cos_rise(ops, v0, self.end, ops.div(done, n))
        if self.shape == "cosine":
            return _cos_anneal(ops, v0, self.end, r)
        if self.shape == "sqrt":
            # done / n, not 1 - r: 1 - r can come out below 0.
            return self.end + (v0 - self.end) * (1.0 - ops.sqrt(ops.div(done, n)))
        return self.end + (v0 - self.end) * (r * (2.0 - r))  # 1 - x**2 = r (2 - r), x = 1 - r

    def _range(self, until: int) -> tuple[float, float]:
        decay = _padded(_hull(self._from, self.end))  # type: ignore[attr-defined]
        child = self.schedule._range_at(until) if self.at else decay
        return E.reach(self.kind, "end", _hull(*child, *decay), self.end)

    def _eval(self, t: Any, ops: Ops) -> Any:
        if self.at == 0:
            return self._decay(t, ops)
        child = self.schedule._eval_fn(ops)
        return ops.piecewise(t, (self.at,), [child, lambda u: self._decay(u, ops)])

    def _retime(self, rt: Any, offset: Any) -> Schedule:
        from lrkit._time import rebuild, retime_chain

        (at, steps), _ = retime_chain(rt, offset, [self.at, self.steps])
        return rebuild(self, {"schedule": self.schedule._retime(rt, offset), "at": at, "steps": steps,
                              "end": self.end, "shape": self.shape})

    @property
    def duration(self) -> int | None:
        return self.at + self.steps

    def _breaks(self, until: int) -> list[int]:
        return [b for b in self.schedule._breaks(min(until, self.at)) if b < self.at] + [self.at, self.at + self.steps]


# -- per_tokens ---------------------------------------------------------------------------------

_BATCH_FORMS = "constant, linear, piecewise_constant, warmup (linear), join and rounded"


def _fdiv(y: Any, g: int, ops: Ops) -> Any:
    """``floor(y / g)`` for an integer-valued ``y`` (a Python int, or floats of any backend)."""
    if isinstance(y, int):
        return y // g
    q = ops.floor(y / float(g))
    q = ops.where(q * float(g) > y, q - 1.0, q)
    return ops.where((q + 1.0) * float(g) <= y, q + 1.0, q)


def _floor_sum(m: Any, g: int, a: int, b: int, ops: Ops) -> Any:
    r"""``sum(floor((a*j + b) / g) for j in range(m))`` for ``m >= 0`` (any backend), ``g > 0``, ``a, b >= 0``.

    The Euclid-like reduction of AtCoder Library's ``floor_sum``: ``(g, a)`` evolve statically (as in
    Euclid's algorithm), only ``m`` and ``b`` depend on the step, so the loop runs a fixed number of
    times and traces into a fixed graph. Once ``m`` reaches 0 every later term is 0.
    """
    exact = isinstance(m, int)
    out: Any = 0
    first = True
    while True:
        if a >= g:
            out = out + (a // g) * (m * (m - 1) // 2 if exact else m * (m - 1.0) * 0.5)
            a %= g
        if first:
            if b >= g:
                out = out + (b // g) * m
                b %= g
        else:
            qb = _fdiv(b, g, ops)
            out = out + qb * m
            b = b - qb * g
        first = False
        if a == 0:
            return out
        y = m * a + b
        m = _fdiv(y, g, ops)
        b = y - m * g
        g, a = a, g


def _ramp_sum(m: Any, a: int, d: int, n: int, ops: Ops) -> Any:
    """``sum(round_half_even(a + d * j / n) for j in range(m))`` for ``m >= 0``: exact, closed form.

    Round half up is ``floor((2(a n + d j) + n) / (2n))``, summed by :func:`_floor_sum`; the halves
    that round down instead (to even) are counted in closed form: with ``n' = n / gcd(d, n)`` even,
    ``a + d j / n`` is a half exactly at ``j = n'/2 + k n'``, and half of those (every other ``k``)
    round down.
    """
    if d < 0:  # round_half_even(-y) = -round_half_even(y)
        return -_ramp_sum(m, -a, -d, n, ops)
    if d == 0:
        return a * m
    # floor((2 d j + 2 a n + n) / (2 n)), with the constant made non-negative by shifting whole units.
    b = 2 * a * n + n
    shift = 0 if b >= 0 else -(b // (2 * n))
    out = _floor_sum(m, 2 * n, 2 * d, b + shift * 2 * n, ops) - shift * m
    g = math.gcd(d, n)
    n1, d1 = n // g, d // g
    if n1 % 2 == 0:  # ties exist (d1 is odd): at tie k, floor(x + 1/2) = a + d1 k + (d1 + 1) / 2
        ties = _fdiv(m + (n1 // 2 - 1), n1, ops)  # ties with j < m
        p = (1 - a - (d1 + 1) // 2) % 2  # the parity of k whose tie rounds down
        out = out - (_fdiv(ties + 1, 2, ops) if p == 0 else _fdiv(ties, 2, ops))
    return out


class _Segment:
    """Batch sizes from step ``start`` on: constant ``a``, or the ramp ``a + d * (j0 + u) / n`` (rounded)."""

    __slots__ = ("a", "d", "j0", "n", "start", "tokens")

    def __init__(self, start: int, a: int, d: int = 0, n: int = 1, j0: int = 0) -> None:
        self.start, self.a, self.d, self.n, self.j0 = start, a, d, n, j0
        self.tokens = 0  # tokens before `start`, filled in by _segments

    def local(self, u: Any, ops: Ops) -> Any:
        """Tokens of steps ``start .. start + u - 1`` (``u`` steps into the segment)."""
        if self.d == 0:  # a float for array steps: a Python int past int32 would not trace under JAX
            return u * self.a if isinstance(u, int) else u * float(self.a)
        if self.j0 == 0:
            return _ramp_sum(u, self.a, self.d, self.n, ops)
        return _ramp_sum(u + self.j0, self.a, self.d, self.n, ops) - _ramp_sum(self.j0, self.a, self.d, self.n, ops)

    def value(self, u: int) -> int:
        """The batch size at step ``start + u``: ``round_half_even(a + d * (j0 + u) / n)``, in integers."""
        if not self.d:
            return self.a
        q, r = divmod(self.d * (self.j0 + u), self.n)  # floor, 0 <= r < n
        if 2 * r > self.n or (2 * r == self.n and (self.a + q) % 2):
            q += 1
        return self.a + q


def _int_value(owner: str, what: str, v: float, rounded: bool) -> int:
    if rounded:
        return round(v)
    if v != int(v):
        raise E.ScheduleError(
            f"{owner}: `tokens_per_step` must give a whole batch size at every step; {what} is {v!r}. "
            "Wrap the batch-size schedule in lrkit.rounded(...) to round it"
        )
    return int(v)


def _ramp(owner: str, what: str, start: int, a: float, b: float, n: int, rounded: bool) -> list[_Segment]:
    if a == b:
        return [_Segment(start, _int_value(owner, what, a, rounded))]
    if a != int(a) or b != int(b):
        raise E.ScheduleError(
            f"{owner}: `tokens_per_step` ramps must run between whole batch sizes; {what} runs from "
            f"{a!r} to {b!r}"
        )
    d = int(b) - int(a)
    if not rounded and d % n:
        raise E.ScheduleError(
            f"{owner}: `tokens_per_step` must give a whole batch size at every step; {what} goes from "
            f"{a!r} to {b!r} in {n} steps (not a whole number per step). Wrap the batch-size schedule "
            "in lrkit.rounded(...) to round it"
        )
    return [_Segment(start, int(a), d, n), _Segment(start + n, int(b))]


def _flatten(owner: str, s: Schedule, rounded: bool) -> list[_Segment]:
    """The batch-size schedule ``s`` as segments (constant or linear ramp), the last one open."""
    if isinstance(s, Rounded):
        return _flatten(owner, s.schedule, True)
    if isinstance(s, Constant):
        return [_Segment(0, _int_value(owner, f"constant({s.value!r})", s.value, rounded))]
    if isinstance(s, Linear):
        return _ramp(owner, repr(s), 0, s.start, s.end, s.steps, rounded)
    if isinstance(s, PiecewiseConstant):
        starts = (0, *s.boundaries)
        return [_Segment(b, _int_value(owner, f"values[{i}] of {s!r}", v, rounded))
                for i, (b, v) in enumerate(zip(starts, s.values))]
    if isinstance(s, Warmup) and s.shape == "linear":
        ramp = _ramp(owner, repr(s), 0, s.start, s._target, s.steps, rounded)[:1]  # type: ignore[attr-defined]
        rest = _flatten(owner, s.schedule, rounded)
        if not s.overlay:
            return ramp + _shifted(rest, s.steps)
        return ramp + _from_step(rest, s.steps)
    if isinstance(s, Join):
        out: list[_Segment] = []
        edges = (0, *s.boundaries, None)
        for i, child in enumerate(s.schedules):
            segs = _shifted(_flatten(owner, child, rounded), edges[i])
            hi = edges[i + 1]
            out += [g for g in segs if hi is None or g.start < hi]
        return out
    raise TypeError(
        f"{owner}: `tokens_per_step` must be an int or a batch-size schedule built from {_BATCH_FORMS}. "
        f"Received: tokens_per_step={s!r}"
    )


def _shifted(segs: list[_Segment], by: int) -> list[_Segment]:
    return [_Segment(g.start + by, g.a, g.d, g.n, g.j0) for g in segs]


def _from_step(segs: list[_Segment], at: int) -> list[_Segment]:
    """The segments from step ``at`` on (``warmup(..., overlay=True)`` hides the steps before)."""
    out = []
    for i, g in enumerate(segs):
        end = segs[i + 1].start if i + 1 < len(segs) else None
        if end is not None and end <= at:
            continue
        if g.start >= at:
            out.append(g)
        else:
            out.append(_Segment(at, g.a, g.d, g.n, g.j0 + (at - g.start) if g.d else 0))
    return out


def _segments(owner: str, batch: Schedule) -> tuple[_Segment, ...]:
    segs = _flatten(owner, batch, False)
    merged: list[_Segment] = []
    for g in segs:  # later segments starting at the same step win (a join boundary at 0 cannot happen)
        if merged and merged[-1].start == g.start:
            merged[-1] = g
        else:
            merged.append(g)
    for g in merged:
        for u in (0,) if not g.d else (0, g.n - g.j0 - 1):
            if g.value(u) < 0:
                raise E.ScheduleError(f"{owner}: batch sizes must be non-negative. Received: tokens_per_step={batch!r}")
    total = 0
    for i, g in enumerate(merged):
        g.tokens = total
        if i + 1 < len(merged):
            total += g.local(merged[i + 1].start - g.start, SCALAR_OPS)
    return tuple(merged)


@register
@frozen
class PerTokens(Schedule):
    kind = "per_tokens"
    _children = ("schedule", "tokens_per_step")
    schedule: Schedule
    tokens_per_step: Schedule

    def __post_init__(self) -> None:
        _schedule(self.kind, "schedule", self.schedule)
        k = self.tokens_per_step
        if isinstance(k, Schedule):
            pass
        elif (isinstance(k, float) and k.is_integer()) or E._is_int(k):
            _set(self, "tokens_per_step", Constant(E.positive_int(self.kind, "tokens_per_step", int(k))))
        else:
            raise TypeError(
                f"{self.kind}: `tokens_per_step` must be a positive integer or a batch-size schedule. "
                f"Received: tokens_per_step={k!r} of type {type(k).__name__}"
            )
        if not self.tokens_per_step._unbound:
            _set(self, "_segs", _segments(self.kind, self.tokens_per_step))

    def tokens(self, step: Any, ops: Ops) -> Any:
        """Tokens before ``step``: the batch sizes of steps ``0 .. step - 1`` summed (exact for ints)."""
        segs: tuple[_Segment, ...] = self._segs  # type: ignore[attr-defined]
        if len(segs) == 1:
            return segs[0].local(step, ops)
        fns = [(lambda u, g=g: g.tokens + g.local(u, ops)) for g in segs]
        return ops.piecewise(step, tuple(g.start for g in segs[1:]), fns)

    def _eval(self, t: Any, ops: Ops) -> Any:
        if not isinstance(t, int):
            t = ops.to_float(t)
        return self.schedule._eval(self.tokens(t, ops), ops)

    def _range(self, until: int) -> tuple[float, float]:
        tokens = self.tokens(until, SCALAR_OPS)  # the schedule runs at the tokens so far (non-decreasing)
        try:
            return self.schedule._range_at(int(tokens))
        except E.ScheduleError as exc:
            raise E.ScheduleError(
                f"{self.kind}: `tokens_per_step` must keep every value of the schedule finite up to "
                f"step 2**53 ({exc}). Received: tokens_per_step={self.tokens_per_step!r}"
            ) from None

    def _steps_for(self, x: int) -> int | None:
        """The first step ``t`` with ``tokens(t) >= x``, or ``None`` if the run never gets there."""
        hi = 1
        while self.tokens(hi, SCALAR_OPS) < x:
            hi *= 2
            if hi > 1 << 62:
                return None
        lo = 0
        while lo < hi:
            mid = (lo + hi) // 2
            if self.tokens(mid, SCALAR_OPS) >= x:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _retime(self, rt: Any, offset: Any) -> Schedule:
        from fractions import Fraction

        from lrkit._time import Bind, rebuild, round_half_up

        batch = self.tokens_per_step._retime(rt, offset)
        if isinstance(rt, Bind):
            inner = PerTokens(Constant(0.0), batch)  # tokens of the run from this node's start
            left = rt.total_steps - round_half_up(offset)
            child_rt: Any = Bind(Fraction(inner.tokens(max(left, 0), SCALAR_OPS)), rt.total_steps)
        else:
            child_rt = rt
        return rebuild(self, {"schedule": self.schedule._retime(child_rt, Fraction(0)), "tokens_per_step": batch})

    @property
    def duration(self) -> int | None:
        d, b = self.schedule.duration, self.tokens_per_step.duration
        if d is None or b is None:
            return None
        t = self._steps_for(d)
        return b if t is None else max(t, b)

    def _breaks(self, until: int) -> list[int]:
        out = [g.start for g in self._segs]  # type: ignore[attr-defined]
        top = self.tokens(until, SCALAR_OPS)
        for x in self.schedule._breaks(top + 1):
            t = self._steps_for(x)
            if t is not None:
                out.append(t)
        return out

    def __repr__(self) -> str:
        k = self.tokens_per_step
        text = str(int(k.value)) if isinstance(k, Constant) else repr(k)
        return f"per_tokens({self.schedule!r}, {text})"


# -- public constructors ------------------------------------------------------------------------


def rounded(schedule: Schedule) -> Schedule:
    r"""Integer values: ``schedule`` rounded to the nearest integer, halves to even.

    For batch sizes, sequence lengths and other integer hyperparameters (``s.round()`` is the same).

    Args:
      schedule: any schedule.

    Returns:
      A schedule whose value at step ``t`` is ``round(schedule(t))`` (Python's ``round``: half to even).

    Examples:
      >>> import lrkit as lk
      >>> s = lk.rounded(lk.linear(8.0, 16.0, 16))
      >>> [s(t) for t in (0, 1, 3, 15, 16)]
      [8.0, 8.0, 10.0, 16.0, 16.0]
    """
    return Rounded(schedule)


def cooldown(schedule: Schedule, at: int, steps: int, end: float = 0.0, shape: str = "linear") -> Schedule:
    r"""``schedule`` until step ``at``, then a decay from ``schedule(at)`` to ``end`` over ``steps`` steps.

    A WSD cooldown branched from any checkpoint: run a constant (or any) schedule, and from the
    checkpoint at step ``at`` decay with one of four shapes, :math:`x = \min(t - at, steps) / steps`:

    * ``linear``: :math:`v_0 + (\mathrm{end} - v_0)\,x`
    * ``cosine``: :math:`\mathrm{end} + (v_0 - \mathrm{end})(1 + \cos \pi x) / 2`
    * ``sqrt``: :math:`\mathrm{end} + (v_0 - \mathrm{end})(1 - \sqrt{x})` (1-sqrt; arXiv 2405.18392)
    * ``square``: :math:`\mathrm{end} + (v_0 - \mathrm{end})(1 - x^2)` (1-square)

    where :math:`v_0 = \mathrm{schedule}(at)`. ``end`` holds from ``at + steps`` on. An ``at`` past
    the end of a finite schedule is allowed: the schedule holds its final value there, and the
    cooldown starts from that value.

    Args:
      schedule: the schedule to branch from.
      at: the step where the cooldown starts (a non-negative integer, or a percentage of the run).
      steps: cooldown length (a positive integer, or a percentage of the run).
      end: the final value (finite, non-negative).
      shape: ``"linear"``, ``"cosine"``, ``"sqrt"`` or ``"square"``.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.cooldown(lk.constant(1.0), at=100, steps=10, shape="sqrt")
      >>> [round(s(t), 4) for t in (99, 100, 102, 110, 200)]
      [1.0, 1.0, 0.5528, 0.0, 0.0]
    """
    return Cooldown(schedule, at, steps, end, shape)


def per_tokens(schedule: Schedule, tokens_per_step: int | Schedule) -> Schedule:
    r"""A schedule written in tokens (or samples), evaluated at steps.

    With an int ``tokens_per_step`` the value at step ``t`` is ``schedule(t * tokens_per_step)``.
    With a schedule of per-step batch sizes it is ``schedule(tokens before step t)``: the batch
    sizes of steps ``0 .. t-1`` summed exactly, in closed form (no running total: any step is
    evaluated directly, resuming is exact, and every backend computes it through the same ops).

    The batch-size schedule must be built from ``constant``, ``linear``, ``piecewise_constant``,
    ``warmup`` (linear ramp) and ``join`` of those, and give a whole batch size at every step. A
    linear ramp between whole sizes whose step is not whole (8 to 64 over 1000 steps) is refused
    unless wrapped in ``lrkit.rounded(...)``: then each step's batch size is the ramp rounded half
    to even, and those integers are summed (exactly, with a closed-form floor sum). Values are
    exact integers up to ``2**53`` tokens in float64 (Python, numpy, torch adapter); float32
    backends (JAX, Keras) round the token count to float32.

    Percentages of the run inside ``schedule`` are of the run's tokens (see ``Schedule.bind``).

    Args:
      schedule: a schedule whose step counts tokens (or samples).
      tokens_per_step: a positive integer, or a batch-size schedule as above.

    Raises:
      TypeError: ``tokens_per_step`` is of another kind, or a schedule of another form.
      ValueError: a batch size that is not a whole number, or negative.

    Examples:
      >>> import lrkit as lk
      >>> lr = lk.warmup(lk.cosine(1.0, 0.0, 9000), 1000)      # in tokens
      >>> lk.per_tokens(lr, 100)(5)                               # 500 tokens in
      0.5
      >>> batch = lk.piecewise_constant([10], [50, 100])          # 50 per step, then 100
      >>> s = lk.per_tokens(lr, batch)
      >>> s(10), s(15)                                            # 500 tokens, then 1000
      (0.5, 1.0)
    """
    return PerTokens(schedule, tokens_per_step)  # type: ignore[arg-type]


def stretch(schedule: Schedule, ratio: float) -> Schedule:
    r"""Every duration of ``schedule`` times ``ratio``, rounded to the nearest step.

    Warmups, ``join`` boundaries, milestones, periods and every ``steps`` are scaled, so the whole
    curve is stretched in time (composer's ``scale_schedule_ratio``, which truncates instead and
    leaves warmups alone by default). Rounding is cumulative (see ``Schedule.bind``): each *position*
    where a piece starts or ends becomes the nearest step to ``ratio`` times it (halves up), and a
    piece's length is the difference of its ends, so consecutive pieces still fit exactly.
    ``ratio`` is read as the decimal it prints as (``0.7`` is exactly 7/10). Percentages of the run
    are kept as they are (they scale with the run already), and so are factors per step (``cyclic``'s
    ``exp_range`` ``gamma``) and the epoch length of ``per_epoch``.

    Args:
      schedule: any schedule.
      ratio: a positive number.

    Raises:
      ValueError: ``ratio <= 0``, or a duration that would round to 0 steps where the schedule
        needs at least one.

    Examples:
      >>> import lrkit as lk
      >>> lk.stretch(lk.warmup(lk.cosine(1.0, 0.0, 900), 100), 1.5)
      warmup(cosine(1.0, 0.0, 1350), 150)
    """
    from fractions import Fraction as F

    from lrkit._time import Stretch, stretch_ratio

    if not isinstance(schedule, Schedule):
        _schedule("stretch", "schedule", schedule)
    r = stretch_ratio("stretch", ratio)
    try:
        return schedule._retime(Stretch(r), F(0))
    except ValueError as e:
        raise E.ScheduleError(f"stretch: with ratio={ratio!r}, {e}") from None

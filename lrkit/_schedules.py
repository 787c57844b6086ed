r"""Leaf schedules: one formula each, written once against the ``Ops`` table.

Cosine curves use the half-angle form :math:`(1 + \cos \pi x)/2 = \sin^2(\tfrac{\pi}{2}(1 - x))`
with the *remaining* fraction ``(steps - t) / steps`` computed exactly, so the value keeps full
relative precision near the end of a long decay where ``(1 + cos x) / 2`` loses it. A curve rising
from ``start`` to ``end`` (``start < end``) is written the other way round,
:math:`\mathrm{start} + (\mathrm{end} - \mathrm{start}) \sin^2(\tfrac{\pi}{2} x)` from the progress
``x`` computed exactly (the steps done), so it keeps its relative precision near ``start``, where the
falling form would cancel to ulps of the amplitude. Which form is static (from ``start``/``end``; a
join's gathered group shares it; restart cycles whose tops cross ``end`` choose per cycle), and a
falling curve's bits are those of the falling form.
"""

from __future__ import annotations

import math
from typing import Any

from lrkit import _errors as E
from lrkit._base import MAX_BREAKS, MAX_STEP, Schedule, frozen, register
from lrkit._ops import SCALAR_OPS, Ops

_frozen = frozen


#: ``_set(node, name, value)``: how a node normalises its own fields in ``__post_init__`` (nodes are
#: frozen; the builtin itself, not a wrapper: every constructor calls it once per field).
_set = object.__setattr__


def _cos_anneal(ops: Ops, start: Any, end: Any, remaining: Any, per: float | None = None) -> Any:
    """``end + (start - end) * (1 + cos(pi * (1 - x))) / 2`` in the half-angle form, ``x = remaining``.

    With ``per``, ``remaining`` counts steps and ``x = remaining / n`` with ``per = pi / (2 n)``
    folded into one multiplication. Multiplying by 1 and adding 0 are skipped (whole-array passes
    under numpy). Accurate relative to the value near ``end``; for a curve rising to ``end``
    (``start < end``), ``_cos_rise`` is the form accurate near ``start``.
    """
    s = ops.sin(remaining * (ops.pi / 2.0 if per is None else per))
    return _toward(start, end, s * s)


def _cos_rise(ops: Ops, start: Any, end: Any, done: Any, per: float | None = None) -> Any:
    """The same curve as ``_cos_anneal`` from the *progress* ``x = done`` (``1 - remaining``):
    ``start + (end - start) * sin(pi x / 2)**2``.

    For a rising curve (``start < end``): near ``start`` the value is ``start`` plus a small
    non-negative term, so it keeps its relative precision there, where ``end - (end - start) * (1 -
    tiny)`` cancels to ulps of the amplitude. ``done`` must come exactly from the step (the steps
    done, ``t - a``), not as ``1 - remaining``. ``per`` as in ``_cos_anneal``.
    """
    s = ops.sin(done * (ops.pi / 2.0 if per is None else per))
    return _toward(end, start, s * s)


def _toward(a: Any, b: Any, w: Any) -> Any:
    """``b + (a - b) * w``, skipping a multiplication by 1 and an addition of 0."""
    k = a - b
    if not (isinstance(k, float) and k == 1.0):
        w = k * w
    if not (isinstance(b, float) and b == 0.0):
        w = b + w
    return w


def _cos_either(ops: Ops, top: Any, end: Any, remaining: Any, done: Any) -> Any:
    """``_cos_anneal`` where ``top >= end`` and ``_cos_rise`` where ``top < end``, for a ``top`` that
    changes with the step (a restart cycle's ``start * decay ** i`` crossing ``end``); each element
    gets exactly the bits of its form, with one ``sin``."""
    s = ops.sin(ops.where(top < end, done, remaining) * (ops.pi / 2.0))
    # min + |top - end| w: `top + (end - top) w` where rising, `end + (top - end) w` where not (the two
    # differences round alike but for the sign).
    return ops.minimum(top, end) + ops.maximum(top - end, end - top) * (s * s)


def _duration0(owner: str, name: str, v: Any) -> Any:
    return E.duration(owner, name, v, zero=True)


E.bulk_check(_duration0, lambda items: E.all_durations(items, 0))  # long lists checked in bulk


#: Relative slack of a bound whose formula rounds: 2**-44 is 256 ulps of float64.
_SLACK = 2.0**-44


def _hull(*values: float) -> tuple[float, float]:
    if len(values) == 2:  # the common case, without two passes through min/max
        a, b = values
        return (a, b) if a <= b else (b, a)
    return min(values), max(values)


def _padded(bounds: tuple[float, float]) -> tuple[float, float]:
    """``bounds`` widened by ``_SLACK`` of ``hi`` on both sides, for a formula that rounds.

    A non-negative ``lo`` stays non-negative (every formula is non-negative by construction: sums
    and products of non-negative terms, or ``a + (b - a) * w`` with ``0 <= w <= 1``); a negative
    one is kept so ``_errors.reach`` refuses it.
    """
    lo, hi = bounds
    pad = _SLACK * hi
    low = lo - pad
    if lo >= 0.0 and not low >= 0.0:  # (not >=: a NaN stays NaN)
        low = 0.0
    return low, hi + pad


def _grown(start: float, factor: float, times: float) -> float:
    """``start * factor ** times`` as ``_eval`` computes it (``inf`` where ``factor ** times``
    overflows); ``start == 0`` stays 0 as the formulas special-case it."""
    return 0.0 if start == 0.0 else start * SCALAR_OPS.power(factor, times)


#: Exponents below this flush to 0 in float32 (and ``0 ** 0`` is 1 where ``0 ** p`` is 0).
_TINY_EXPONENT = 1e-30


def _pow_from_zero(ops: Ops, x: Any, p: float) -> Any:
    """``x ** p`` for ``x >= 0``, ``p > 0``; a tiny ``p`` (float32 flushes it to 0) keeps ``0 ** p == 0``."""
    if p >= _TINY_EXPONENT:
        return ops.power(x, p)
    return ops.where(x > 0.0, ops.power(x, p), 0.0)


def _times_power(ops: Ops, start: float, base: float, p: Any) -> Any:
    """``start * base ** p`` (``start >= 0``). Where growth overflows ``base ** p`` the product is
    ``inf`` (0 for ``start == 0``), also on float32 backends whose ``start`` flushed to 0 (``0 * inf``
    would be NaN)."""
    g = ops.power(base, p)
    v = start * g
    if base > 1.0:
        v = ops.where(g < math.inf, v, math.inf if start > 0.0 else 0.0)
    return v


#: Veltkamp's splitter for float64 (2**27 + 1).
_SPLIT = 134217729.0


def _two_prod_err(a: Any, b: float, p: Any) -> Any:
    """``a * b - p`` exactly, for ``p = fl(a * b)`` in float64 (Dekker's two-product).

    ``a`` is an array or scalar of float64 (a step, exact below 2**53), ``b`` a Python float.
    Only ``*``, ``+``, ``-``, so it runs on every float64 ops table. 0 when ``b`` is a power of 2.
    """
    bb = _SPLIT * b
    bh = bb - (bb - b)
    bl = b - bh
    aa = a * _SPLIT
    ah = aa - (aa - a)
    al = a - ah
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _every(k: int, until: int) -> list[int]:
    """Multiples of ``k`` below ``until`` (at most ``MAX_BREAKS`` of them)."""
    return list(range(k, min(until, k * (MAX_BREAKS + 1)), k))


def _num(x: Any) -> Any:
    """A Python number as a float (a Python int past int32 would overflow under JAX); an array of
    gathered parameters (``Schedule._gather``) as it is."""
    return x if hasattr(x, "dtype") else float(x)


def _check_cycles(node: Any) -> None:
    """Validate and normalise ``period_mult`` (>= 1, the second cycle within 2**53 steps) and ``decay``."""
    m = E.real(node.kind, "period_mult", node.period_mult)
    if m < 1.0:
        raise E.ScheduleError(
            f"{node.kind}: `period_mult` must be >= 1. Received: period_mult={node.period_mult!r}"
        )
    if m > 1.0 and isinstance(node.period, int) and not node.period * m <= MAX_STEP:
        raise E.ScheduleError(
            f"{node.kind}: `period_mult` must keep the second cycle (period * period_mult) at most "
            f"2**53 steps. Received: period_mult={node.period_mult!r}, period={node.period!r}"
        )
    _set(node, "period_mult", m)
    _set(node, "decay", E.positive(node.kind, "decay", node.decay))


def _remaining(ops: Ops, t: Any, steps: Any) -> Any:
    """``(steps - min(t, steps)) / steps`` as a float, with the subtraction done before dividing."""
    n = _num(steps)
    # Correctly rounded (``ops.div``: XLA would divide by a reciprocal, and 3 * (1 / 3) in float32
    # is 1 + 3e-8, which made `end * (1 - r)` negative at step 0), and at most 1 in any case.
    return ops.minimum(ops.div(n - ops.minimum(ops.to_float(t), n), n), 1.0)


@register
@_frozen
class Constant(Schedule):
    kind = "constant"
    _gather = ("value",)
    value: float

    def __post_init__(self) -> None:
        _set(self, "value", E.value(self.kind, "value", self.value))

    def _eval(self, t: Any, ops: Ops) -> Any:
        return ops.full(t, self.value)

    def _range(self, until: int) -> tuple[float, float]:
        return self.value, self.value

    @property
    def duration(self) -> int | None:
        return 0


@register
@_frozen
class Linear(Schedule):
    kind = "linear"
    _chain = ("steps",)
    _gather = ("start", "end", "steps")
    _static = ("_flat",)
    start: float
    end: float
    steps: int

    def __post_init__(self) -> None:
        _set(self, "start", E.value(self.kind, "start", self.start))
        _set(self, "end", E.value(self.kind, "end", self.end))
        _set(self, "steps", E.duration(self.kind, "steps", self.steps))

    @property
    def _flat(self) -> bool:
        return self.start == self.end

    def _eval(self, t: Any, ops: Ops) -> Any:
        if self._flat:
            return ops.full(t, self.start)
        r = _remaining(ops, t, self.steps)  # exact 1 at t = 0 and 0 from t = steps on
        return self.start * r + self.end * (1.0 - r)

    def _range(self, until: int) -> tuple[float, float]:
        return E.reach(self.kind, "start", _padded(_hull(self.start, self.end)), self.start)

    @property
    def duration(self) -> int | None:
        return self.steps


@register
@_frozen
class Cosine(Schedule):
    kind = "cosine"
    _chain = ("steps",)
    _gather = ("start", "end", "steps")
    _static = ("_rising",)
    start: float
    end: float
    steps: int

    def __post_init__(self) -> None:
        _set(self, "start", E.value(self.kind, "start", self.start))
        _set(self, "end", E.value(self.kind, "end", self.end))
        _set(self, "steps", E.duration(self.kind, "steps", self.steps))

    @property
    def _rising(self) -> bool:
        """The form (a setting of a join's gathered group: pieces gathered together share it)."""
        return self.start < self.end

    def _eval(self, t: Any, ops: Ops) -> Any:
        n = _num(self.steps)
        done = ops.minimum(ops.to_float(t), n)  # steps done, exact
        if self._rising:
            return _cos_rise(ops, self.start, self.end, done, ops.pi / (2.0 * n))
        return _cos_anneal(ops, self.start, self.end, n - done, ops.pi / (2.0 * n))  # steps left, exact

    def _range(self, until: int) -> tuple[float, float]:
        return E.reach(self.kind, "start", _padded(_hull(self.start, self.end)), self.start)

    @property
    def duration(self) -> int | None:
        return self.steps


@register
@_frozen
class CosineWave(Schedule):
    """Cosine that keeps oscillating past ``steps`` (torch ``CosineAnnealingLR``, transformers)."""

    kind = "cosine_wave"
    _chain = ("steps",)
    start: float
    end: float
    steps: int
    cycles: float = 0.5
    restart: bool = False

    def __post_init__(self) -> None:
        _set(self, "start", E.value(self.kind, "start", self.start))
        _set(self, "end", E.value(self.kind, "end", self.end))
        _set(self, "steps", E.duration(self.kind, "steps", self.steps))
        _set(self, "cycles", E.positive(self.kind, "cycles", self.cycles))
        _set(self, "restart", E.boolean(self.kind, "restart", self.restart))

    # With `restart`, which cycle a step is in is decided as transformers decides it, from the float
    # phase t / steps * cycles (two roundings: at most 2**-52 of the phase off), and the position in
    # the cycle from the exact phase. The two name different cycles only where the exact phase is
    # within that rounding of a whole number, so within max(1e-9, phase * 2**-50) cycles of a restart
    # (4x the bound) the native's cycle is taken, up to a phase of 2**48 cycles; past that the float
    # phase is too coarse to follow and the exact one holds.
    def _eval(self, t: Any, ops: Ops) -> Any:
        # A wave rising from `start` (start < end) is written from the distance to its start (the
        # top), where the value is small: start + (end - start) * sin(pi * (phase - k))**2.
        rising = self.start < self.end
        if type(t) is int:
            # A Python int step (the scalar path: torch's schedulers, `s(k)`): the position in the
            # cycle exactly, in integers, so the phase holds at any step (2**53 and past), where a
            # float64 phase t / steps * cycles has lost its fraction.
            p, q = float(self.cycles).as_integer_ratio()
            den = q * int(self.steps)
            k_exact, r = divmod(t * p, den)  # t * cycles / steps = k_exact + r / den
            if self.restart:
                d = min(r, den - r)
                shift = 0
                if d * 10**9 <= den or ((d << 50) <= t * p < den << 48):  # near a restart (see above)
                    shift = math.floor(t / float(self.steps) * self.cycles) - k_exact
                if rising:  # the fraction of the cycle done, an exact int ratio, correctly rounded
                    return _cos_rise(ops, self.start, self.end, (r - shift * den) / den)
                return _cos_anneal(ops, self.start, self.end, (den - r) / den + shift)
            if rising:  # phase - k (or - (k + 1)), nearest the top: 0 at the start of each wave
                sd = ops.sin((r if 2 * r <= den else r - den) / den * ops.pi)
                return self.start + (self.end - self.start) * (sd * sd)
            sd = ops.sin((2 * r - den) / (2 * den) * ops.pi)  # phase - (k + 1/2): 0 at the bottom
            return self.end + (self.start - self.end) * (sd * sd)
        # (t / steps) * cycles, in this order: transformers' cosine_with_restarts computes
        # `num_cycles * progress`, and a restart lands on the same step only if rounded alike.
        phase = ops.div(ops.to_float(t), float(self.steps)) * self.cycles  # cycles completed
        eps = ops.eps(phase)
        if self.restart and eps > 2.0**-52:
            # float32 (JAX): XLA divides by a reciprocal, so a whole number of cycles can come out
            # an ulp short (and a restart would read as the cycle's end); snap within 2 ulps, the
            # rounding of the two products (the smooth wave is continuous there: no snap needed).
            whole = ops.floor(phase + 0.5)
            phase = ops.where(ops.maximum(phase - whole, whole - phase) <= (2.0 * eps) * whole, whole, phase)
        if eps <= 2.0**-52:
            # float64: the distance to the bottom of the wave (or to the end of a restart cycle)
            # from the exact product t * cycles (hi + lo, a two-product), so a value near 0 keeps
            # full relative precision: at t = T + 1 of T = 333,333,333 the value is 8e-18 of the
            # amplitude, and rounding `phase` alone would leave it 5e-8 relative off.
            # The position in the cycle is (t * cycles) mod steps: `fmod` is exact, so the phase also
            # holds at far steps (2**53), where (k + 1) * steps no longer fits a float64.
            n = float(self.steps)
            tf = ops.to_float(t)
            hi = tf * self.cycles
            lo = _two_prod_err(tf, self.cycles, hi)
            r = ops.fmod(hi, n)
            if self.restart:
                rem = ops.div((n - r) - lo, n)  # fraction of the cycle left (exact cycle k_exact)
                # Within a hair of a restart, follow the natives' rounded phase (transformers computes
                # `num_cycles * progress`): a restart that rounding moves by a step moves here too.
                k_exact = ops.div(hi - r, n)  # hi - r is a whole number of cycles times n: exact
                hair = ops.where(phase < 2.0**48, ops.maximum(phase * 2.0**-50, 1e-9), 1e-9)
                near = ops.minimum(rem, 1.0 - rem) <= hair  # near a restart (see above)
                if rising:  # the fraction done, from r (r - n, r + n by the natives' rounding)
                    shift = ops.where(near, ops.floor(phase) - k_exact, 0.0)
                    return _cos_rise(ops, self.start, self.end, ops.div((r - shift * n) + lo, n))
                rem = ops.where(near, rem + (ops.floor(phase) - k_exact), rem)
                return _cos_anneal(ops, self.start, self.end, rem)
            if rising:  # phase - k or phase - (k + 1), the nearer (r - n exact there): 0 at the top
                sd = ops.sin(ops.div(ops.where(r <= 0.5 * n, r, r - n) + lo, n) * ops.pi)
                return self.start + (self.end - self.start) * (sd * sd)
            d = ops.div((r - 0.5 * n) + lo, n)  # phase - (k + 1/2), up to a whole cycle: 0 at the bottom
            sd = ops.sin(d * ops.pi)
            return self.end + (self.start - self.end) * (sd * sd)
        frac = phase - ops.floor(phase)  # position in the current cycle, in [0, 1)
        if self.restart:
            # Each cycle runs start -> end once, then jumps back.
            if rising:
                return _cos_rise(ops, self.start, self.end, frac)
            return _cos_anneal(ops, self.start, self.end, 1.0 - frac)
        if rising:  # sin^2(pi frac), from frac or frac - 1 (exact), the nearer the top
            sd = ops.sin(ops.where(frac <= 0.5, frac, frac - 1.0) * ops.pi)
            return self.start + (self.end - self.start) * (sd * sd)
        # Each cycle runs start -> end -> start: (1 + cos(2 pi phase)) / 2 = cos^2(pi frac).
        c = ops.cos(frac * ops.pi)
        return self.end + (self.start - self.end) * (c * c)

    def _range(self, until: int) -> tuple[float, float]:
        phase = float(until) / float(self.steps) * self.cycles  # as in _eval
        # float64 arrays also form the exact product t * cycles (before dividing by steps): both finite.
        if not (phase < math.inf and float(until) * self.cycles < math.inf):  # inf - floor(inf) is NaN
            limit = min(1.7e308 / float(until) * self.steps, 1.7e308 / float(until))
            raise E.ScheduleError(
                f"{self.kind}: `cycles` must keep the phase t / steps * cycles and the product t * cycles "
                f"finite up to step 2**53 (at most about {limit:.3g} here). Received: cycles={self.cycles!r}"
            )
        return E.reach(self.kind, "start", _padded(_hull(self.start, self.end)), self.start)

    def _breaks(self, until: int) -> list[int]:
        if not self.restart:
            return []
        # Restarts at the first whole steps on or after k * steps / cycles.
        period = self.steps / self.cycles
        if not period < until:  # also an infinite period from a subnormal `cycles`
            return []
        n = min(MAX_BREAKS, int(min(until / period, MAX_BREAKS)) + 1)
        return [math.ceil(k * period) for k in range(1, n + 1)]


@register
@_frozen
class Exponential(Schedule):
    kind = "exponential"
    _periods = ("every",)
    _gather = ("start", "end")  # `rate` decides branches (_times_power, _clamp): a setting
    _static = ("_zero", "_clamp")
    start: float
    rate: float
    every: int
    staircase: bool = False
    end: float | None = None

    def __post_init__(self) -> None:
        _set(self, "start", E.value(self.kind, "start", self.start))
        _set(self, "rate", E.positive(self.kind, "rate", self.rate))
        _set(self, "every", E.duration(self.kind, "every", self.every))
        _set(self, "staircase", E.boolean(self.kind, "staircase", self.staircase))
        if self.end is not None:
            _set(self, "end", E.value(self.kind, "end", self.end))

    def _eval(self, t: Any, ops: Ops) -> Any:
        if self.staircase:  # whole periods in the step's own type: exact (XLA divides by a reciprocal)
            p = ops.to_float(ops.floordiv(t, self.every))
        else:
            p = ops.div(ops.to_float(t), float(self.every))
        # start == 0 stays 0 even where rate ** p overflows (0 * inf would be NaN).
        v = ops.full(t, 0.0) if self._zero else _times_power(ops, self.start, self.rate, p)
        clamp = self._clamp
        if not clamp:
            return v
        return ops.maximum(v, self.end) if clamp == "max" else ops.minimum(v, self.end)

    @property
    def _zero(self) -> bool:
        return self.start == 0.0

    @property
    def _clamp(self) -> str:
        """How ``end`` bounds the curve: ``"max"`` (decaying), ``"min"`` (growing) or ``""`` (not)."""
        if self.end is None or self.rate == 1.0:
            return ""
        return "max" if self.rate < 1.0 else "min"

    def _range(self, until: int) -> tuple[float, float]:
        p = float(until // self.every) if self.staircase else float(until) / float(self.every)
        first, last = self.start, _grown(self.start, self.rate, p)  # the curve is monotone
        if self.end is not None and self.rate != 1.0:
            clamp = max if self.rate < 1.0 else min
            first, last = clamp(first, self.end), clamp(last, self.end)
        return E.reach(self.kind, "rate", _padded(_hull(first, last)), self.rate)

    def _breaks(self, until: int) -> list[int]:
        out = _every(self.every, until) if self.staircase else []
        if self.end is not None and self.rate != 1.0 and self.start > 0 and self.end > 0:
            # where start * rate ** (t / every) reaches end (logs apart: end / start may underflow)
            x = self.every * (math.log(self.end) - math.log(self.start)) / math.log(self.rate)
            if 0 < x < until:
                out += [math.floor(x), math.ceil(x)]
        return out


@register
@_frozen
class Polynomial(Schedule):
    kind = "polynomial"
    _chain = ("steps",)
    _gather = ("start", "end", "steps")
    start: float
    end: float
    steps: int
    power: float = 1.0
    cycle: bool = False

    def __post_init__(self) -> None:
        _set(self, "start", E.value(self.kind, "start", self.start))
        _set(self, "end", E.value(self.kind, "end", self.end))
        _set(self, "steps", E.duration(self.kind, "steps", self.steps))
        _set(self, "power", E.positive(self.kind, "power", self.power))
        _set(self, "cycle", E.boolean(self.kind, "cycle", self.cycle))

    def _gather_fields(self) -> tuple[str, ...]:
        return ("start", "end") if self.cycle else self._gather  # cycles divide by a Python int

    def _eval(self, t: Any, ops: Ops) -> Any:
        if self.cycle:
            tf = ops.to_float(t)
            # ceil(t / steps) = -floor(-t / steps), in the step's own type: exact.
            periods = ops.to_float(-ops.floordiv(-t, self.steps))
            span = float(self.steps) * ops.maximum(periods, 1.0)
            r = ops.minimum((span - tf) / span, 1.0)  # XLA's reciprocal can round it above 1
        else:
            r = _remaining(ops, t, self.steps)
        return (self.start - self.end) * _pow_from_zero(ops, r, self.power) + self.end

    def _range(self, until: int) -> tuple[float, float]:
        return E.reach(self.kind, "start", _padded(_hull(self.start, self.end)), self.start)

    @property
    def duration(self) -> int | None:
        return None if self.cycle else self.steps

    def _breaks(self, until: int) -> list[int]:
        return _every(self.steps, until) if self.cycle else [self.steps]


@register
@_frozen
class Step(Schedule):
    kind = "step"
    _periods = ("every",)
    start: float
    gamma: float
    every: int

    def __post_init__(self) -> None:
        _set(self, "start", E.value(self.kind, "start", self.start))
        _set(self, "gamma", E.positive(self.kind, "gamma", self.gamma))
        _set(self, "every", E.duration(self.kind, "every", self.every))

    def _eval(self, t: Any, ops: Ops) -> Any:
        # floor(t / every) in the step's own type: exact (XLA divides by a reciprocal).
        if self.start == 0.0:  # 0 stays 0 where gamma ** k overflows (0 * inf would be NaN)
            return ops.full(t, 0.0)
        return _times_power(ops, self.start, self.gamma, ops.to_float(ops.floordiv(t, self.every)))

    def _range(self, until: int) -> tuple[float, float]:
        last = _grown(self.start, self.gamma, float(until // self.every))
        return E.reach(self.kind, "gamma", _padded(_hull(self.start, last)), self.gamma)

    def _breaks(self, until: int) -> list[int]:
        return _every(self.every, until)


@register
@_frozen
class MultiStep(Schedule):
    kind = "multistep"
    _positions = ("milestones",)
    start: float
    milestones: tuple[int, ...]
    gamma: float

    def __post_init__(self) -> None:
        _set(self, "start", E.value(self.kind, "start", self.start))
        ms = E.sequence(self.kind, "milestones", self.milestones)
        ms = E.each(self.kind, "milestones", ms, E.duration)
        E.non_decreasing(self.kind, "milestones", ms)
        _set(self, "milestones", ms)
        _set(self, "gamma", E.positive(self.kind, "gamma", self.gamma))

    def _eval(self, t: Any, ops: Ops) -> Any:
        if not self.milestones:
            return ops.full(t, self.start)
        return _times_power(ops, self.start, self.gamma, ops.bucket(t, self.milestones))

    def _range(self, until: int) -> tuple[float, float]:
        n = sum(1 for m in self.milestones if m <= until)
        last = _grown(self.start, self.gamma, float(n))
        return E.reach(self.kind, "gamma", _padded(_hull(self.start, last)), self.gamma)

    @property
    def duration(self) -> int | None:
        return self.milestones[-1] if self.milestones else 0

    def _breaks(self, until: int) -> list[int]:
        return list(self.milestones)


@register
@_frozen
class PiecewiseConstant(Schedule):
    kind = "piecewise_constant"
    _positions = ("boundaries",)
    boundaries: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        bs = E.sequence(self.kind, "boundaries", self.boundaries)
        bs = E.each(self.kind, "boundaries", bs, E.duration)
        E.strictly_increasing(self.kind, "boundaries", bs)
        vs = E.sequence(self.kind, "values", self.values, min_len=1)
        vs = E.each(self.kind, "values", vs, E.value)
        if len(vs) != len(bs) + 1:
            raise E.ScheduleError(
                f"{self.kind}: `values` must have one more entry than `boundaries` "
                f"({len(bs) + 1}). Received: values={list(vs)!r}, boundaries={list(bs)!r}"
            )
        _set(self, "boundaries", bs)
        _set(self, "values", vs)

    def _eval(self, t: Any, ops: Ops) -> Any:
        if not self.boundaries:
            return ops.full(t, self.values[0])
        return ops.take(self.values, ops.bucket(t, self.boundaries))

    def _range(self, until: int) -> tuple[float, float]:
        return _hull(*self.values)  # exact: the values themselves

    @property
    def duration(self) -> int | None:
        return self.boundaries[-1] if self.boundaries else 0

    def _breaks(self, until: int) -> list[int]:
        return list(self.boundaries)


@register
@_frozen
class PiecewiseLinear(Schedule):
    kind = "piecewise_linear"
    _positions = ("steps",)
    steps: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        xs = E.sequence(self.kind, "steps", self.steps, min_len=1)
        xs = E.each(self.kind, "steps", xs, _duration0)
        E.strictly_increasing(self.kind, "steps", xs)
        vs = E.sequence(self.kind, "values", self.values, min_len=1)
        vs = E.each(self.kind, "values", vs, E.value)
        if len(vs) != len(xs):
            raise E.ScheduleError(
                f"{self.kind}: `values` must have as many entries as `steps` ({len(xs)}). "
                f"Received: values={list(vs)!r}, steps={list(xs)!r}"
            )
        _set(self, "steps", xs)
        _set(self, "values", vs)

    def _eval(self, t: Any, ops: Ops) -> Any:
        xs, ys = self.steps, self.values
        if len(xs) == 1:
            return ops.full(t, ys[0])
        tf = ops.to_float(t)
        j = ops.clip(ops.bucket(t, xs), 1, len(xs) - 1)  # right end of the segment
        x0, x1 = ops.take(xs[:-1], j - 1), ops.take(xs[1:], j - 1)
        y0, y1 = ops.take(ys[:-1], j - 1), ops.take(ys[1:], j - 1)
        w = ops.clip((tf - x0) / (x1 - x0), 0.0, 1.0)
        return y0 * (1.0 - w) + y1 * w

    def _range(self, until: int) -> tuple[float, float]:
        return E.reach(self.kind, "values", _padded(_hull(*self.values)), list(self.values))

    @property
    def duration(self) -> int | None:
        return self.steps[-1]

    def _breaks(self, until: int) -> list[int]:
        return list(self.steps)


@register
@_frozen
class InverseSqrt(Schedule):
    kind = "inverse_sqrt"
    _periods = ("timescale",)
    start: float
    timescale: int

    def __post_init__(self) -> None:
        _set(self, "start", E.value(self.kind, "start", self.start))
        _set(self, "timescale", E.duration(self.kind, "timescale", self.timescale))

    def _eval(self, t: Any, ops: Ops) -> Any:
        return self.start / ops.sqrt(1.0 + ops.div(ops.to_float(t), float(self.timescale)))

    def _range(self, until: int) -> tuple[float, float]:
        last = self.start / math.sqrt(1.0 + float(until) / float(self.timescale))
        return E.reach(self.kind, "start", _padded((last, self.start)), self.start)


@register
@_frozen
class InverseTime(Schedule):
    kind = "inverse_time"
    _periods = ("every",)
    start: float
    rate: float
    every: int
    staircase: bool = False

    def __post_init__(self) -> None:
        _set(self, "start", E.value(self.kind, "start", self.start))
        _set(self, "rate", E.positive(self.kind, "rate", self.rate))
        _set(self, "every", E.duration(self.kind, "every", self.every))
        _set(self, "staircase", E.boolean(self.kind, "staircase", self.staircase))

    def _eval(self, t: Any, ops: Ops) -> Any:
        if self.staircase:  # whole periods in the step's own type: exact (XLA divides by a reciprocal)
            p = ops.to_float(ops.floordiv(t, self.every))
        else:
            p = ops.div(ops.to_float(t), float(self.every))
        return self.start / (1.0 + self.rate * p)

    def _range(self, until: int) -> tuple[float, float]:
        p = float(until // self.every) if self.staircase else float(until) / float(self.every)
        last = self.start / (1.0 + self.rate * p)  # 0 where rate * p overflows
        return E.reach(self.kind, "start", _padded((last, self.start)), self.start)

    def _breaks(self, until: int) -> list[int]:
        return _every(self.every, until) if self.staircase else []


@register
@_frozen
class Cyclic(Schedule):
    kind = "cyclic"
    _chain = ("up", "down")
    low: float
    high: float
    up: int
    down: int | None = None
    mode: str = "triangular"
    gamma: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "low", E.value(self.kind, "low", self.low))
        _set(self, "high", E.value(self.kind, "high", self.high))
        _set(self, "up", E.duration(self.kind, "up", self.up))
        if self.down is not None:
            _set(self, "down", E.duration(self.kind, "down", self.down))
        E.choice(self.kind, "mode", self.mode, ("triangular", "triangular2", "exp_range"))
        _set(self, "gamma", E.positive(self.kind, "gamma", self.gamma))
        down = self.up if self.down is None else self.down
        if isinstance(self.up, int) and isinstance(down, int) and self.up + down > MAX_STEP:  # a longer cycle is not exact in float64 (up / total rounds to 1)
            name = "up" if self.down is None else "down"
            raise E.ScheduleError(
                f"{self.kind}: `up` + `down` (one cycle) must be at most 2**53 (9007199254740992). "
                f"Received: {name}={E.show(getattr(self, name))}, up={E.show(self.up)}"
            )

    def _eval(self, t: Any, ops: Ops) -> Any:
        # torch.optim.lr_scheduler.CyclicLR.get_lr, operation for operation.
        up = float(self.up)
        total = up + float(self.down if self.down is not None else self.up)
        ratio = up / total
        tf = ops.to_float(t)
        q = ops.div(tf, total)  # correctly rounded: whole at every cycle's start, so x is 0 there
        cycle = ops.floor(1.0 + q)
        x = 1.0 + q - cycle
        scale = ops.where(x <= ratio, ops.div(x, ratio), ops.div(x - 1.0, ratio - 1.0))
        height = (self.high - self.low) * scale
        if self.mode == "triangular2":
            height = height * (1.0 / ops.power(2.0, cycle - 1.0))
        elif self.mode == "exp_range":
            height = height * ops.power(self.gamma, tf)
        return self.low + height

    def _range(self, until: int) -> tuple[float, float]:
        if self.mode != "exp_range" or self.gamma <= 1.0:  # the amplitude never grows
            return E.reach(self.kind, "low", _padded(_hull(self.low, self.high)), self.low)
        # torch's exp_range with gamma > 1 grows the amplitude without bound (below 0 when high < low).
        g = SCALAR_OPS.power(self.gamma, float(until))
        if not g < math.inf:  # also 0 * inf = NaN at the bottom of a cycle
            return E.reach(self.kind, "gamma", (self.low, g), self.gamma)
        far = self.low + (self.high - self.low) * g
        return E.reach(self.kind, "gamma", _padded(_hull(self.low, self.high, far)), self.gamma)

    def _breaks(self, until: int) -> list[int]:
        up, total = self.up, self.up + (self.down if self.down is not None else self.up)
        return [b for c in range(0, min(until, total * MAX_BREAKS), total) for b in (c, c + up)]


@register
@_frozen
class OneCycle(Schedule):
    kind = "one_cycle"
    _chain = ("steps",)
    peak: float
    steps: int
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    anneal: str = "cosine"
    three_phase: bool = False

    def __post_init__(self) -> None:
        _set(self, "peak", E.value(self.kind, "peak", self.peak))
        _set(self, "steps", E.duration(self.kind, "steps", self.steps))
        pct = E.real(self.kind, "pct_start", self.pct_start)
        if not 0.0 < pct < 1.0:
            raise E.ScheduleError(
                f"{self.kind}: `pct_start` must be between 0 and 1 (exclusive). "
                f"Received: pct_start={self.pct_start!r}"
            )
        _set(self, "pct_start", pct)
        _set(self, "div_factor", E.positive(self.kind, "div_factor", self.div_factor))
        _set(self, "final_div_factor", E.positive(self.kind, "final_div_factor", self.final_div_factor))
        E.choice(self.kind, "anneal", self.anneal, ("cosine", "linear"))
        _set(self, "three_phase", E.boolean(self.kind, "three_phase", self.three_phase))
        initial = self.peak / self.div_factor
        E.reach(self.kind, "div_factor", (initial, initial), self.div_factor)
        E.reach(self.kind, "final_div_factor", (0.0, initial / self.final_div_factor), self.final_div_factor)
        for i, (a, b, _, _) in enumerate(() if isinstance(self.steps, E.Percent) else self._phases()):
            if b == a:
                raise E.ScheduleError(
                    f"{self.kind}: `pct_start` must leave every phase non-empty: phase {i} would be empty "
                    f"with steps={self.steps} and pct_start={self.pct_start} (torch OneCycleLR divides by "
                    "zero here). "
                    f"Received: steps={self.steps!r}, pct_start={self.pct_start!r}"
                )

    def _phases(self) -> list[tuple[float, float, float, float]]:
        """(start_step, end_step, start_value, end_value) per phase, as torch ``OneCycleLR``."""
        initial = self.peak / self.div_factor
        low = initial / self.final_div_factor
        e1 = float(self.pct_start * self.steps) - 1
        last = float(self.steps - 1)
        if self.three_phase:
            e2 = float(2 * self.pct_start * self.steps) - 2
            return [(0.0, e1, initial, self.peak), (e1, e2, self.peak, initial), (e2, last, initial, low)]
        return [(0.0, e1, initial, self.peak), (e1, last, self.peak, low)]

    def _eval(self, t: Any, ops: Ops) -> Any:
        # torch evaluates up to step == total_steps (it raises beyond); past it the value holds.
        # At step == total_steps torch extrapolates the last phase one step past its end, which
        # under linear annealing can go below 0: that one value is clipped at 0.
        tf = ops.minimum(ops.to_float(t), float(self.steps))
        phases = self._phases()
        out = None
        for i in reversed(range(len(phases))):
            a, b, va, vb = phases[i]
            if self.anneal == "cosine" and va < vb:  # rising: from the steps done (tf - a exact near a)
                v = _cos_rise(ops, va, vb, ops.div(tf - a, b - a))
            elif self.anneal == "cosine":
                v = _cos_anneal(ops, va, vb, ops.div(b - tf, b - a))
            else:
                v = (vb - va) * ops.div(tf - a, b - a) + va
            out = v if out is None else ops.where(tf <= b, v, out)
        return out if self.anneal == "cosine" else ops.maximum(out, 0.0)

    def _range(self, until: int) -> tuple[float, float]:
        ends = [v for _, _, va, vb in self._phases() for v in (va, vb)]
        if self.anneal == "linear":  # at step `steps` torch extrapolates one step past the last phase
            ends.append(self._eval(self.steps, SCALAR_OPS))
        return E.reach(self.kind, "peak", _padded(_hull(*ends)), self.peak)

    @property
    def duration(self) -> int | None:
        return self.steps

    def _breaks(self, until: int) -> list[int]:
        return [*(math.floor(b) + 1 for _, b, _, _ in self._phases()[:-1]), self.steps - 1, self.steps]


def _cycle(ops: Ops, t: Any, period: int, period_mult: float) -> tuple[Any, Any, Any]:
    """SGDR cycles: ``(i, local, length)``, the cycle index, the step within it and its length.

    Cycle ``i`` lasts ``period * period_mult ** i`` steps and starts at
    ``period * (period_mult ** i - 1) / (period_mult - 1)`` (fractional starts fall between steps).
    """
    tf = ops.to_float(t)
    p, m = float(period), period_mult
    if m == 1.0:
        n = ops.floordiv(t, period)  # whole cycles in the step's own type: exact
        i, local, length = ops.to_float(n), ops.to_float(t - n * period), p
    else:
        # Cycle i starts at p (m^i - 1) / (m - 1). Rounding can put a start that is a whole
        # step (always the first, `period`) a hair off it, so starts within rounding distance
        # (1e-9 relative, at most 1e-7 steps) of an integer snap to it; the log guess can land
        # one cycle off, so it is corrected against those starts.
        def begin(k: Any) -> Any:
            mk = ops.power(m, k)  # exact in float64 for a whole m (torch's T_mult) and k
            eps = ops.eps(mk)
            if eps > 2.0**-52:
                # float32: m ** k as exp(k log m), log m rounded once, is ~k times more
                # accurate than raising m (itself rounded) to the power k.
                mk = ops.exp(k * math.log(m))
            b = p * (mk - 1.0) / (m - 1.0)
            r = ops.floor(b + 0.5)
            tol = ops.minimum(1e-9 * r, 1e-7)
            if eps > 2.0**-52:  # float32 (JAX): m ** k rounds by ~(k + 1) eps, times 1 / (m - 1)
                tol = ops.maximum(tol, (4.0 * eps) * (k + 1.0) * (r + p / (m - 1.0)))
            return ops.where(ops.maximum(b - r, r - b) <= tol, r, b)

        i = ops.floor(ops.log(1.0 + tf * (m - 1.0) / p) / ops.log(m))
        i = ops.where(tf < begin(i), i - 1.0, i)
        i = ops.where(tf >= begin(i + 1.0), i + 1.0, i)
        b0 = begin(i)
        local, length = tf - b0, begin(i + 1.0) - b0
    return i, local, length


@register
@_frozen
class CosineRestarts(Schedule):
    kind = "cosine_restarts"
    _periods = ("period",)
    start: float
    end: float
    period: int
    period_mult: float = 1.0
    decay: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "start", E.value(self.kind, "start", self.start))
        _set(self, "end", E.value(self.kind, "end", self.end))
        _set(self, "period", E.duration(self.kind, "period", self.period))
        _check_cycles(self)

    def _eval(self, t: Any, ops: Ops) -> Any:
        i, local, length = _cycle(ops, t, self.period, self.period_mult)
        top = _times_power(ops, self.start, self.decay, i) if self.decay != 1.0 and self.start != 0.0 else self.start
        rises = _tops_rise(self.start, self.end, self.decay)
        if rises is None:
            return _cos_either(ops, top, self.end, ops.div(length - local, length), ops.div(local, length))
        if rises:
            return _cos_rise(ops, top, self.end, ops.div(local, length))
        return _cos_anneal(ops, top, self.end, ops.div(length - local, length))

    def _range(self, until: int) -> tuple[float, float]:
        p, m = float(self.period), self.period_mult
        if m == 1.0:
            cycles = float(until // self.period)
        else:  # index of the cycle holding step `until` (one more for the log's rounding)
            cycles = math.floor(math.log1p(float(until) * (m - 1.0) / p) / math.log(m)) + 1.0
        top = self.start if self.decay == 1.0 else _grown(self.start, self.decay, cycles)
        return E.reach(self.kind, "decay", _padded(_hull(self.start, top, self.end)), self.decay)

    def _breaks(self, until: int) -> list[int]:
        return _cycle_starts(self.period, self.period_mult, until)


def _tops_rise(start: float, end: float, decay: float) -> bool | None:
    """Whether every cycle from ``top = start * decay ** i`` to ``end`` rises (True: ``_cos_rise``),
    none does (False: ``_cos_anneal``), or the cycles cross ``end`` (None: ``_cos_either``). A cycle
    with ``top == end`` is flat: ``end`` in either form."""
    if decay == 1.0 or start == 0.0 or start == end:
        return start < end or (start == end and decay < 1.0)
    if decay < 1.0:  # tops fall toward 0
        return True if start < end else (False if end == 0.0 else None)
    return False if start > end else None  # tops grow


def _cycle_starts(period: int, period_mult: float, until: int) -> list[int]:
    """The whole steps at which SGDR cycles start (fractional starts rounded), below ``until``."""
    out, b, length = [], 0.0, float(period)
    while b < until and len(out) < 10_000:
        out.append(round(b))
        b += length
        length *= period_mult
    return out


@register
@_frozen
class Restarts(Schedule):
    r"""Annealing cycles with warm restarts in a choice of shapes (timm's cosine, tanh and poly schedulers)."""

    kind = "restarts"
    _periods = ("period",)
    start: float
    end: float
    period: int
    shape: str = "cosine"
    period_mult: float = 1.0
    decay: float = 1.0
    limit: int | None = None
    k: float = 1.0
    power: float = 1.0
    lb: float = -7.0
    ub: float = 3.0

    def __post_init__(self) -> None:
        _set(self, "start", E.value(self.kind, "start", self.start))
        _set(self, "end", E.value(self.kind, "end", self.end))
        _set(self, "period", E.duration(self.kind, "period", self.period))
        E.choice(self.kind, "shape", self.shape, ("cosine", "tanh", "polynomial"))
        _check_cycles(self)
        if self.limit is not None:
            _set(self, "limit", E.positive_int(self.kind, "limit", self.limit))
        _set(self, "k", E.positive(self.kind, "k", self.k))
        _set(self, "power", E.positive(self.kind, "power", self.power))
        _set(self, "lb", E.real(self.kind, "lb", self.lb))
        _set(self, "ub", E.real(self.kind, "ub", self.ub))
        if self.shape != "polynomial" and self.power != 1.0:
            raise E.ScheduleError(
                f"{self.kind}: `power` applies to shape='polynomial' only. "
                f"Received: power={self.power!r}, shape={self.shape!r}"
            )
        if self.shape == "tanh":
            if not self.lb < self.ub:
                raise E.ScheduleError(
                    f"{self.kind}: `lb` must be less than `ub`. Received: lb={self.lb!r}, ub={self.ub!r}"
                )
        elif (self.lb, self.ub) != (-7.0, 3.0):
            raise E.ScheduleError(
                f"{self.kind}: `lb` and `ub` apply to shape='tanh' only. "
                f"Received: lb={self.lb!r}, ub={self.ub!r}, shape={self.shape!r}"
            )

    def _eval(self, t: Any, ops: Ops) -> Any:
        i, local, length = _cycle(ops, t, self.period, self.period_mult)
        if self.k == 1.0:
            rem = (length - local) / length  # fraction of the cycle left, exact at its start
            x = 1.0 - rem
        else:  # k-decay: progress x = (local / length) ** k
            x = ops.power(local / length, self.k)
            rem = 1.0 - x
        top = self.start * ops.power(self.decay, i) if self.decay != 1.0 and self.start != 0.0 else self.start
        if self.shape == "cosine":
            rises = _tops_rise(self.start, self.end, self.decay)
            done = ops.div(local, length) if self.k == 1.0 else x  # (1 - rem is not exact near 0)
            if rises is None:
                v = _cos_either(ops, top, self.end, rem, done)
            elif rises:
                v = _cos_rise(ops, top, self.end, done)
            else:
                v = _cos_anneal(ops, top, self.end, rem)
        elif self.shape == "polynomial":
            v = (top - self.end) * ops.power(rem, self.power) + self.end
        else:
            # (1 - tanh z) / 2 = 1 / (1 + exp(2z)) with z = lb (1 - x) + ub x; exp(-2|z|) never
            # overflows, and near z >> 0 the value keeps its relative precision.
            z = self.lb * rem + self.ub * x
            e = ops.exp(-2.0 * ops.maximum(z, -z))
            v = self.end + (top - self.end) * ops.where(z >= 0.0, e / (1.0 + e), 1.0 / (1.0 + e))
        if self.limit is None:
            return v
        return ops.where(i < float(self.limit), v, ops.full(t, self.end))

    def _range(self, until: int) -> tuple[float, float]:
        # Every shape is end + (top - end) * f with 0 <= f <= 1; top = start * decay ** i.
        p, m = float(self.period), self.period_mult
        if m == 1.0:
            cycles = float(until // self.period)
        else:  # index of the cycle holding step `until` (one more for the log's rounding)
            cycles = math.floor(math.log1p(float(until) * (m - 1.0) / p) / math.log(m)) + 1.0
        if self.limit is not None:
            cycles = min(cycles, float(self.limit - 1))
        top = self.start if self.decay == 1.0 else _grown(self.start, self.decay, cycles)
        return E.reach(self.kind, "decay", _padded(_hull(self.start, top, self.end)), self.decay)

    @property
    def duration(self) -> int | None:
        if self.limit is None or not isinstance(self.period, int):
            return None
        m, n = self.period_mult, self.limit
        if m == 1.0:
            return self.period * n
        try:
            b = self.period * (m**n - 1.0) / (m - 1.0)
        except OverflowError:
            return None
        if not b <= 2.0**53:
            return None
        r = round(b)  # a start within rounding distance of a whole step is that step (see _cycle)
        return r if abs(b - r) <= min(1e-9 * r, 1e-7) else math.ceil(b)

    def _breaks(self, until: int) -> list[int]:
        out = _cycle_starts(self.period, self.period_mult, until)
        d = self.duration
        if d is not None:
            out = [b for b in out if b < d] + [d]
        return out


@register
@_frozen
class WarmupStableDecay(Schedule):
    kind = "warmup_stable_decay"
    _chain = ("warmup", "stable", "decay")
    peak: float
    warmup: int
    stable: int
    decay: int
    end: float = 0.0
    shape: str = "linear"

    def __post_init__(self) -> None:
        _set(self, "peak", E.value(self.kind, "peak", self.peak))
        _set(self, "warmup", E.duration(self.kind, "warmup", self.warmup, zero=True))
        _set(self, "stable", E.duration(self.kind, "stable", self.stable, zero=True))
        _set(self, "decay", E.duration(self.kind, "decay", self.decay))
        _set(self, "end", E.value(self.kind, "end", self.end))
        E.choice(self.kind, "shape", self.shape, ("linear", "cosine", "sqrt", "square"))

    def _eval(self, t: Any, ops: Ops) -> Any:
        tf = ops.to_float(t)
        w, d = float(self.warmup), float(self.decay)
        d0 = w + float(self.stable)
        done = ops.clip(tf - d0, 0.0, d)  # decay steps completed
        r = ops.div(d - done, d)
        if self.shape == "linear":
            dec = self.end * (1.0 - r) + self.peak * r
        elif self.shape == "cosine" and self.peak < self.end:  # rising: from the steps done
            dec = _cos_rise(ops, self.peak, self.end, ops.div(done, d))
        elif self.shape == "cosine":
            dec = _cos_anneal(ops, self.peak, self.end, r)
        elif self.shape == "sqrt":
            dec = self.end + (self.peak - self.end) * (1.0 - ops.sqrt(ops.div(done, d)))
        else:  # square: 1 - x**2 = (1 - x)(1 + x), with 1 - x = r exact
            dec = self.end + (self.peak - self.end) * (r * (2.0 - r))
        if self.warmup == 0:
            return dec
        ramp = self.peak * ops.div(ops.minimum(tf, w), w)
        return ops.where(tf < w, ramp, dec)

    def _range(self, until: int) -> tuple[float, float]:
        lows = (0.0,) if self.warmup else ()
        return E.reach(self.kind, "peak", _padded(_hull(self.peak, self.end, *lows)), self.peak)

    @property
    def duration(self) -> int | None:
        return self.warmup + self.stable + self.decay

    def _breaks(self, until: int) -> list[int]:
        return [self.warmup, self.warmup + self.stable, self.warmup + self.stable + self.decay]


# -- public constructors ------------------------------------------------------------------------


@E.keywords
def constant(value: float) -> Schedule:
    """The same value at every step.

    Args:
      value: the value; a finite non-negative number.

    Examples:
      >>> import lrkit as lk
      >>> lk.constant(0.1)(1000)
      0.1
    """
    return Constant(value)


@E.keywords
def linear(start: float, end: float, steps: int) -> Schedule:
    r"""Linear ramp from ``start`` to ``end`` over ``steps`` steps, then ``end``.

    .. math:: v(t) = \mathrm{start} + (\mathrm{end} - \mathrm{start}) \min(t, T) / T

    Args:
      start: value at step 0 (finite, non-negative).
      end: value from step ``steps`` on (finite, non-negative).
      steps: ramp length ``T``, a positive integer.

    Examples:
      >>> import lrkit as lk
      >>> [lk.linear(0.0, 1.0, 4)(t) for t in (0, 2, 4, 9)]
      [0.0, 0.5, 1.0, 1.0]
    """
    return Linear(start, end, steps)


@E.keywords
def cosine(start: float, end: float, steps: int) -> Schedule:
    r"""Cosine decay (or rise) from ``start`` to ``end`` over ``steps`` steps, then ``end``.

    .. math:: v(t) = \mathrm{end} + (\mathrm{start} - \mathrm{end})\,\frac{1 + \cos(\pi \min(t, T)/T)}{2}

    A decay is evaluated as :math:`\mathrm{end} + (\mathrm{start} - \mathrm{end}) \sin^2(\tfrac{\pi}{2}(T - t)/T)`,
    which keeps full relative precision near the end of a long decay; a rise (``start < end``) as
    :math:`\mathrm{start} + (\mathrm{end} - \mathrm{start}) \sin^2(\tfrac{\pi}{2} t/T)`, which keeps it
    near its start. Unlike torch ``CosineAnnealingLR`` it holds ``end`` past ``steps``
    (``cosine_wave`` is the curve that rises again).

    Args:
      start: value at step 0 (finite, non-negative).
      end: value from step ``steps`` on (finite, non-negative).
      steps: decay length ``T``, a positive integer.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.cosine(1.0, 0.0, 100)
      >>> [round(s(t), 4) for t in (0, 50, 100, 150)]
      [1.0, 0.5, 0.0, 0.0]
    """
    return Cosine(start, end, steps)


@E.keywords
def cosine_wave(
    start: float, end: float, steps: int, cycles: float = 0.5, restart: bool = False
) -> Schedule:
    r"""A cosine that keeps going past ``steps``: the curve of torch ``CosineAnnealingLR`` and of
    transformers' ``cosine``/``cosine_with_restarts`` schedules.

    .. math:: v(t) = \mathrm{end} + (\mathrm{start} - \mathrm{end})\,\frac{1 + \cos(2\pi c\,t/T)}{2}

    With the default ``cycles=0.5`` it falls from ``start`` to ``end`` over ``steps`` and then rises
    again. With ``restart=True`` each of the ``cycles`` cycles in ``steps`` falls from ``start`` to
    ``end`` and jumps back: :math:`v = \mathrm{end} + (\mathrm{start}-\mathrm{end})(1 + \cos(\pi\,\mathrm{frac}(c\,t/T)))/2`.

    Args:
      start, end: finite non-negative values.
      steps: a positive integer ``T``.
      cycles: ``c``, a positive number of cycles per ``steps``.
      restart: jump back to ``start`` at each cycle instead of rising smoothly.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.cosine_wave(1.0, 0.0, 10)
      >>> [round(s(t), 3) for t in (0, 5, 10, 15, 20)]
      [1.0, 0.5, 0.0, 0.5, 1.0]
    """
    return CosineWave(start, end, steps, cycles, restart)


@E.keywords
def exponential(
    start: float, rate: float, every: int, staircase: bool = False, end: float | None = None
) -> Schedule:
    r"""Exponential decay (or growth): ``start * rate ** (t / every)``.

    .. math:: v(t) = \mathrm{start} \cdot \mathrm{rate}^{t / \mathrm{every}}

    With ``staircase`` the exponent is ``floor(t / every)``. With ``end`` the value never passes
    ``end`` in the direction of travel (a floor when ``rate < 1``, a ceiling when ``rate > 1``).

    Args:
      start: value at step 0 (finite, non-negative).
      rate: positive factor per ``every`` steps.
      every: a positive integer.
      staircase: decay in whole steps of ``every``.
      end: optional bound (finite, non-negative).

    Examples:
      >>> import lrkit as lk
      >>> [lk.exponential(1.0, 0.5, 10)(t) for t in (0, 10, 20)]
      [1.0, 0.5, 0.25]
      >>> lk.exponential(1.0, 0.5, 10, end=0.3)(20)
      0.3
    """
    return Exponential(start, rate, every, staircase, end)


@E.keywords
def polynomial(
    start: float, end: float, steps: int, power: float = 1.0, cycle: bool = False
) -> Schedule:
    r"""Polynomial decay from ``start`` to ``end`` (Keras ``PolynomialDecay``).

    .. math:: v(t) = (\mathrm{start} - \mathrm{end})(1 - \min(t, T)/T)^{p} + \mathrm{end}

    With ``cycle`` the horizon becomes ``T * max(1, ceil(t / T))`` and ``t`` is not clipped.

    Args:
      start, end: finite non-negative values.
      steps: ``T``, a positive integer.
      power: ``p``, a positive number.
      cycle: restart the decay from a higher horizon after each ``T`` steps.

    Examples:
      >>> import lrkit as lk
      >>> [lk.polynomial(1.0, 0.0, 10, power=2.0)(t) for t in (0, 5, 10, 20)]
      [1.0, 0.25, 0.0, 0.0]
    """
    return Polynomial(start, end, steps, power, cycle)


@E.keywords
def step(start: float, gamma: float, every: int) -> Schedule:
    r"""Multiply by ``gamma`` every ``every`` steps (torch ``StepLR``).

    .. math:: v(t) = \mathrm{start} \cdot \gamma^{\lfloor t / \mathrm{every} \rfloor}

    Args:
      start: value at step 0 (finite, non-negative).
      gamma: a positive factor.
      every: a positive integer.

    Examples:
      >>> import lrkit as lk
      >>> [lk.step(1.0, 0.1, 3)(t) for t in (2, 3, 6)]
      [1.0, 0.1, 0.010000000000000002]
    """
    return Step(start, gamma, every)


@E.keywords
def multistep(start: float, milestones: list[int], gamma: float) -> Schedule:
    r"""Multiply by ``gamma`` at each milestone (torch ``MultiStepLR``).

    .. math:: v(t) = \mathrm{start} \cdot \gamma^{\#\{m \in \mathrm{milestones} : m \le t\}}

    Args:
      start: value at step 0 (finite, non-negative).
      milestones: positive integers in non-decreasing order (a repeated one counts twice).
      gamma: a positive factor.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.multistep(1.0, [2, 4], 0.5)
      >>> [s(t) for t in range(6)]
      [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """
    return MultiStep(start, milestones, gamma)  # type: ignore[arg-type]


@E.keywords
def piecewise_constant(boundaries: list[int], values: list[float]) -> Schedule:
    r"""``values[i]`` on ``[boundaries[i-1], boundaries[i])``: the new value applies *at* the boundary.

    (Keras ``PiecewiseConstantDecay`` switches one step later; ``lrkit.from_keras`` accounts for it.)

    Args:
      boundaries: strictly increasing positive integers.
      values: finite non-negative values, one more than ``boundaries``.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.piecewise_constant([2, 4], [1.0, 0.5, 0.1])
      >>> [s(t) for t in range(5)]
      [1.0, 1.0, 0.5, 0.5, 0.1]
    """
    return PiecewiseConstant(boundaries, values)  # type: ignore[arg-type]


@E.keywords
def piecewise_linear(steps: list[int], values: list[float]) -> Schedule:
    r"""Linear interpolation through the points ``(steps[i], values[i])``, constant outside.

    Args:
      steps: strictly increasing non-negative integers (at least one).
      values: finite non-negative values, as many as ``steps``.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.piecewise_linear([0, 10, 20], [0.0, 1.0, 0.5])
      >>> [s(t) for t in (0, 5, 10, 15, 30)]
      [0.0, 0.5, 1.0, 0.75, 0.5]
    """
    return PiecewiseLinear(steps, values)  # type: ignore[arg-type]


@E.keywords
def inverse_sqrt(start: float, timescale: int) -> Schedule:
    r"""Inverse square-root decay.

    .. math:: v(t) = \mathrm{start} / \sqrt{1 + t / \mathrm{timescale}}

    Args:
      start: value at step 0 (finite, non-negative).
      timescale: a positive integer.

    Examples:
      >>> import lrkit as lk
      >>> lk.inverse_sqrt(1.0, 100)(300)
      0.5
    """
    return InverseSqrt(start, timescale)


@E.keywords
def inverse_time(start: float, rate: float, every: int, staircase: bool = False) -> Schedule:
    r"""Inverse time decay (Keras ``InverseTimeDecay``).

    .. math:: v(t) = \mathrm{start} / (1 + \mathrm{rate} \cdot t / \mathrm{every})

    With ``staircase`` the quotient is ``floor(t / every)``.

    Args:
      start: value at step 0 (finite, non-negative).
      rate: a positive number.
      every: a positive integer.
      staircase: decay in whole steps of ``every``.

    Examples:
      >>> import lrkit as lk
      >>> lk.inverse_time(1.0, 1.0, 10)(10)
      0.5
    """
    return InverseTime(start, rate, every, staircase)


@E.keywords
def cyclic(
    low: float,
    high: float,
    up: int,
    down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
) -> Schedule:
    r"""Cyclical learning rate, exactly torch ``CyclicLR``.

    Each cycle rises from ``low`` to ``high`` over ``up`` steps and falls back over ``down``
    steps (``up`` if not given). ``triangular2`` halves the amplitude each cycle; ``exp_range``
    multiplies it by ``gamma ** t``.

    Args:
      low, high: finite non-negative values (torch ``base_lr``/``max_lr``).
      up, down: positive integers (torch ``step_size_up``/``step_size_down``).
      mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
      gamma: positive factor for ``exp_range``.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.cyclic(0.0, 1.0, 2)
      >>> [s(t) for t in range(6)]
      [0.0, 0.5, 1.0, 0.5, 0.0, 0.5]
    """
    return Cyclic(low, high, up, down, mode, gamma)


@E.keywords
def one_cycle(
    peak: float,
    steps: int,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    anneal: str = "cosine",
    three_phase: bool = False,
) -> Schedule:
    r"""The 1cycle policy, exactly torch ``OneCycleLR`` with ``total_steps=steps``.

    Rises from ``peak / div_factor`` to ``peak``, reaching it at step ``pct_start * steps - 1``
    (torch's convention), then anneals to ``peak / div_factor / final_div_factor`` at step
    ``steps - 1``. ``three_phase`` returns to the initial value first, at ``2 * pct_start * steps
    - 2``. Past ``steps`` (where torch raises) the value holds; at ``steps`` itself torch extrapolates
    the last phase one step further, which lrkit copies but clips at 0 (linear annealing).

    Args:
      peak: the maximum value (finite, non-negative).
      steps: a positive integer.
      pct_start: fraction of steps spent rising, in ``(0, 1)``.
      div_factor, final_div_factor: positive numbers.
      anneal: ``"cosine"`` or ``"linear"``.
      three_phase: use torch's three-phase variant.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.one_cycle(1.0, 100)
      >>> round(s(0), 4), round(s(29), 4), round(s(99), 8)
      (0.04, 1.0, 4e-06)
    """
    return OneCycle(peak, steps, pct_start, div_factor, final_div_factor, anneal, three_phase)


@E.keywords
def cosine_restarts(
    start: float, end: float, period: int, period_mult: float = 1.0, decay: float = 1.0
) -> Schedule:
    r"""Cosine annealing with warm restarts (SGDR, torch ``CosineAnnealingWarmRestarts``).

    Cycle ``i`` lasts ``period * period_mult ** i`` steps and anneals from ``start * decay ** i``
    to ``end``, then restarts.

    Args:
      start, end: finite non-negative values.
      period: length of the first cycle, a positive integer.
      period_mult: growth of the cycle length, a number ``>= 1``.
      decay: positive factor applied to ``start`` at each restart.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.cosine_restarts(1.0, 0.0, 10, period_mult=2.0)
      >>> [round(s(t), 3) for t in (0, 5, 10, 20, 30)]
      [1.0, 0.5, 1.0, 0.5, 1.0]
    """
    return CosineRestarts(start, end, period, period_mult, decay)


@E.keywords
def restarts(
    start: float,
    end: float,
    period: int,
    shape: str = "cosine",
    period_mult: float = 1.0,
    decay: float = 1.0,
    limit: int | None = None,
    k: float = 1.0,
    power: float = 1.0,
    lb: float = -7.0,
    ub: float = 3.0,
) -> Schedule:
    r"""Annealing cycles with warm restarts: timm's cosine, tanh and poly schedulers.

    Cycle :math:`i` lasts :math:`P m^i` steps (``period``, ``period_mult``; a fractional cycle end
    falls between steps) and anneals from :math:`\mathrm{start} \cdot d^i` (``decay``) towards
    ``end`` with the progress :math:`x = (\tau / (P m^i))^k` (:math:`\tau` the step within the
    cycle, ``k`` timm's k-decay):

    * ``cosine``: :math:`\mathrm{end} + (\mathrm{top} - \mathrm{end})(1 + \cos \pi x) / 2`
      (``cosine_restarts`` when ``k = 1`` and ``limit`` is ``None``);
    * ``tanh``: :math:`\mathrm{end} + (\mathrm{top} - \mathrm{end})(1 - \tanh(lb (1 - x) + ub x)) / 2`
      (it starts just below ``top``: :math:`(1 - \tanh(-7)) / 2 = 0.9999992`);
    * ``polynomial``: :math:`\mathrm{end} + (\mathrm{top} - \mathrm{end})(1 - x)^{p}` (``power``).

    After ``limit`` cycles the value holds ``end``.

    Args:
      start: the first cycle's top value (finite, non-negative).
      end: the value every cycle anneals towards (finite, non-negative).
      period: length of the first cycle, a positive integer.
      shape: ``"cosine"``, ``"tanh"`` or ``"polynomial"``.
      period_mult: growth of the cycle length, a number ``>= 1``.
      decay: positive factor applied to the top value at each restart.
      limit: number of cycles before holding ``end`` (a positive integer), or ``None`` for ever.
      k: positive k-decay exponent of the progress (1 is the plain shape).
      power: exponent of the ``polynomial`` shape (positive).
      lb, ub: the ``tanh`` shape's bounds, ``lb < ub``.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.restarts(1.0, 0.0, 10, period_mult=2.0, limit=2)
      >>> [round(s(t), 3) for t in (0, 5, 10, 20, 30, 40)]
      [1.0, 0.5, 1.0, 0.5, 0.0, 0.0]
      >>> round(lk.restarts(1.0, 0.0, 10, shape="tanh")(0), 7)
      0.9999992
    """
    return Restarts(start, end, period, shape, period_mult, decay, limit, k, power, lb, ub)


@E.keywords
def warmup_stable_decay(
    peak: float,
    warmup: int,
    stable: int,
    decay: int,
    end: float = 0.0,
    shape: str = "linear",
) -> Schedule:
    r"""Warmup-stable-decay (WSD): linear warmup from 0, hold ``peak``, then decay to ``end``.

    The decay over ``decay`` steps, with :math:`x = d / \mathrm{decay}` the fraction done, is
    ``linear``, ``cosine``, ``sqrt``
    (:math:`\mathrm{end} + (\mathrm{peak} - \mathrm{end})(1 - \sqrt{x})`, "1-sqrt") or ``square``
    (:math:`\mathrm{end} + (\mathrm{peak} - \mathrm{end})(1 - x^2)`, "1-square"). Each phase may be
    a percentage of the run (``warmup_stable_decay(3e-4, "5%", "75%", "20%")``, see ``Schedule.bind``).

    Args:
      peak: the plateau value (finite, non-negative).
      warmup, stable: non-negative integers (or percentages of the run).
      decay: a positive integer (or a percentage of the run).
      end: final value (finite, non-negative).
      shape: ``"linear"``, ``"cosine"``, ``"sqrt"`` or ``"square"``.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.warmup_stable_decay(1.0, 10, 20, 10)
      >>> [s(t) for t in (0, 5, 10, 30, 35, 40)]
      [0.0, 0.5, 1.0, 1.0, 0.5, 0.0]
    """
    return WarmupStableDecay(peak, warmup, stable, decay, end, shape)


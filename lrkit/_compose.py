"""Composition: ``join``, ``warmup``, ``per_epoch`` and the algebra ``a * b``, ``k * a``, ``a + b``, ``a ** p``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from lrkit import _errors as E
from lrkit._base import Schedule, frozen, register
from lrkit._ops import SCALAR_OPS, Ops, bucket_table
from lrkit._schedules import _cos_anneal, _cos_rise, _hull, _padded, _pow_from_zero, _set

_frozen = frozen


def _schedule(owner: str, name: str, v: Any) -> Schedule:
    if not isinstance(v, Schedule):
        raise TypeError(
            f"{owner}: `{name}` must be an lrkit schedule. Received: {name}={v!r} "
            f"of type {type(v).__name__}"
        )
    return v


class _Group:
    """Pieces of a join evaluated by one formula: leaves of one class that agree on everything but
    the fields they gather (``Schedule._gather``), or a single piece evaluated on its own."""

    __slots__ = ("cls", "columns", "first", "members", "settings", "single")

    def __init__(self, members: list[int], schedules: tuple[Schedule, ...], n: int) -> None:
        s = schedules[members[0]]
        self.first, self.members = members[0], members
        self.cls = type(s)
        self.single = members[0] if len(members) == 1 else None
        #: Values shared by the whole group (settings, static properties, equal parameters).
        self.settings: dict[str, Any] = {}
        #: Per-piece parameter tables, indexed by piece (pieces outside the group repeat the first
        #: member's value: never used, but a valid parameter, so no formula sees a 0 or a NaN).
        self.columns: dict[str, np.ndarray] = {}
        if self.single is not None:
            return
        gathered = s._gather_fields()
        for name in (*s._names, *s._static):
            if name not in gathered:  # a setting: equal in the whole group (part of its key)
                self.settings[name] = getattr(s, name)
                continue
            get = attrgetter(name)
            values = np.fromiter((get(schedules[i]) for i in members), dtype=np.float64, count=len(members))
            if (values == values[0]).all():
                self.settings[name] = getattr(s, name)
                continue
            col = np.full(n, values[0])
            col[members] = values
            self.columns[name] = col


#: ``(class, gathered fields) -> (getter of every field, which ones are gathered, their names)``.
_KEY_SPECS: dict[tuple[type, tuple[str, ...]], tuple[Callable[[Any], tuple[Any, ...]], tuple[bool, ...],
                                                    tuple[str, ...]]] = {}


def _group_key(s: Schedule) -> Any:
    """What pieces of one group share: their class, settings, static properties, and which gathered
    fields hold plain numbers (a None/bool/percentage in a gathered field is a setting too)."""
    gathered = s._gather_fields()
    if not gathered:
        return None
    cls = type(s)
    spec = _KEY_SPECS.get((cls, gathered))
    if spec is None:
        names = (*s._names, *s._static)
        getter = attrgetter(*names)
        get = getter if len(names) > 1 else (lambda x: (getter(x),))
        spec = _KEY_SPECS[(cls, gathered)] = (get, tuple(n in gathered for n in names), names)
    get, flags, names = spec
    return (cls, *[name if flag and type(v) in _NUMBERS else (name, v)
                   for name, flag, v in zip(names, flags, get(s))])


_NUMBERS = (int, float)


class _Plan:
    """How a join's pieces are grouped for a gathered evaluation (``Ops.gathered_piecewise``)."""

    __slots__ = ("_memo", "group_of", "groups", "starts")

    def __init__(self, join: Join) -> None:
        schedules, n = join.schedules, len(join.schedules)
        by_key: dict[Any, list[int]] = {}
        singles: list[list[int]] = []
        for i, s in enumerate(schedules):
            key = _group_key(s)
            try:
                members = singles if key is None else by_key.setdefault(key, [])
            except TypeError:  # an unhashable setting: on its own
                members = singles
            if members is singles:
                singles.append([i])
            else:
                members.append(i)
        self.groups = sorted((_Group(m, schedules, n) for m in (*by_key.values(), *singles)),
                             key=lambda g: g.first)
        #: Group number of each piece.
        self.group_of = np.zeros(n, dtype=np.int64)
        for g, group in enumerate(self.groups):
            self.group_of[group.members] = g
        #: Local step 0 of each piece (an array, converted once: a join is evaluated many times).
        self.starts = np.asarray((0, *join.boundaries))
        self._memo: dict[Any, Any] = {}

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()``, computed once per ``key`` for this join (tables a backend derives from the plan)."""
        try:
            return self._memo[key]
        except KeyError:
            out = self._memo[key] = make()
            return out

    def lookup(self, edges: Sequence[Any]) -> _Lookup | None:
        """The bucket lookup (``lrkit._ops.bucket_table``) of the join's first ``len(edges)``
        boundaries (the ones a step can reach, ``edges``), or ``None``: find the piece by a search."""
        m = len(edges) + 1
        return self.memo(("lookup", m), lambda: _Lookup.of(self, m)) if m > 1 else None


class _Lookup:
    """What a traced backend needs for one join's bucket lookup, derived once (``_Plan.lookup``)."""

    __slots__ = ("_plan", "key", "last", "shift", "table", "widest")

    @classmethod
    def of(cls, plan: _Plan, m: int) -> _Lookup | None:
        found = bucket_table(plan.starts[1:m].tolist())
        if found is None:
            return None
        out = cls()
        out._plan, out.key = plan, ("bucket", m)
        out.shift, out.table = found
        #: The last reachable edge: steps are clamped to it (every later step is in the last piece).
        out.last = int(plan.starts[m - 1])
        #: The largest sum ``table[t >> shift] + (t & (2**shift - 1))`` reaches: an integer step
        #: type must hold it, or the lookup runs in int64.
        out.widest = int(out.table.max()) + (1 << out.shift)
        return out

    def ints(self, dtype: str) -> np.ndarray:
        """The table in integer ``dtype`` (a numpy name), converted once per join."""
        return self._plan.memo((*self.key, dtype), lambda: self.table.astype(dtype))  # type: ignore[no-any-return]


class _Pieces(Sequence[Callable[[Any], Any]]):
    """``pieces[i]`` evaluates child ``i`` with ``ops``, built only when asked for.

    ``Ops.piecewise`` finds the piece of a step by binary search (Python floats, numpy) and calls only
    that child, so a step costs the same for a join of 2 pieces as for 2,000: no list of n closures.
    Array backends may instead evaluate each group of alike pieces once (``plan``).
    """

    __slots__ = ("_join", "_ops", "_schedules")

    def __init__(self, join: Join, ops: Ops) -> None:
        self._join, self._schedules, self._ops = join, join.schedules, ops

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        return self._schedules

    def plan(self) -> _Plan:
        """The grouping of the join's pieces, computed once per join."""
        return self._join._gather_plan()

    def __len__(self) -> int:
        return len(self._schedules)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        child, ops = self._schedules[i], self._ops
        return lambda u: child._eval(u, ops)


def _shift(bs: list[int], by: int) -> list[int]:
    return [b + by for b in bs]


@register
@_frozen
class Join(Schedule):
    kind = "join"
    _children = ("schedules",)
    schedules: tuple[Schedule, ...]
    boundaries: tuple[int, ...]

    def __post_init__(self) -> None:
        ss = E.sequence(self.kind, "schedules", self.schedules, min_len=1)
        ss = tuple(_schedule(self.kind, f"schedules[{i}]", s) for i, s in enumerate(ss))
        bs = E.sequence(self.kind, "boundaries", self.boundaries)
        bs = E.each(self.kind, "boundaries", bs, E.duration)
        if len(bs) != len(ss) - 1:
            raise E.ScheduleError(
                f"{self.kind}: `boundaries` must have one entry fewer than `schedules` "
                f"({len(ss) - 1}). Received: boundaries={list(bs)!r}, schedules={list(ss)!r}"
            )
        E.strictly_increasing(self.kind, "boundaries", bs)
        _set(self, "schedules", ss)
        _set(self, "boundaries", bs)

    def _gather_plan(self) -> _Plan:
        try:
            return self._plan  # type: ignore[attr-defined,no-any-return]
        except AttributeError:  # first gathered evaluation: group the pieces once
            _set(self, "_plan", _Plan(self))
            return self._plan  # type: ignore[attr-defined,no-any-return]

    def _eval(self, t: Any, ops: Ops) -> Any:
        if not self.boundaries:
            return self.schedules[0]._eval(t, ops)
        return ops.piecewise(t, self.boundaries, _Pieces(self, ops))

    def _retime(self, rt: Any, offset: Any) -> Schedule:
        from lrkit._time import rebuild, retime_position

        starts = [rt.length(0)] + [rt.length(b) for b in self.boundaries]
        values = {
            "boundaries": tuple(retime_position(rt, offset, b) for b in self.boundaries),
            # A child kept as a percentage (stretch) has an unknown start: it keeps its own origin.
            "schedules": tuple(c._retime(rt, offset + (x if x is not None else 0)) for c, x in zip(self.schedules, starts)),
        }
        return rebuild(self, values)

    def _range(self, until: int) -> tuple[float, float]:
        rs = [s._range_at(until) for s in self.schedules]  # children see local steps <= until
        return min(lo for lo, _ in rs), max(hi for _, hi in rs)

    @property
    def duration(self) -> int | None:
        last = self.schedules[-1].duration
        return None if last is None else (self.boundaries[-1] if self.boundaries else 0) + last

    def _breaks(self, until: int) -> list[int]:
        out = list(self.boundaries)
        for b, s in zip((0, *self.boundaries), self.schedules):
            out += _shift(s._breaks(until - b), b)
        return out


@register
@_frozen
class Warmup(Schedule):
    kind = "warmup"
    _children = ("schedule",)
    schedule: Schedule
    steps: int
    start: float = 0.0
    shape: str = "linear"
    overlay: bool = False

    def __post_init__(self) -> None:
        _schedule(self.kind, "schedule", self.schedule)
        _set(self, "steps", E.duration(self.kind, "steps", self.steps))
        _set(self, "start", E.value(self.kind, "start", self.start))
        E.choice(self.kind, "shape", self.shape, ("linear", "cosine", "exponential"))
        _set(self, "overlay", E.boolean(self.kind, "overlay", self.overlay))
        if self.schedule._unbound:  # the target is known once the schedule is bound
            return
        target = float(self.schedule(0))
        if self.shape == "exponential" and not (self.start > 0 and target > 0):
            raise E.ScheduleError(
                f"{self.kind}: `start` and the schedule's first value must be positive for "
                f"shape='exponential'. Received: start={self.start!r}, schedule(0)={target!r}"
            )
        if self.shape == "exponential" and not target / self.start < math.inf:
            raise E.ScheduleError(
                f"{self.kind}: `start` must be at least schedule(0) / 1.8e308 for shape='exponential' "
                f"(the ramp raises schedule(0) / start to a power). Received: start={self.start!r}, "
                f"schedule(0)={target!r}"
            )
        _set(self, "_target", target)

    def _range(self, until: int) -> tuple[float, float]:
        ramp = _padded(_hull(self.start, self._target))  # type: ignore[attr-defined]
        child = self.schedule._range_at(until)
        return E.reach(self.kind, "start", _hull(*ramp, *child), self.start)

    def _ramp(self, t: Any, ops: Ops) -> Any:
        target: float = self._target  # type: ignore[attr-defined]
        n = float(self.steps)
        tf = ops.minimum(ops.to_float(t), n)
        if self.shape == "linear":
            w = ops.div(tf, n)
            return self.start * (1.0 - w) + target * w
        if self.shape == "cosine" and self.start < target:  # rising (the usual warmup): from the steps done
            return _cos_rise(ops, self.start, target, ops.div(tf, n))
        if self.shape == "cosine":
            return _cos_anneal(ops, self.start, target, ops.div(n - tf, n))
        return self.start * ops.power(target / self.start, ops.div(tf, n))

    def _eval(self, t: Any, ops: Ops) -> Any:
        child = self.schedule._eval_fn(ops)
        if self.overlay:
            steps = self.steps
            return ops.piecewise(t, (steps,), [lambda u: self._ramp(u, ops), lambda u: child(u + steps)])
        return ops.piecewise(t, (self.steps,), [lambda u: self._ramp(u, ops), child])

    def _retime(self, rt: Any, offset: Any) -> Schedule:
        from lrkit._time import rebuild, retime_chain

        (steps,), end = retime_chain(rt, offset, [self.steps])
        child = self.schedule._retime(rt, offset if self.overlay else offset + end)
        return rebuild(self, {"schedule": child, "steps": steps, "start": self.start, "shape": self.shape,
                              "overlay": self.overlay})

    @property
    def duration(self) -> int | None:
        d = self.schedule.duration
        if d is None:
            return None
        return max(self.steps, d) if self.overlay else self.steps + d

    def _breaks(self, until: int) -> list[int]:
        inner = self.schedule._breaks(until if self.overlay else until - self.steps)
        return [self.steps, *(inner if self.overlay else _shift(inner, self.steps))]


@register
@_frozen
class PerEpoch(Schedule):
    kind = "per_epoch"
    _children = ("schedule",)
    schedule: Schedule
    steps_per_epoch: int

    def __post_init__(self) -> None:
        _schedule(self.kind, "schedule", self.schedule)
        _set(self, "steps_per_epoch", E.positive_int(self.kind, "steps_per_epoch", self.steps_per_epoch))

    def _eval(self, t: Any, ops: Ops) -> Any:
        return self.schedule._eval(ops.floordiv(t, self.steps_per_epoch), ops)

    def _retime(self, rt: Any, offset: Any) -> Schedule:
        from lrkit._time import rebuild

        k = self.steps_per_epoch
        return rebuild(self, {"schedule": self.schedule._retime(rt.epochs(k), offset / k), "steps_per_epoch": k})

    def _range(self, until: int) -> tuple[float, float]:
        return self.schedule._range_at(until // self.steps_per_epoch)

    @property
    def duration(self) -> int | None:
        d = self.schedule.duration
        return None if d is None else d * self.steps_per_epoch

    def _breaks(self, until: int) -> list[int]:
        k = self.steps_per_epoch
        return [b * k for b in self.schedule._breaks(-(-until // k))]


@register
@_frozen
class Product(Schedule):
    kind = "product"
    _children = ("schedules",)
    schedules: tuple[Schedule, ...]

    def __post_init__(self) -> None:
        ss = E.sequence(self.kind, "schedules", self.schedules, min_len=2)
        ss = E.each(self.kind, "schedules", ss, _schedule)
        # (a * b) * c is a * b * c: one normal form, so repr and configs round-trip to equals.
        _set(self, "schedules", tuple(c for s in ss for c in (s.schedules if isinstance(s, Product) else (s,))))

    def _eval(self, t: Any, ops: Ops) -> Any:
        out = self.schedules[0]._eval(t, ops)
        for s in self.schedules[1:]:
            out = out * s._eval(t, ops)
        return out

    def _range(self, until: int) -> tuple[float, float]:
        # Multiplied in _eval's order: rounding is monotone, so the products of the ends bound it.
        lo, hi = self.schedules[0]._range_at(until)
        for s in self.schedules[1:]:
            a, b = s._range_at(until)
            lo, hi = lo * a, hi * b
        return E.reach(self.kind, "schedules", (lo, hi), list(self.schedules))

    @property
    def duration(self) -> int | None:
        return _max_duration(self.schedules)

    def _breaks(self, until: int) -> list[int]:
        return [b for s in self.schedules for b in s._breaks(until)]

    def __repr__(self) -> str:
        return " * ".join(_wrap(s, Sum, Scale) for s in self.schedules)


@register
@_frozen
class Sum(Schedule):
    kind = "sum"
    _children = ("schedules",)
    schedules: tuple[Schedule, ...]

    def __post_init__(self) -> None:
        ss = E.sequence(self.kind, "schedules", self.schedules, min_len=2)
        ss = E.each(self.kind, "schedules", ss, _schedule)
        _set(self, "schedules", tuple(c for s in ss for c in (s.schedules if isinstance(s, Sum) else (s,))))

    def _eval(self, t: Any, ops: Ops) -> Any:
        out = self.schedules[0]._eval(t, ops)
        for s in self.schedules[1:]:
            out = out + s._eval(t, ops)
        return out

    def _range(self, until: int) -> tuple[float, float]:
        lo, hi = self.schedules[0]._range_at(until)
        for s in self.schedules[1:]:
            a, b = s._range_at(until)
            lo, hi = lo + a, hi + b
        return E.reach(self.kind, "schedules", (lo, hi), list(self.schedules))

    @property
    def duration(self) -> int | None:
        return _max_duration(self.schedules)

    def _breaks(self, until: int) -> list[int]:
        return [b for s in self.schedules for b in s._breaks(until)]

    def __repr__(self) -> str:
        return " + ".join(map(repr, self.schedules))


@register
@_frozen
class Scale(Schedule):
    kind = "scale"
    _children = ("schedule",)
    schedule: Schedule
    factor: float

    def __post_init__(self) -> None:
        _schedule(self.kind, "schedule", self.schedule)
        _set(self, "factor", E.value(self.kind, "factor", self.factor))
        if isinstance(self.schedule, Scale):  # k * (j * s) is (k * j) * s: one normal form
            _set(self, "factor", E.value(self.kind, "factor", self.factor * self.schedule.factor))
            _set(self, "schedule", self.schedule.schedule)

    def _eval(self, t: Any, ops: Ops) -> Any:
        return self.factor * self.schedule._eval(t, ops)

    def _range(self, until: int) -> tuple[float, float]:
        lo, hi = self.schedule._range_at(until)
        return E.reach(self.kind, "factor", (self.factor * lo, self.factor * hi), self.factor)

    @property
    def duration(self) -> int | None:
        return self.schedule.duration

    def _breaks(self, until: int) -> list[int]:
        return self.schedule._breaks(until)

    def __repr__(self) -> str:
        return f"{self.factor!r} * {_wrap(self.schedule, Sum, Product)}"


@register
@_frozen
class Power(Schedule):
    kind = "power"
    _children = ("schedule",)
    schedule: Schedule
    exponent: float

    def __post_init__(self) -> None:
        _schedule(self.kind, "schedule", self.schedule)
        _set(self, "exponent", E.positive(self.kind, "exponent", self.exponent))

    def _eval(self, t: Any, ops: Ops) -> Any:
        return _pow_from_zero(ops, self.schedule._eval(t, ops), self.exponent)

    def _range(self, until: int) -> tuple[float, float]:
        lo, hi = self.schedule._range_at(until)
        p = self.exponent
        bounds = _padded((SCALAR_OPS.power(lo, p), SCALAR_OPS.power(hi, p)))
        return E.reach(self.kind, "exponent", bounds, self.exponent)

    @property
    def duration(self) -> int | None:
        return self.schedule.duration

    def _breaks(self, until: int) -> list[int]:
        return self.schedule._breaks(until)

    def __repr__(self) -> str:
        return f"{_wrap(self.schedule, Sum, Product, Scale, Power)} ** {self.exponent!r}"


@register
@_frozen
class Shift(Schedule):
    """``schedule(t + steps)``: a schedule entered ``steps`` steps into its course.

    Used by the ports for natives whose curve starts part-way (transformers'
    ``cosine_warmup_with_min_lr`` counts its cosine from ``step - warmup + 1``).
    """

    kind = "shift"
    _children = ("schedule",)
    schedule: Schedule
    steps: int

    def __post_init__(self) -> None:
        _schedule(self.kind, "schedule", self.schedule)
        _set(self, "steps", E.duration(self.kind, "steps", self.steps))

    def _eval(self, t: Any, ops: Ops) -> Any:
        return self.schedule._eval(ops.offset(t, self.steps), ops)

    def _retime(self, rt: Any, offset: Any) -> Schedule:
        from lrkit._time import rebuild, round_half_up

        n = rt.length(self.steps)
        if n is None:
            return rebuild(self, {"schedule": self.schedule._retime(rt, offset), "steps": self.steps})
        # The child's step 0 lies `steps` before this node's.
        steps = round_half_up(offset) - round_half_up(offset - n)
        return rebuild(self, {"schedule": self.schedule._retime(rt, offset - n), "steps": steps})

    def _range(self, until: int) -> tuple[float, float]:
        try:
            return self.schedule._range_at(until + self.steps)  # the child runs `steps` ahead
        except E.ScheduleError as exc:
            raise E.ScheduleError(
                f"{self.kind}: `steps` must keep every value of the shifted schedule finite up to "
                f"step 2**53 ({exc}). Received: steps={self.steps!r}"
            ) from None

    @property
    def duration(self) -> int | None:
        d = self.schedule.duration
        return None if d is None else max(0, d - self.steps)

    def _breaks(self, until: int) -> list[int]:
        return [b - self.steps for b in self.schedule._breaks(until + self.steps)]


def _wrap(s: Schedule, *kinds: type) -> str:
    return f"({s!r})" if isinstance(s, kinds) else repr(s)


def _max_duration(ss: tuple[Schedule, ...]) -> int | None:
    ds = [s.duration for s in ss]
    return None if any(d is None for d in ds) else max(ds)  # type: ignore[type-var]


# -- public constructors ------------------------------------------------------------------------


@E.keywords
def join(schedules: list[Schedule], boundaries: list[int]) -> Schedule:
    r"""Run ``schedules`` one after another; each starts at its own local step 0.

    On ``[boundaries[i-1], boundaries[i])`` the value is ``schedules[i](t - boundaries[i-1])``; at
    ``t == boundaries[i-1]`` the *new* schedule already applies (optax ``join_schedules``).

    Args:
      schedules: one or more schedules.
      boundaries: strictly increasing positive integers, one fewer than ``schedules``.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.join([lk.linear(0.0, 1.0, 10), lk.cosine(1.0, 0.0, 90)], [10])
      >>> [round(s(t), 3) for t in (0, 5, 10, 55, 100)]
      [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    return Join(schedules, boundaries)  # type: ignore[arg-type]


@E.keywords
def warmup(
    schedule: Schedule,
    steps: int,
    start: float = 0.0,
    shape: str = "linear",
    overlay: bool = False,
) -> Schedule:
    r"""Ramp from ``start`` to ``schedule(0)`` over ``steps`` steps, then run ``schedule``.

    With ``target = schedule(0)`` and :math:`w = t / \mathrm{steps}`, the ramp is
    ``linear`` :math:`s + (\mathrm{target} - s) w`, ``cosine``
    :math:`s + (\mathrm{target} - s)(1 - \cos \pi w)/2` or ``exponential``
    :math:`s (\mathrm{target}/s)^{w}` (needs ``start > 0``). After the ramp comes
    ``schedule(t - steps)``; with ``overlay=True`` the ramp replaces the schedule's first ``steps``
    steps instead, and ``schedule(t)`` follows (BERT's recipe; timm's default).

    Args:
      schedule: the schedule to warm up into.
      steps: ramp length, a positive integer.
      start: value at step 0 (finite, non-negative).
      shape: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      overlay: count ``schedule`` from step 0 instead of from the end of the ramp.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.warmup(lk.cosine(1.0, 0.0, 90), 10)
      >>> [round(s(t), 3) for t in (0, 5, 10, 55, 100)]
      [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    return Warmup(schedule, steps, start, shape, overlay)


@E.keywords
def per_epoch(schedule: Schedule, steps_per_epoch: int) -> Schedule:
    r"""A schedule written in epochs, evaluated at steps: ``schedule(floor(t / steps_per_epoch))``.

    Args:
      schedule: a schedule whose step counts epochs.
      steps_per_epoch: a positive integer.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.per_epoch(lk.multistep(1.0, [2], 0.1), steps_per_epoch=100)
      >>> s(199), s(200)
      (1.0, 0.1)
    """
    return PerEpoch(schedule, steps_per_epoch)


def product(a: Schedule, b: Schedule) -> Schedule:
    """Pointwise product ``a * b`` (nested products are flattened)."""
    parts = [*(a.schedules if isinstance(a, Product) else (a,)), *(b.schedules if isinstance(b, Product) else (b,))]
    return Product(tuple(parts))


def add(a: Schedule, b: Schedule) -> Schedule:
    """Pointwise sum ``a + b`` (nested sums are flattened)."""
    parts = [*(a.schedules if isinstance(a, Sum) else (a,)), *(b.schedules if isinstance(b, Sum) else (b,))]
    return Sum(tuple(parts))


def scale(s: Schedule, factor: float) -> Schedule:
    """``factor * s``."""
    factor = E.value("scale", "factor", factor)
    if isinstance(s, Scale):
        return Scale(s.schedule, factor * s.factor)
    return Scale(s, factor)


def power(s: Schedule, exponent: Any) -> Schedule:
    """``s ** exponent`` for a positive number ``exponent``."""
    return Power(s, exponent)



@E.keywords
def shift(schedule: Schedule, steps: int) -> Schedule:
    r"""Start ``schedule`` ``steps`` steps into its course: ``schedule(t + steps)``.

    Args:
      schedule: any schedule.
      steps: a positive integer.

    Returns:
      A schedule whose value at step ``t`` is ``schedule(t + steps)``.

    Examples:
      >>> import lrkit as lk
      >>> lk.shift(lk.linear(0.0, 1.0, 4), 1)(0)
      0.25
    """
    return Shift(schedule, steps)

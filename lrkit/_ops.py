"""The table of array operations that every curve is written against.

Each curve's formula lives once, in ``_schedules.py``/``_compose.py``, as ``_eval(t, ops)``. A
backend contributes only an ``Ops`` subclass: how to turn a step into a float, and a dozen
elementwise functions. ``ScalarOps`` (Python floats, float64) and ``NumpyOps`` (float64 arrays) live
here; torch, jax.numpy and keras.ops tables live in ``lrkit/backends/`` and are imported only when a
value of that kind is evaluated.

Conventions every table follows:

* ``t`` reaching a schedule node is the *raw step* in the backend's own type (an int32 count under
  JAX, an int64 variable under Keras). Composition nodes shift it (``t - boundary``) before any
  conversion, so offsets are subtracted exactly even where float32 could not hold the step;
  leaves call ``to_float`` once.
* ``piecewise`` evaluates child ``i`` at local time ``t - edges[i - 1]`` and never at a negative
  local time, so no child ever sees a step before its own start.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: Joins of at least this many pieces are evaluated group by group on traced/array backends
#: (``Ops.gathered_piecewise``); smaller ones with one ``where`` per piece.
GATHER_MIN = 4
#: numpy: a join whose pieces an array of steps crosses more than this many of may be evaluated gathered.
GATHER_SPAN = 8

#: Most entries of a join's bucket table (``bucket_table``), or 4 per piece if more; a join whose
#: boundaries would need more (pieces of very different lengths) is searched instead (``Ops.search``).
LOOKUP_MAX = 1 << 16


def bucket_table(edges: Sequence[Any]) -> tuple[int, np.ndarray] | None:
    """A table that finds a step's piece with one lookup: ``(shift, table)``, or ``None``.

    The steps ``0 .. edges[-1]`` are cut in buckets of ``2**shift`` steps, ``shift`` the largest that
    leaves at most one edge in each bucket (``bit_length(a ^ b) - 1`` over neighbouring edges). Entry
    ``k`` is ``(below << (shift + 1)) + 2**(shift + 1) - offset``: ``below`` the number of edges before
    the bucket, ``offset`` the position of its edge in it (``2**shift`` for a bucket without one). So
    for a step ``0 <= t <= edges[-1]``, ``(table[t >> shift] + (t & (2**shift - 1))) >> (shift + 1)`` is
    ``below``, plus 1 where ``t`` is at or past the bucket's edge: the number of edges ``<= t``,
    exactly, with one gather and four integer operations whatever the number of pieces. ``None`` for
    edges that are not integers or would need more than ``LOOKUP_MAX`` entries (and 4 per edge).
    """
    if not edges or any(type(e) is not int for e in edges) or edges[0] < 0 or edges[-1] >= 2**53:
        return None
    last = edges[-1]
    shift = min(((a ^ b).bit_length() - 1 for a, b in zip(edges, edges[1:])), default=last.bit_length())
    size = (last >> shift) + 1
    if size > max(LOOKUP_MAX, 4 * len(edges)):
        return None
    e = np.asarray(edges, dtype=np.int64)
    below = np.searchsorted(e, np.arange(size, dtype=np.int64) << shift, side="left")
    offset = np.full(size, 1 << shift, dtype=np.int64)
    offset[e >> shift] = e & ((1 << shift) - 1)
    return shift, (below << (shift + 1)) + ((2 << shift) - offset)


class _Params:
    """The ``self`` a group's formula runs with: shared settings, and parameters gathered per step."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


class Ops:
    """Base table; subclasses override what their library does natively.

    The defaults express ``piecewise``, ``bucket`` and ``take`` with ``where``, which works on any
    traced backend (JAX, keras.ops). Array backends with a native search override them.
    """

    name = "abstract"
    pi = math.pi

    def evaluate(self, schedule: Any, step: Any) -> Any:
        """Evaluate ``schedule`` at ``step`` (a value of this table's library)."""
        return schedule._eval(step, self)

    def to_float(self, t: Any) -> Any:
        raise NotImplementedError

    def eps(self, x: Any) -> float:
        """Machine epsilon of the float type ``x`` is computed in (float64 unless overridden).

        Lets a formula size a rounding tolerance for float32 backends (JAX, Keras).
        """
        return 2.0**-52

    def full(self, t: Any, value: float) -> Any:
        return self.to_float(t) * 0.0 + value

    def div(self, x: Any, d: float) -> Any:
        """``x / d`` for a float ``x`` computed from the step and a constant ``d``, correctly rounded.

        Where a curve must land exactly on a whole number (a cycle's start, the bottom of a cyclic
        curve at 0) the core divides through this: XLA compiles division by a constant as
        multiplication by its reciprocal, one ulp off; the JAX and Keras tables override it.
        """
        return x / d

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def minimum(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def maximum(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def floor(self, x: Any) -> Any:
        raise NotImplementedError

    def ceil(self, x: Any) -> Any:
        raise NotImplementedError

    def cos(self, x: Any) -> Any:
        raise NotImplementedError

    def sin(self, x: Any) -> Any:
        raise NotImplementedError

    def fmod(self, x: Any, n: float) -> Any:
        """``x - n * trunc(x / n)``, exactly (IEEE remainder with the sign of ``x``), ``n`` a constant."""
        raise NotImplementedError

    def exp(self, x: Any) -> Any:
        raise NotImplementedError

    def log(self, x: Any) -> Any:
        raise NotImplementedError

    def sqrt(self, x: Any) -> Any:
        raise NotImplementedError

    def power(self, base: Any, exponent: Any) -> Any:
        raise NotImplementedError

    def offset(self, t: Any, k: int) -> Any:
        """``t + k`` (``k >= 0``), in the step's own type where it can hold the sum (``shift``)."""
        return t + k

    def floordiv(self, t: Any, k: int) -> Any:
        """``floor(t / k)`` in the step's own type (integer steps stay integers)."""
        return t // k

    def clip(self, x: Any, lo: Any, hi: Any) -> Any:
        return self.minimum(self.maximum(x, lo), hi)

    def bucket(self, t: Any, edges: Sequence[float]) -> Any:
        """Number of ``edges`` (sorted) that are ``<= t``, as a float."""
        tf = self.to_float(t)
        out = self.full(t, 0.0)
        for e in edges:
            out = out + self.where(tf >= e, 1.0, 0.0)
        return out

    def take(self, table: Sequence[float], idx: Any) -> Any:
        """``table[idx]`` for a float index produced by ``bucket``."""
        out = self.full(idx, table[0])
        for i in range(1, len(table)):
            out = self.where(idx >= i, table[i], out)
        return out

    def piecewise(
        self, t: Any, edges: Sequence[int], fns: Sequence[Callable[[Any], Any]]
    ) -> Any:
        """``fns[i](t - edges[i-1])`` on ``[edges[i-1], edges[i])`` (``fns[0](t)`` before ``edges[0]``)."""
        out = fns[0](t)
        for e, fn in zip(edges, fns[1:]):
            out = self.where(t < e, out, fn(self.maximum(t - e, 0)))
        return out

    # -- a join of many pieces on array backends: a search and gathers, not a where per piece --

    def search(self, edges: Sequence[Any], t: Any) -> Any:
        """Index of the piece holding ``t``: the number of ``edges`` (sorted, of ``t``'s type) ``<= t``."""
        raise NotImplementedError

    def gather(self, table: Any, idx: Any, like: Any = None) -> Any:
        """``table[idx]`` for a numpy ``table`` (float64, or in ``like``'s dtype) and an index array."""
        raise NotImplementedError

    def piece_index(self, t: Any, edges: Sequence[Any], plan: Any) -> Any:
        """``search(edges, t)`` for a join's ``plan`` (``lrkit._compose._Plan``, which caches tables);
        backends override it with a lookup in the join's ``bucket_table``."""
        return self.search(edges, t)

    def gathered_piecewise(self, t: Any, edges: Sequence[Any], pieces: Any) -> Any:
        """``piecewise`` for a join (``pieces``: ``lrkit._compose._Pieces``) with a graph whose size does
        not grow with the number of pieces.

        The piece index comes from one ``piece_index``; each group of alike leaves (same class and settings,
        see ``Schedule._gather``) runs its formula once with its parameters gathered at that index, at
        the local step ``t - start[index]``; a group's value is kept where the step's piece is in it.
        Other children are evaluated on their own as in ``piecewise``. The arithmetic per step is the
        one ``piecewise`` does for that step's piece, with the same numbers, so values are identical.
        ``edges`` are those a step of ``t``'s type can reach (pieces past them are left out).
        """
        plan = pieces.plan()
        m = len(edges) + 1
        idx = self.piece_index(t, edges, plan)
        # The whole array where every piece is reachable: the same object at every evaluation (a
        # backend may keep its converted copy).
        local = t - self.gather(plan.starts if m == len(plan.starts) else plan.starts[:m], idx, like=t)
        which = None
        out = None
        for g, group in enumerate(plan.groups):
            if group.first >= m:
                continue
            if group.single is not None:
                i = group.single
                v = pieces[i](t if i == 0 else self.maximum(t - edges[i - 1], 0))
            else:
                params = _Params(group.settings)
                for name, col in group.columns.items():
                    setattr(params, name, self.gather(col, idx))
                v = group.cls._eval(params, local, self)
            if out is None:
                out = v
                continue
            if which is None:
                which = self.gather(plan.group_of, idx, like=idx)
            out = self.where(which == g, v, out)
        return out


def _pow(base: float, exponent: float) -> float:
    try:
        return float(base**exponent)
    except OverflowError:
        return math.inf
    except ZeroDivisionError:  # 0.0 ** negative
        return math.inf


class ScalarOps(Ops):
    """Python floats in float64: the reference evaluation, with no import beyond ``math``."""

    name = "python"

    def to_float(self, t: Any) -> float:
        try:
            return float(t)
        except OverflowError:  # a Python int past float range: as far as a float can say
            return math.inf

    def full(self, t: Any, value: float) -> float:
        return float(value)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return a if cond else b

    def minimum(self, a: Any, b: Any) -> Any:
        return a if a <= b else b

    def maximum(self, a: Any, b: Any) -> Any:
        return a if a >= b else b

    floor = staticmethod(math.floor)
    ceil = staticmethod(math.ceil)
    cos = staticmethod(math.cos)
    sin = staticmethod(math.sin)
    fmod = staticmethod(math.fmod)
    sqrt = staticmethod(math.sqrt)
    log = staticmethod(math.log)

    def exp(self, x: float) -> float:
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf

    def power(self, base: Any, exponent: Any) -> float:
        return _pow(base, exponent)

    def floordiv(self, t: Any, k: int) -> Any:
        return t // k

    def bucket(self, t: Any, edges: Sequence[float]) -> float:
        return float(bisect.bisect_right(edges, t))

    def take(self, table: Sequence[float], idx: Any) -> float:
        return table[int(idx)]

    def piecewise(
        self, t: Any, edges: Sequence[int], fns: Sequence[Callable[[Any], Any]]
    ) -> Any:
        i = bisect.bisect_right(edges, t)
        return fns[i](t - edges[i - 1]) if i else fns[0](t)


class TableCache:
    """Arrays made from a node's immutable tables (a tuple of boundaries or values, a join plan's numpy
    columns), made once instead of at every evaluation or chunk.

    Keyed by the table's ``id`` and a ``key`` (dtype, device); each entry holds the table itself, so
    its id stays its own while cached. Bounded: when a new array would pass ``entries`` arrays or
    ``numbers`` elements in all, the cache starts afresh.
    """

    def __init__(self, entries: int, numbers: int) -> None:
        self.entries, self.numbers = entries, numbers
        self._items: dict[tuple[int, Any], tuple[Any, Any]] = {}
        self._held = 0

    def get(self, table: Any, key: Any, make: Callable[[], Any]) -> Any:
        hit = self._items.get((id(table), key))
        if hit is not None and hit[0] is table:
            return hit[1]
        out = make()
        if len(self._items) >= self.entries or self._held + len(out) > self.numbers:
            self._items.clear()
            self._held = 0
        self._items[(id(table), key)] = (table, out)
        self._held += len(out)
        return out


_ARRAYS = TableCache(entries=64, numbers=1 << 22)


def _float_array(seq: Sequence[float]) -> np.ndarray:
    """``seq`` as a read-only float64 array; a tuple (immutable) of 16 or more converted once."""
    if type(seq) is not tuple or len(seq) < 16:  # short ones convert faster than a lookup pays off
        return np.asarray(seq, dtype=np.float64)
    return _ARRAYS.get(seq, None, lambda: _read_only(np.asarray(seq, dtype=np.float64)))  # type: ignore[no-any-return]


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class NumpyOps(Ops):
    """numpy float64 arrays. ``piecewise`` evaluates each child only where it applies."""

    name = "numpy"

    def to_float(self, t: Any) -> np.ndarray:
        return np.asarray(t, dtype=np.float64)

    def full(self, t: Any, value: float) -> np.ndarray:
        return np.full(np.shape(t), value, dtype=np.float64)

    where = staticmethod(np.where)
    minimum = staticmethod(np.minimum)
    maximum = staticmethod(np.maximum)
    floor = staticmethod(np.floor)
    ceil = staticmethod(np.ceil)
    cos = staticmethod(np.cos)
    sin = staticmethod(np.sin)
    fmod = staticmethod(np.fmod)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    power = staticmethod(np.power)

    def floordiv(self, t: Any, k: int) -> Any:
        return np.floor_divide(t, k)

    def clip(self, x: Any, lo: Any, hi: Any) -> Any:
        return np.clip(x, lo, hi)

    def bucket(self, t: Any, edges: Sequence[float]) -> np.ndarray:
        return np.searchsorted(_float_array(edges), t, side="right")

    def take(self, table: Sequence[float], idx: Any) -> np.ndarray:
        return _float_array(table)[idx]

    def search(self, edges: Sequence[Any], t: Any) -> Any:
        return np.searchsorted(edges, t, side="right")

    def gather(self, table: Any, idx: Any, like: Any = None) -> Any:
        return np.asarray(table)[idx].astype(np.float64 if like is None else like.dtype)

    @staticmethod
    def _crossed(flat: np.ndarray, e: np.ndarray) -> int:
        """How many pieces the steps ``flat`` (at least one) fall in, counted from the first to the last."""
        first, last = np.searchsorted(e, (flat.min(), flat.max()), side="right")
        return int(last - first) + 1

    @staticmethod
    def _worth_gathering(fns: Any, e: np.ndarray, runs: int) -> bool:
        """A join (``fns`` a ``_Pieces``) crossed in ``runs`` pieces is cheaper gathered (each group of
        alike pieces, and each piece alike to none, runs once on every step) than piece by piece."""
        return (hasattr(fns, "plan") and len(e) + 1 >= GATHER_MIN and runs > GATHER_SPAN
                and 4 * len(fns.plan().groups) < runs)

    def piecewise(
        self, t: Any, edges: Sequence[int], fns: Sequence[Callable[[Any], Any]]
    ) -> np.ndarray:
        """Each child runs only on the steps in its own piece (a view of them when sorted); a join
        whose many pieces the steps cross, each group of alike pieces once (``gathered_piecewise``:
        the same arithmetic per step, so the same values)."""
        t = np.asarray(t, dtype=np.float64)
        if t.ndim == 0:
            return np.asarray(SCALAR_OPS.piecewise(float(t), edges, fns), dtype=np.float64)
        flat = t.reshape(-1)
        n = flat.size
        if n == 0:
            return np.empty(t.shape, dtype=np.float64)
        e = _float_array(edges)
        if len(e) >= GATHER_SPAN and hasattr(fns, "plan") and self._worth_gathering(fns, e, self._crossed(flat, e)):
            out = np.asarray(self.gathered_piecewise(flat, e, fns), dtype=np.float64)
            return np.broadcast_to(out, (n,)).reshape(t.shape) if out.shape != (n,) else out.reshape(t.shape)

        def run(i: int, seg: np.ndarray) -> np.ndarray:
            return np.asarray(fns[i](seg - edges[i - 1] if i else seg), dtype=np.float64)

        if n == 1 or bool(np.all(flat[1:] >= flat[:-1])):
            # Sorted steps (np.arange, the common case): each piece is a contiguous slice.
            first, last = (int(i) for i in np.searchsorted(e, (flat[0], flat[-1]), side="right"))
            if first == last:  # all in one piece: no copy
                out = run(first, flat)
                return (out if out.shape == (n,) else np.broadcast_to(out, (n,)).copy()).reshape(t.shape)
            cuts = np.searchsorted(flat, e[first:last], side="left")
            out = np.empty(n, dtype=np.float64)
            lo = 0
            for i in range(first, last + 1):
                hi = int(cuts[i - first]) if i < last else n
                if hi > lo:
                    out[lo:hi] = run(i, flat[lo:hi])
                lo = hi
            return out.reshape(t.shape)
        # Unsorted: group the steps by piece (one stable sort), then run each non-empty piece once.
        idx = np.searchsorted(e, flat, side="right")
        order = np.argsort(idx, kind="stable")
        grouped = idx[order]
        pieces = np.flatnonzero(np.diff(grouped)) + 1
        out = np.empty(n, dtype=np.float64)
        for lo, hi in zip((0, *pieces.tolist()), (*pieces.tolist(), n)):
            where = order[lo:hi]
            out[where] = run(int(grouped[lo]), flat[where])
        return out.reshape(t.shape)


SCALAR_OPS = ScalarOps()
NUMPY_OPS = NumpyOps()

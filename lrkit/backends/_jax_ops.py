r"""The ``Ops`` table over ``jax.numpy``: branch-free, so schedules trace under ``jit`` and ``vmap``.

Steps arrive as optax's ``count``: a scalar ``int32`` array (traced under ``jax.jit``). Composition
nodes shift the step in that integer type (``t - boundary``) and compare it with integer boundaries,
so boundaries and ``per_epoch`` divisions are exact at every representable step.

Precision: every formula is evaluated in **float64**, whatever ``jax_enable_x64`` says, inside a
scoped ``jax.enable_x64(True)`` context around the traced evaluation (it emits float64 XLA ops in
that part of the graph only, under ``jit``, ``vmap`` and ``shard_map``), and the result is cast
*once* to the caller's float type (float32 by default, float64 with ``jax_enable_x64``). So the
value is ``float32(s(k))`` of the float64 core value ``s(k)``, up to the last-bit differences
between XLA's and the C library's float64 ``sin``/``exp``/``pow`` (which change the float32
rounding at a vanishing fraction of steps, and then by one ulp). An ``int32`` step is exact in
float64, so periodic curves keep their phase up to optax's largest count, ``2**31 - 1``. The cost is
a handful of scalar float64 operations per update (see ``benchmarks/bench_optax.py``); on
accelerators without native float64 (TPU) XLA emulates them, still on one scalar.

* A negative or NaN step that reaches a traced evaluation (a wrapped ``int32`` counter) is read
  as step 0; a concrete one passed to ``schedule(jax_array)`` raises ``ValueError``.
* optax counts are ``int32`` and ``optax.safe_increment`` saturates them at ``2**31 - 1``; a step
  beyond that cannot be represented (pass a float or enable x64 to evaluate one directly). Boundaries
  or durations larger than ``2**31 - 1`` are fine: pieces that an ``int32`` step can never reach are
  left out at trace time instead of overflowing (optax's ``test_with_giant_int_steps`` case).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from lrkit._ops import GATHER_MIN, Ops


def _out_dtype(t: Any) -> Any:
    """The float dtype a result is given in: float32, or float64 under x64 / for float64 steps.

    Read *outside* the scoped x64 context, so it follows the caller's ``jax_enable_x64``.
    """
    dt = t.dtype
    if jnp.issubdtype(dt, jnp.floating):
        return jnp.promote_types(dt, jnp.float32)
    return jnp.result_type(float)  # float32, or float64 with jax_enable_x64


def _int_max(t: Any) -> int | None:
    """Largest value of an integer step's dtype, or ``None`` for a float step."""
    dt = getattr(t, "dtype", None)
    if dt is not None and jnp.issubdtype(dt, jnp.integer):
        return int(jnp.iinfo(dt).max)
    return None


class JaxOps(Ops):
    """``jax.numpy`` operations. Every function is elementwise and branch-free on the step."""

    name = "jax"

    def evaluate(self, schedule: Any, step: Any, *, counter: bool = False, dtype: Any = None) -> Any:
        """Evaluate ``schedule`` at a jax array (or tracer) ``step``; the result has its shape.

        Concrete steps are checked (negative or NaN raises ``ValueError``) unless ``counter`` is
        true (an optimizer's count: there, as under tracing, a negative or wrapped value reads as
        step 0). The formula runs in float64 (a scoped ``jax.enable_x64``) and the result is cast
        once to float32 (float64 under ``jax_enable_x64`` or for a float64 step), or to ``dtype``.
        """
        t = jnp.asarray(step)
        if t.dtype == jnp.bool_:
            raise TypeError(f"{schedule.kind}: `step` must be a number, not a bool. Received: step={step!r}")
        if not (jnp.issubdtype(t.dtype, jnp.integer) or jnp.issubdtype(t.dtype, jnp.floating)):
            raise TypeError(
                f"{schedule.kind}: `step` must be an integer or real array. Received: dtype {t.dtype}"
            )
        if not counter and not isinstance(t, jax.core.Tracer) and t.size:
            ok = np.asarray(t >= 0)
            if not ok.all():
                bad = np.asarray(t)[~ok].ravel()[0]
                raise ValueError(
                    f"{schedule.kind}: `step` must be non-negative and not NaN. Received: a step of {bad!r}"
                )
        out_dtype = _out_dtype(t) if dtype is None else jnp.dtype(dtype)
        with jax.enable_x64(True):
            try:
                hash(schedule)
            except TypeError:  # not hashable: evaluate op by op
                return _evaluate(schedule, self, t, out_dtype)
            # One compiled function per (schedule, shape, dtype): an eager call costs one dispatch
            # instead of one per operation; inside an outer jit it is inlined.
            return _evaluate_jit(schedule, self, t, out_dtype)

    def to_float(self, t: Any) -> Any:
        return jnp.asarray(t).astype(jnp.float64)

    def full(self, t: Any, value: float) -> Any:
        return jnp.full(jnp.shape(t), value, dtype=jnp.float64)

    def div(self, x: Any, d: float) -> Any:
        """``x / d`` correctly rounded: XLA rewrites division by a constant into multiplication by
        its reciprocal (one ulp off), so the divisor is made opaque as ``x * 0.0 + d`` (XLA does not
        fold ``x * 0.0`` for floats: it is NaN for an infinite ``x``). Pinned by a test."""
        if not hasattr(x, "dtype"):
            return x / d
        return x / (x * 0.0 + d)

    where = staticmethod(jnp.where)
    minimum = staticmethod(jnp.minimum)
    maximum = staticmethod(jnp.maximum)
    floor = staticmethod(jnp.floor)
    ceil = staticmethod(jnp.ceil)
    cos = staticmethod(jnp.cos)
    sin = staticmethod(jnp.sin)
    fmod = staticmethod(jnp.fmod)  # XLA rem: exact
    exp = staticmethod(jnp.exp)
    log = staticmethod(jnp.log)
    sqrt = staticmethod(jnp.sqrt)
    power = staticmethod(jnp.power)
    clip = staticmethod(jnp.clip)

    def floordiv(self, t: Any, k: int) -> Any:
        top = _int_max(t)
        if top is not None and k > top:  # a non-negative int32 step is always below k
            return jnp.zeros_like(t)
        return jnp.floor_divide(t, k if top is not None else float(k))

    def offset(self, t: Any, k: int) -> Any:
        """``t + k`` without wrapping: an int32 count saturates at the dtype's largest value (counts
        within ``k`` of it read as that value), and a ``k`` past the dtype's range is added in floats."""
        t = jnp.asarray(t)
        top = _int_max(t)
        if top is None:
            return t + float(k)
        if k > top:
            return self.to_float(t) + float(k)
        return jnp.minimum(t, top - k) + k

    def bucket(self, t: Any, edges: Sequence[float]) -> Any:
        """Number of ``edges`` that are ``<= t``: compared in the step's integer type when exact."""
        t = jnp.asarray(t)
        top = _int_max(t)
        if top is not None and all(float(e).is_integer() for e in edges):
            # Integer step vs integral edges: exact at every step (float32 would merge 2**24 and
            # 2**24 + 1). Edges past the dtype's range are never reached.
            reach = [int(e) for e in edges if e <= top]
            if not reach:
                return self.full(t, 0.0)
            e = jnp.asarray(reach, dtype=t.dtype)
        else:
            t = self.to_float(t)
            e = jnp.asarray(edges, dtype=t.dtype)
        hits = jnp.sum(t[..., None] >= e, axis=-1)
        return hits.astype(jnp.float64)

    def take(self, table: Sequence[float], idx: Any) -> Any:
        idx = jnp.asarray(idx)
        values = jnp.asarray(table, dtype=jnp.float64)
        return jnp.take(values, idx.astype(jnp.int32), mode="clip")

    def piecewise(
        self, t: Any, edges: Sequence[int], fns: Sequence[Callable[[Any], Any]]
    ) -> Any:
        """``fns[i](t - edges[i-1])`` on ``[edges[i-1], edges[i])``, shifted in the step's own type.

        Pieces starting past the largest value of an integer step's dtype can never apply and are
        left out (``t - edge`` would not even be representable).
        """
        t = jnp.asarray(t)
        top = _int_max(t)
        if hasattr(fns, "plan") and len(edges) + 1 >= GATHER_MIN:
            # A join: one search and a few gathers, whatever its number of pieces.
            reach = [float(e) for e in edges] if top is None else [e for e in edges if e <= top]
            return self.gathered_piecewise(t, reach, fns)
        out = fns[0](t)
        for e, fn in zip(edges, fns[1:]):
            if top is not None and e > top:
                break
            if top is None:  # a float step: compare and shift in floats (no int32 overflow)
                e = float(e)
            out = jnp.where(t < e, out, fn(jnp.maximum(t - e, 0)))
        return out


    def search(self, edges: Sequence[Any], t: Any) -> Any:
        """Number of ``edges`` ``<= t`` by a search with ``b`` branches per level (``b <= 32``, at most
        3 levels up to 32,767 edges): a fixed handful of XLA operations (``jnp.searchsorted``'s loop
        costs seconds of compilation; XLA's CPU reductions slow down 200x past 32 elements)."""
        dt = t.dtype
        n = len(edges)
        levels = 1
        while 32**levels <= n:
            levels += 1
        base = 2
        while base**levels <= n:
            base += 1
        size = base**levels  # > n: the padding (>= every edge) ends the table
        pad = np.iinfo(dt).max if jnp.issubdtype(dt, jnp.integer) else np.inf
        table = np.full(size, pad, dtype=np.float64 if pad is np.inf else np.int64)
        table[:n] = edges
        table = jnp.asarray(table, dtype=dt)
        probes = np.arange(1, base)
        pos = jnp.zeros(t.shape, dtype=jnp.int32)
        stride = size // base
        while stride:  # count the sub-blocks of `stride` edges, all <= t, in the block at `pos`
            last = table[pos[..., None] + (probes * stride - 1)]
            pos = pos + stride * jnp.sum(last <= t[..., None], axis=-1, dtype=jnp.int32)
            stride //= base
        return jnp.minimum(pos, n)

    def piece_index(self, t: Any, edges: Sequence[Any], plan: Any) -> Any:
        """The number of ``edges`` ``<= t`` by one lookup in the join's bucket table
        (``lrkit._ops.bucket_table``), computed in the step's integer type (int64 for a float step,
        floored: the edges are integers); a ``search`` where the join has none."""
        lookup = plan.lookup(edges)
        if lookup is None:
            return self.search(edges, t)
        shift = lookup.shift
        if jnp.issubdtype(t.dtype, jnp.floating):  # >= 0 and not NaN here; the edges are integers
            tc = jnp.floor(jnp.minimum(t, float(lookup.last))).astype(jnp.int64)
        else:
            tc = jnp.minimum(t, lookup.last)  # the edges a step of this dtype reaches are <= its maximum
            if lookup.widest > _int_max(t):  # the sums need a wider type
                tc = tc.astype(jnp.int64)
        values = _take(lookup.ints(tc.dtype.name), tc >> shift)
        return (values + (tc & ((1 << shift) - 1))) >> (shift + 1)

    def gather(self, table: Any, idx: Any, like: Any = None) -> Any:
        return _take(jnp.asarray(table, dtype=None if like is None else like.dtype), idx)


_GATHER_DIMS = jax.lax.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(0,), start_index_map=(0,))


def _take(table: Any, idx: Any) -> Any:
    """``table[idx]`` for a 1-d ``table`` and an index array within its bounds: one XLA gather (``[]``
    would add a wrap-around of negative indices, which costs more than the gather on a vector)."""
    return jax.lax.gather(jnp.asarray(table), idx[..., None], _GATHER_DIMS, slice_sizes=(1,),
                          mode=jax.lax.GatherScatterMode.CLIP)


def _evaluate(schedule: Any, ops: JaxOps, t: Any, out_dtype: Any) -> Any:
    """``schedule`` at ``t`` in float64, cast once to ``out_dtype``. Runs under ``enable_x64``."""
    if jnp.issubdtype(t.dtype, jnp.integer):
        t = jnp.maximum(t, 0)  # a negative or wrapped counter reads as step 0
    else:  # a float step is exact in float64; negative and NaN read as step 0
        t = t.astype(jnp.float64)
        t = jnp.where(t >= 0.0, t, 0.0)
    out = jnp.asarray(schedule._eval(t, ops), dtype=jnp.float64)
    return jnp.broadcast_to(out.astype(out_dtype), t.shape)


_evaluate_jit = jax.jit(_evaluate, static_argnums=(0, 1, 3))


#: The table used for jax arrays and tracers (``lrkit._base.ops_for`` imports it lazily).
OPS = JaxOps()

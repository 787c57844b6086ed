r"""The ``Ops`` table over ``jax.numpy``: branch-free, so schedules trace under ``jit`` and ``vmap``.

Steps arrive as optax's ``count``: a scalar ``int32`` array (traced under ``jax.jit``). Composition
nodes shift the step in that integer type (``t - boundary``) and compare it with integer boundaries,
so boundaries and ``per_epoch`` divisions are exact at every representable step; leaves then call
:meth:`JaxOps.to_float` once, which gives ``float32`` (``float64`` when ``jax_enable_x64`` is on).

Precision, per step (float32, the JAX default):

* ``t < 2**24``: the step is exact in float32; a value differs from the float64 reference by a few
  float32 ulps of the schedule's scale (``rtol`` about ``1e-6`` on the value, ``atol`` about
  ``1e-7 * max|value|`` where a curve subtracts, e.g. near the end of a cosine).
* ``t >= 2**24``: float32 cannot hold every integer, so a leaf sees its local step rounded to the
  nearest float32 (relative error at most ``2**-24``, e.g. ``2**24 + 1`` reads as ``2**24``). The
  value is then the curve at that rounded step: the extra error is at most
  ``|v'(t)| * t * 2**-24`` (for ``cosine(a, b, N)``: ``|a - b| * (pi / 2) * 2**-24 * t / N``).
  Piece boundaries (``join``, ``warmup``, ``multistep``, ``piecewise_constant``, ``per_epoch``) and
  whole periods (``step``, staircase ``exponential``/``inverse_time``, ``cosine_restarts`` with
  ``period_mult=1``, cycling ``polynomial``) are still decided on the exact integer step (XLA
  compiles ``x / 121.0`` as ``x * (1 / 121.0)``, so ``floor(121 / 121.0)`` would be 0 in float32).
  Periodic curves lose their phase once ``t * 2**-24`` is a sizeable part of a period (e.g.
  ``cosine_wave(..., steps=1)`` or a short ``cyclic`` past ``2**24``); their values stay within the
  curve's range.
* ``cosine_restarts`` with ``period_mult`` m > 1 finds cycle ``i``'s start as
  ``p (m**i - 1) / (m - 1)`` in float32: an extra error of about ``(i + 1) * 2**-24 / (m - 1)``
  of the step, so m close to 1 loses digits (``m = 1.05``, ``i = 80``: about ``1e-4`` of the
  amplitude).
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

from lrkit._ops import Ops


def _float_dtype(t: Any) -> Any:
    """The float dtype a step is computed in: float32, or float64 under x64 / for float64 steps."""
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

    def evaluate(self, schedule: Any, step: Any) -> Any:
        """Evaluate ``schedule`` at a jax array (or tracer) ``step``; the result has its shape.

        Concrete steps are checked (negative or NaN raises ``ValueError``); traced ones cannot be,
        and a negative traced step gives an unspecified value.
        """
        t = jnp.asarray(step)
        if t.dtype == jnp.bool_:
            raise TypeError(f"{schedule.kind}: `step` must be a number, not a bool. Received: step={step!r}")
        if not (jnp.issubdtype(t.dtype, jnp.integer) or jnp.issubdtype(t.dtype, jnp.floating)):
            raise TypeError(
                f"{schedule.kind}: `step` must be an integer or real array. Received: dtype {t.dtype}"
            )
        if not isinstance(t, jax.core.Tracer) and t.size:
            ok = np.asarray(t >= 0)
            if not ok.all():
                bad = np.asarray(t)[~ok].ravel()[0]
                raise ValueError(
                    f"{schedule.kind}: `step` must be non-negative and not NaN. Received: a step of {bad!r}"
                )
        try:
            hash(schedule)
        except TypeError:  # not hashable: evaluate op by op
            return _evaluate(schedule, self, t)
        # One compiled function per (schedule, shape, dtype): an eager call costs one dispatch
        # instead of one per operation; inside an outer jit it is inlined.
        return _evaluate_jit(schedule, self, t)

    def to_float(self, t: Any) -> Any:
        t = jnp.asarray(t)
        return t.astype(_float_dtype(t))

    def eps(self, x: Any) -> float:
        return float(jnp.finfo(_float_dtype(jnp.asarray(x))).eps)

    def full(self, t: Any, value: float) -> Any:
        t = jnp.asarray(t)
        return jnp.full(t.shape, value, dtype=_float_dtype(t))

    where = staticmethod(jnp.where)
    minimum = staticmethod(jnp.minimum)
    maximum = staticmethod(jnp.maximum)
    floor = staticmethod(jnp.floor)
    ceil = staticmethod(jnp.ceil)
    cos = staticmethod(jnp.cos)
    sin = staticmethod(jnp.sin)
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
        return hits.astype(_float_dtype(jnp.asarray(t)))

    def take(self, table: Sequence[float], idx: Any) -> Any:
        idx = jnp.asarray(idx)
        values = jnp.asarray(table, dtype=_float_dtype(idx))
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
        out = fns[0](t)
        for e, fn in zip(edges, fns[1:]):
            if top is not None and e > top:
                break
            if top is None:  # a float step: compare and shift in floats (no int32 overflow)
                e = float(e)
            out = jnp.where(t < e, out, fn(jnp.maximum(t - e, 0)))
        return out


def _evaluate(schedule: Any, ops: JaxOps, t: Any) -> Any:
    out = schedule._eval(t, ops)
    return jnp.broadcast_to(jnp.asarray(out, dtype=_float_dtype(t)), t.shape)


_evaluate_jit = jax.jit(_evaluate, static_argnums=(0, 1))


#: The table used for jax arrays and tracers (``lrkit._base.ops_for`` imports it lazily).
OPS = JaxOps()

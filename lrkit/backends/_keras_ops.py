r"""The ``Ops`` table over ``keras.ops``: branch-free, so schedules trace on every Keras 3 backend.

Steps arrive as Keras's ``optimizer.iterations`` variable (``int64`` on TensorFlow and PyTorch,
``int32`` on JAX), or a traced value of it inside a compiled train step. Composition nodes shift
the step in that integer type (``t - boundary``) and compare it with integer boundaries, so piece
boundaries and ``per_epoch`` divisions are exact at every representable step; leaves then call
:meth:`KerasOps.to_float` once, which casts to ``keras.backend.floatx()`` (``float32`` by default).

Precision (float32): below ``2**24`` the step is exact and a value differs from the float64
reference by a few float32 ulps of the schedule's scale. From ``2**24`` on a leaf sees its local
step rounded to float32 (relative error ``<= 2**-24``); boundaries are still decided exactly.
Pieces starting past the largest value of an integer step's dtype (``2**31 - 1`` under JAX) can
never apply and are left out at trace time instead of overflowing.

Nothing here branches in Python on a step's *value*, only on its dtype and on the schedule's
configuration, so the same code runs eagerly, under ``tf.function``, ``jax.jit`` and on torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from lrkit._ops import Ops

_kops = keras.ops
_BACKEND = keras.backend.backend()


def _dtype(t: Any) -> str | None:
    dt = getattr(t, "dtype", None)
    return None if dt is None else keras.backend.standardize_dtype(dt)


def _int_max(t: Any) -> int | None:
    """Largest value of an integer step's dtype, or ``None`` for a float step."""
    dt = _dtype(t)
    if dt is not None and ("int" in dt):
        return int(np.iinfo(dt).max)
    return None


def _float_dtype(t: Any) -> str:
    dt = _dtype(t)
    if dt in ("float64",):
        return dt
    return keras.backend.floatx()


class KerasOps(Ops):
    """``keras.ops`` operations. Every function is elementwise and branch-free on the step."""

    name = "keras"

    def evaluate(self, schedule: Any, step: Any) -> Any:
        """Evaluate ``schedule`` at a Keras step (variable, backend tensor or number).

        Returns a tensor of ``keras.backend.floatx()`` with the step's shape. Steps are not
        checked for sign here (they may be traced); ``optimizer.iterations`` never is negative.
        """
        t = _kops.convert_to_tensor(step)
        if _BACKEND == "tensorflow":
            # A tf.Variable converts to itself: read it once, not once per use in the formula.
            import tensorflow as tf

            t = tf.convert_to_tensor(t)
        dt = _dtype(t)
        if dt == "bool":
            raise TypeError(f"{schedule.kind}: `step` must be a number, not a bool. Received: step={step!r}")
        out = schedule._eval(t, self)
        out = _kops.cast(out, _float_dtype(t))
        shape = tuple(t.shape)
        if tuple(out.shape) != shape:
            out = _kops.broadcast_to(out, shape)
        return out

    def to_float(self, t: Any) -> Any:
        return _kops.cast(t, _float_dtype(t))

    def eps(self, x: Any) -> float:
        """Machine epsilon of the float type ``x`` is computed in (floatx: float32 by default)."""
        return float(np.finfo(_float_dtype(x)).eps)

    def full(self, t: Any, value: float) -> Any:
        return _kops.full(tuple(_kops.shape(t)), value, dtype=_float_dtype(t))

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return _kops.where(cond, a, b)

    def minimum(self, a: Any, b: Any) -> Any:
        return _kops.minimum(a, b)

    def maximum(self, a: Any, b: Any) -> Any:
        return _kops.maximum(a, b)

    def floor(self, x: Any) -> Any:
        return _kops.floor(x)

    def ceil(self, x: Any) -> Any:
        return _kops.ceil(x)

    def cos(self, x: Any) -> Any:
        return _kops.cos(x)

    def sin(self, x: Any) -> Any:
        return _kops.sin(x)

    def exp(self, x: Any) -> Any:
        return _kops.exp(x)

    def log(self, x: Any) -> Any:
        return _kops.log(x)

    def sqrt(self, x: Any) -> Any:
        return _kops.sqrt(x)

    def power(self, base: Any, exponent: Any) -> Any:
        # keras.ops.power promotes a Python base with a float tensor exponent to the tensor's type.
        if not hasattr(base, "dtype") and hasattr(exponent, "dtype"):
            base = _kops.cast(base, _dtype(exponent))
        return _kops.power(base, exponent)

    def clip(self, x: Any, lo: Any, hi: Any) -> Any:
        return _kops.minimum(_kops.maximum(x, lo), hi)

    def floordiv(self, t: Any, k: int) -> Any:
        top = _int_max(t)
        if top is not None and k > top:  # a non-negative step of this dtype is always below k
            return _kops.zeros_like(t)
        return _kops.floor_divide(t, k)

    def offset(self, t: Any, k: int) -> Any:
        """``t + k`` without wrapping: an integer step saturates at its dtype's largest value (steps
        within ``k`` of it read as that value), and a ``k`` past the dtype's range is added in floats."""
        top = _int_max(t)
        if top is None:
            return t + float(k)
        if k > top:
            return self.to_float(t) + float(k)
        kk = _kops.convert_to_tensor(k, dtype=_dtype(t))  # Keras reads a Python int as int32
        if top > 2**53:  # int64: no count comes within 2**53 of its limit
            return t + kk
        return _kops.minimum(t, top - k) + kk

    def bucket(self, t: Any, edges: Sequence[float]) -> Any:
        """Number of ``edges`` that are ``<= t``, compared in the step's integer type when exact."""
        top = _int_max(t)
        out = self.full(t, 0.0)
        if top is not None and all(float(e).is_integer() for e in edges):
            cmp_t, reach = t, [int(e) for e in edges if e <= top]
        else:
            cmp_t, reach = self.to_float(t), [float(e) for e in edges]
        for e in reach:
            out = out + _kops.cast(_kops.greater_equal(cmp_t, e), _float_dtype(t))
        return out

    def take(self, table: Sequence[float], idx: Any) -> Any:
        out = self.full(idx, float(table[0]))
        for i in range(1, len(table)):
            out = _kops.where(_kops.greater_equal(idx, float(i)), float(table[i]), out)
        return out

    def piecewise(
        self, t: Any, edges: Sequence[int], fns: Sequence[Callable[[Any], Any]]
    ) -> Any:
        """``fns[i](t - edges[i-1])`` on ``[edges[i-1], edges[i])``, shifted in the step's own type."""
        top = _int_max(t)
        out = fns[0](t)
        for e, fn in zip(edges, fns[1:]):
            if top is not None and e > top:
                break
            if top is None and not math.isfinite(e):
                break
            out = _kops.where(_kops.less(t, e), out, fn(_kops.maximum(t - e, 0)))
        return out


#: The table the Keras adapter evaluates schedules with.
OPS = KerasOps()

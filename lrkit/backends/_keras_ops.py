r"""The ``Ops`` table over ``keras.ops``: branch-free, so schedules trace on every Keras 3 backend.

Steps arrive as Keras's ``optimizer.iterations`` variable (``int64`` on TensorFlow and PyTorch,
``int32`` on JAX), or a traced value of it inside a compiled train step. Composition nodes shift
the step in that integer type (``t - boundary``) and compare it with integer boundaries, so piece
boundaries and ``per_epoch`` divisions are exact at every representable step; leaves then call
:meth:`KerasOps.to_float` once.

Precision: every formula is evaluated in **float64** (on JAX through lrkit's JAX table inside a scoped
``jax.enable_x64``, which emits float64 XLA ops for this part of the train step only; on PyTorch
through lrkit's torch table) and the result is cast *once* to
``keras.backend.floatx()``: the optimizer applies ``float32(s(k))`` of the float64 core value, up
to the last bit at a vanishing fraction of steps, at every step the counter holds exactly (the
step is exact in float64 up to ``2**53``, so periodic curves keep their phase). Only on a PyTorch
``mps`` device, which has no float64, the formula runs in float32. A negative or NaN step (a
wrapped counter) reads as step 0.
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

from lrkit._ops import GATHER_MIN, Ops

_kops = keras.ops
_BACKEND = keras.backend.backend()


def to_numpy(v: Any) -> np.ndarray:
    """A numpy copy of a Keras variable or backend tensor, on any backend.

    Not ``keras.ops.convert_to_numpy``: with numpy 2 it goes through an ``__array__`` without numpy 2's
    ``copy`` argument (Keras 3.15 variables; TensorFlow and torch tensors), which warns
    (``DeprecationWarning``) in the user's process.
    """
    x = getattr(v, "value", v)
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu()
    if hasattr(x, "numpy"):  # torch, tensorflow
        return np.array(x.numpy())
    return np.array(x)  # jax


def rate(optimizer: Any) -> float:
    """The learning rate ``optimizer`` applies at its current step, as a Python float."""
    return float(to_numpy(optimizer.learning_rate))


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
    """The dtype a result is given in: ``floatx()``, or float64 for a float64 step."""
    dt = _dtype(t)
    if dt in ("float64",):
        return dt
    return keras.backend.floatx()


def _compute_dtype(t: Any) -> str:
    """The dtype formulas run in: float64, except on a torch ``mps`` device (no float64 there)."""
    if _BACKEND == "torch" and getattr(getattr(t, "device", None), "type", None) == "mps":
        return "float32"
    return "float64"


def _check_not_bool(schedule: Any, t: Any, step: Any) -> None:
    if _dtype(t) == "bool":
        raise TypeError(f"{schedule.kind}: `step` must be a number, not a bool. Received: step={step!r}")


class KerasOps(Ops):
    """``keras.ops`` operations. Every function is elementwise and branch-free on the step."""

    name = "keras"

    def evaluate(self, schedule: Any, step: Any) -> Any:
        """Evaluate ``schedule`` at a Keras step (variable, backend tensor or number).

        Returns a tensor of ``keras.backend.floatx()`` (float64 for a float64 step) with the step's
        shape, computed in float64 and rounded once. Steps are not checked (they may be traced): a
        negative or NaN step, as a wrapped counter would give, reads as step 0.

        On JAX and PyTorch the backend's own lrkit table evaluates the formula (``keras.ops`` there
        narrows some float64 results to ``floatx``: ``floor``, ``maximum`` with a Python number);
        on TensorFlow (and a PyTorch ``mps`` device) this table does, in ``_compute_dtype``.
        """
        if _BACKEND == "jax":
            from lrkit.backends._jax_ops import OPS as JAX_OPS

            t = _kops.convert_to_tensor(step)
            _check_not_bool(schedule, t, step)
            return JAX_OPS.evaluate(schedule, t, counter=True, dtype=_float_dtype(t))
        t = _kops.convert_to_tensor(step)
        if _BACKEND == "tensorflow":
            # A tf.Variable converts to itself: read it once, not once per use in the formula.
            import tensorflow as tf

            t = tf.convert_to_tensor(t)
        _check_not_bool(schedule, t, step)
        out_dtype = _float_dtype(t)
        if _BACKEND == "torch" and _compute_dtype(t) == "float64":
            import torch

            from lrkit.backends._torch_ops import OPS as TORCH_OPS

            # Negative and NaN steps read as step 0 (torch ops: keras.ops.maximum would narrow
            # an int64 step against a Python 0).
            t = torch.clamp(t, min=0) if not t.is_floating_point() else torch.nan_to_num(t.clamp(min=0.0), nan=0.0)
            out = TORCH_OPS.evaluate(schedule, t, check=False)  # no device sync per step
        else:
            if _int_max(t) is not None:
                t = _kops.maximum(t, _kops.zeros_like(t))
            else:  # exact in float64; negative and NaN read as step 0
                t = self.to_float(t)
                t = _kops.where(_kops.greater_equal(t, 0.0), t, _kops.zeros_like(t))
            out = schedule._eval(t, self)
        out = _kops.cast(out, out_dtype)
        shape = tuple(t.shape)
        if tuple(out.shape) != shape:
            out = _kops.broadcast_to(out, shape)
        return out

    def to_float(self, t: Any) -> Any:
        return _kops.cast(t, _compute_dtype(t))

    def eps(self, x: Any) -> float:
        """Machine epsilon of the float type formulas run in (float64 but on ``mps``)."""
        return float(np.finfo(_compute_dtype(x)).eps)

    def full(self, t: Any, value: float) -> Any:
        if hasattr(value, "dtype"):  # a parameter gathered per step (``Ops.gathered_piecewise``)
            return _kops.broadcast_to(value, tuple(_kops.shape(t)))
        return _kops.full(tuple(_kops.shape(t)), value, dtype=_compute_dtype(t))

    def div(self, x: Any, d: float) -> Any:
        """``x / d`` correctly rounded: XLA (JAX, TensorFlow ``jit_compile``) rewrites division by a
        constant into multiplication by its reciprocal (one ulp off), so the divisor is made opaque
        as ``x * 0.0 + d`` (not folded for floats: it is NaN for an infinite ``x``)."""
        if not hasattr(x, "dtype"):
            return x / d
        return x / (x * 0.0 + d)

    @staticmethod
    def _t(x: Any) -> Any:
        """A Python number as a float64 tensor (``keras.ops`` would make it ``floatx``)."""
        return x if hasattr(x, "dtype") else _kops.convert_to_tensor(x, dtype="float64")

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return _kops.where(cond, a, b)

    def minimum(self, a: Any, b: Any) -> Any:
        return _kops.minimum(a, b)

    def maximum(self, a: Any, b: Any) -> Any:
        return _kops.maximum(a, b)

    def floor(self, x: Any) -> Any:
        return _kops.floor(self._t(x))

    def ceil(self, x: Any) -> Any:
        return _kops.ceil(self._t(x))

    def cos(self, x: Any) -> Any:
        return _kops.cos(self._t(x))

    def sin(self, x: Any) -> Any:
        return _kops.sin(self._t(x))

    def fmod(self, x: Any, n: float) -> Any:
        # keras.ops.mod has the sign of `n` (floor mod; TensorFlow's FloorMod is fmod then a sign fix,
        # exact): the same as fmod for the non-negative `x` lrkit passes.
        x = self._t(x)
        return _kops.mod(x, _kops.convert_to_tensor(n, dtype=_dtype(x)))

    def exp(self, x: Any) -> Any:
        return _kops.exp(self._t(x))

    def log(self, x: Any) -> Any:
        return _kops.log(self._t(x))

    def sqrt(self, x: Any) -> Any:
        return _kops.sqrt(self._t(x))

    def power(self, base: Any, exponent: Any) -> Any:
        # keras.ops.power promotes a Python base with a float tensor exponent to the tensor's type.
        if not hasattr(base, "dtype") and hasattr(exponent, "dtype"):
            # convert_to_tensor with the dtype: cast() would round a Python float to float32 first.
            base = _kops.convert_to_tensor(base, dtype=_dtype(exponent))
        elif not hasattr(base, "dtype") and not hasattr(exponent, "dtype"):
            base = self._t(base)
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
            out = out + _kops.cast(_kops.greater_equal(cmp_t, e), _compute_dtype(t))
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
        if hasattr(fns, "plan") and len(edges) + 1 >= GATHER_MIN:
            # A join: one search and a few gathers, whatever its number of pieces.
            if top is None:
                reach = [float(e) for e in edges if math.isfinite(e)]
            else:
                reach = [e for e in edges if e <= top]
            return self.gathered_piecewise(t, reach, fns)
        out = fns[0](t)
        for e, fn in zip(edges, fns[1:]):
            if top is not None and e > top:
                break
            if top is None and not math.isfinite(e):
                break
            out = _kops.where(_kops.less(t, e), out, fn(_kops.maximum(t - e, 0)))
        return out


    def search(self, edges: Sequence[Any], t: Any) -> Any:
        table = _kops.convert_to_tensor(np.asarray(edges), dtype=_dtype(t))
        flat = _kops.reshape(t, (-1,))
        return _kops.reshape(_kops.searchsorted(table, flat, side="right"), _kops.shape(t))

    def piece_index(self, t: Any, edges: Sequence[Any], plan: Any) -> Any:
        """The number of ``edges`` ``<= t`` by one lookup in the join's bucket table
        (``lrkit._ops.bucket_table``), in the step's integer type (int64 for a float step, floored: the
        edges are integers); a ``search`` where the join has none."""
        lookup = plan.lookup(edges)
        if lookup is None:
            return self.search(edges, t)
        shift, last = lookup.shift, lookup.last
        top = _int_max(t)
        if top is None:  # a float step (>= 0 and not NaN here)
            tc = _kops.cast(_kops.floor(_kops.minimum(t, _kops.convert_to_tensor(float(last), dtype=_dtype(t)))),
                            "int64")
        else:
            tc = _kops.minimum(t, _kops.convert_to_tensor(last, dtype=_dtype(t)))
            if lookup.widest > top:  # the sums need a wider type
                tc = _kops.cast(tc, "int64")
        dt = _dtype(tc)
        values = _kops.convert_to_tensor(lookup.ints(dt), dtype=dt)
        values = _take(values, _kops.right_shift(tc, shift) if shift else tc)
        low = _kops.bitwise_and(tc, _kops.convert_to_tensor((1 << shift) - 1, dtype=dt))
        return _kops.right_shift(values + low, shift + 1)

    def gather(self, table: Any, idx: Any, like: Any = None) -> Any:
        # Parameters in the dtype formulas run in, rounded as Python floats would be.
        dt = _compute_dtype(idx) if like is None else _dtype(like)
        return _take(_kops.convert_to_tensor(table, dtype=dt), idx)


def _take(table: Any, idx: Any) -> Any:
    """``table[idx]`` for a 1-d ``table`` and indices within its bounds. On TensorFlow one
    ``tf.gather``: ``keras.ops.take`` adds a wrap-around of negative indices (a dozen graph nodes,
    each traced in Python, per gather)."""
    if _BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.gather(table, idx)
    return _kops.take(table, idx)


#: The table the Keras adapter evaluates schedules with.
OPS = KerasOps()

if _BACKEND == "tensorflow":
    import tensorflow as tf

    # Inside a tf.function (a compiled train step), AutoGraph would rewrite every Python function the
    # evaluation calls, loops over a join's pieces included (tens of milliseconds for a 2000-piece
    # join): the formulas have no control flow on tensors, so they are traced as written.
    KerasOps.evaluate = tf.autograph.experimental.do_not_convert(KerasOps.evaluate)  # type: ignore[method-assign]

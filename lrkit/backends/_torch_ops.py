"""The ``Ops`` table for torch tensors: schedules evaluated in float64 on the step's device.

Nothing here knows any curve: every formula lives once in the core (``lrkit/_schedules.py``,
``lrkit/_compose.py``) and is evaluated through this table. ``Schedule.__call__`` dispatches a
``torch.Tensor`` step here (``lrkit._base.ops_for``), so ``s(torch.arange(10))`` returns a float64
tensor of the same shape on the same device.

The functions are plain torch calls with no data-dependent Python control flow, so they trace
under ``torch.compile``. Composition nodes subtract boundaries in the step's own dtype (an int64
step stays an integer until a leaf calls ``to_float``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lrkit._errors import BackendUnavailableError
from lrkit._ops import GATHER_MIN, Ops, TableCache

try:
    import torch
except ImportError as e:  # pragma: no cover - exercised only without torch
    raise BackendUnavailableError(
        "lrkit.backends.torch needs PyTorch, which is not installed. "
        "Install it with: pip install 'lrkit[torch]'"
    ) from e

_F64 = torch.float64


def _is_tensor(x: Any) -> bool:
    return isinstance(x, torch.Tensor)


def _compiling() -> bool:
    compiler = getattr(torch, "compiler", None)
    return bool(compiler is not None and compiler.is_compiling())


class TorchOps(Ops):
    """torch tensors in float64 (torch's own schedulers compute learning rates in float64).

    Scalars mixed with tensors follow torch's type promotion (a Python float never narrows a
    float64 tensor). Where two Python scalars meet (``where(c, 1.0, 0.0)``), the result is made a
    float64 tensor explicitly, since torch's default dtype is float32.
    """

    name = "torch"

    def evaluate(self, schedule: Any, step: Any, *, check: bool = True) -> Any:
        """``schedule`` at the steps of tensor ``step``: a float64 tensor of the same shape and device.

        In eager mode negative, infinite or NaN steps raise ``ValueError`` naming ``step`` (as for numbers
        and numpy arrays); under ``torch.compile`` (or with ``check=False``, for a caller that has
        already made the step valid) the check is skipped so nothing forces a graph break or a
        device sync.
        """
        if step.dtype == torch.bool:
            raise TypeError(
                f"{schedule.kind}: `step` must be a tensor of numbers, not of bools. "
                f"Received: step of dtype {step.dtype}"
            )
        if step.is_complex():
            raise TypeError(
                f"{schedule.kind}: `step` must be a real tensor. Received: step of dtype {step.dtype}"
            )
        if check and not _compiling() and step.numel():
            bad = ~(step >= 0)
            if step.is_floating_point():
                bad = bad | torch.isinf(step)
            if bool(bad.any()):
                raise ValueError(
                    f"{schedule.kind}: `step` must be finite and non-negative everywhere. "
                    f"Received: step containing {step[bad].flatten()[0].item()!r}"
                )
        # Widen the step first: composition nodes shift it in its own dtype (``t + steps`` for
        # shifted/overlaid children), which must not wrap around in int32 or round in float32.
        if step.is_floating_point():
            if step.dtype != _F64:
                step = step.to(_F64)
        elif step.dtype != torch.int64:
            step = step.to(torch.int64)
        out = schedule._eval(step, self)
        if not _is_tensor(out):
            out = torch.as_tensor(out, dtype=_F64, device=step.device)
        out = out.to(_F64)
        if out.shape != step.shape:
            out = out.expand(step.shape).clone()
        return out

    def to_float(self, t: Any) -> Any:
        if _is_tensor(t):
            return t.to(_F64)
        return torch.tensor(float(t), dtype=_F64)

    def full(self, t: Any, value: float) -> Any:
        if _is_tensor(value):  # a parameter gathered per step (``Ops.gathered_piecewise``)
            return torch.broadcast_to(value.to(_F64), t.shape)
        if _is_tensor(t):
            return torch.full_like(t, value, dtype=_F64)
        return torch.tensor(float(value), dtype=_F64)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        if not _is_tensor(a) and not _is_tensor(b):
            a = torch.tensor(float(a), dtype=_F64, device=cond.device)
        return torch.where(cond, a, b)

    def minimum(self, a: Any, b: Any) -> Any:
        if _is_tensor(a):
            return torch.minimum(a, b) if _is_tensor(b) else torch.clamp(a, max=b)
        if _is_tensor(b):
            return torch.clamp(b, max=a)
        return min(a, b)

    def maximum(self, a: Any, b: Any) -> Any:
        if _is_tensor(a):
            return torch.maximum(a, b) if _is_tensor(b) else torch.clamp(a, min=b)
        if _is_tensor(b):
            return torch.clamp(b, min=a)
        return max(a, b)

    def clip(self, x: Any, lo: Any, hi: Any) -> Any:
        if _is_tensor(x) and not _is_tensor(lo) and not _is_tensor(hi):
            return torch.clamp(x, min=lo, max=hi)
        return self.minimum(self.maximum(x, lo), hi)

    @staticmethod
    def _t(x: Any) -> Any:
        return x if _is_tensor(x) else torch.tensor(float(x), dtype=_F64)

    def floor(self, x: Any) -> Any:
        return torch.floor(self._t(x))

    def ceil(self, x: Any) -> Any:
        return torch.ceil(self._t(x))

    def cos(self, x: Any) -> Any:
        return torch.cos(self._t(x))

    def sin(self, x: Any) -> Any:
        return torch.sin(self._t(x))

    def fmod(self, x: Any, n: float) -> Any:
        return torch.fmod(self._t(x), n)

    def exp(self, x: Any) -> Any:
        return torch.exp(self._t(x))

    def log(self, x: Any) -> Any:
        return torch.log(self._t(x))

    def sqrt(self, x: Any) -> Any:
        return torch.sqrt(self._t(x))

    def power(self, base: Any, exponent: Any) -> Any:
        if not _is_tensor(base) and not _is_tensor(exponent):
            base = torch.tensor(float(base), dtype=_F64)
        elif _is_tensor(base) and not base.is_floating_point():
            base = base.to(_F64)
        return torch.pow(base, exponent)

    def floordiv(self, t: Any, k: int) -> Any:
        return torch.div(t, k, rounding_mode="floor") if _is_tensor(t) else t // k

    def bucket(self, t: Any, edges: Sequence[float]) -> Any:
        tf = self.to_float(t)
        return torch.searchsorted(_constant(edges, _F64, tf.device), tf.contiguous(), right=True).to(_F64)

    def take(self, table: Sequence[float], idx: Any) -> Any:
        return _constant(table, _F64, idx.device)[idx.to(torch.long)]

    def piecewise(
        self, t: Any, edges: Sequence[int], fns: Sequence[Callable[[Any], Any]]
    ) -> Any:
        # Every child is evaluated everywhere (branch-free, traceable); each one only ever sees a
        # non-negative local time, and ``where`` keeps the child that applies.
        if hasattr(fns, "plan") and len(edges) + 1 >= GATHER_MIN and _is_tensor(t):
            # A join: one search and a few gathers, whatever its number of pieces.
            # Every edge is reachable by an int64 or float64 step. The join's own tuple, not a copy:
            # its tensor is converted once (``_constant``).
            return self.gathered_piecewise(t, edges, fns)
        out = fns[0](t)
        for e, fn in zip(edges, fns[1:]):
            out = torch.where(t < e, out, fn(self.maximum(t - e, 0)))
        return out


    def search(self, edges: Sequence[Any], t: Any) -> Any:
        table = _constant(edges, t.dtype, t.device)
        return torch.searchsorted(table, t.reshape(-1), right=True).reshape(t.shape)

    def gather(self, table: Any, idx: Any, like: Any = None) -> Any:
        return _constant(table, _F64 if like is None else like.dtype, idx.device)[idx]


#: A join's tables (its boundaries, the numpy arrays of its plan) as tensors per dtype and device,
#: converted once instead of at every evaluation (at most 256 tables and about 4M numbers).
_CONSTANTS = TableCache(entries=256, numbers=1 << 22)


def _constant(table: Any, dtype: Any, device: Any) -> Any:
    """``table`` (a tuple or numpy array, never modified) as a read-only-by-convention tensor."""
    if _compiling():  # traced: a constant of the graph
        return torch.as_tensor(table, device=device).to(dtype)
    # A copy: shares no memory with the table.
    return _CONSTANTS.get(table, (dtype, device), lambda: torch.tensor(np.asarray(table), dtype=dtype, device=device))


OPS = TorchOps()

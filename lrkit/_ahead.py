"""A schedule at a run of consecutive steps at once, each value bit for bit the float ``s(float(k))``.

The torch adapter puts ``s(float(k))`` into the param groups at every ``scheduler.step()``. One scalar
evaluation walks the schedule tree through ``ScalarOps``, about a microsecond per node; evaluating the
next few hundred steps in one numpy pass costs a fraction of that per step. :data:`EXACT_OPS` is the numpy
table whose every element is the Python float ``ScalarOps`` computes, on any CPU:

* numpy computes only what IEEE 754 rounds exactly (``+ - * /``, ``sqrt``, ``floor``, ``ceil``,
  ``fmod``), ``floor_divide`` (Python's own algorithm), comparisons, selections and searches, so its
  bits are Python's;
* the functions each libm rounds its own way (``cos``, ``sin``, ``exp``, ``log``, ``pow``) are computed
  per element with the very functions ``ScalarOps`` calls: numpy's own are SIMD-dispatched on some
  CPUs and may differ from libm by an ulp;
* ``minimum``/``maximum``/``clip`` select as ``ScalarOps`` does (``a if a <= b else b``: NaN and
  signed zeros alike), and ``floor``/``ceil`` give ``0.0`` where ``math`` gives the int ``0``;
* a run crossing many pieces of a ``join`` made of few kinds of pieces is evaluated with one search and
  each group of alike pieces once (``Ops.gathered_piecewise``: per step, the arithmetic of evaluating
  the step's piece); otherwise each piece runs on its own steps (``NumpyOps.piecewise``).

No formula is written here: the schedules' own ``_eval`` runs against this table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lrkit._ops import SCALAR_OPS, NumpyOps, Ops, _float_array, _pow


def _each(fn: Callable[[float], float]) -> Callable[[Any, Any], Any]:
    """The ``Ops`` method applying ``fn`` (a scalar function of ``ScalarOps``) to every element."""

    def apply(self: Any, x: Any) -> Any:
        if isinstance(x, np.ndarray) and x.ndim:
            return np.fromiter(map(fn, x.ravel().tolist()), np.float64, x.size).reshape(x.shape)
        return fn(x)

    return apply


class ExactOps(NumpyOps):
    """numpy float64 arrays holding, element for element, the floats ``ScalarOps`` computes."""

    name = "numpy-exact"

    cos = _each(math.cos)
    sin = _each(math.sin)
    log = _each(math.log)
    exp = _each(SCALAR_OPS.exp)

    def power(self, base: Any, exponent: Any) -> Any:
        if isinstance(base, np.ndarray) or isinstance(exponent, np.ndarray):
            b, e = np.broadcast_arrays(base, exponent)
            return np.fromiter(map(_pow, b.ravel().tolist(), e.ravel().tolist()), np.float64, b.size).reshape(b.shape)
        return _pow(base, exponent)

    # math.floor/ceil return ints: 0, never -0.0 (numpy keeps the sign of floor(-0.0), ceil(-0.5)).
    def floor(self, x: Any) -> Any:
        return np.floor(x) + 0.0

    def ceil(self, x: Any) -> Any:
        return np.ceil(x) + 0.0

    def minimum(self, a: Any, b: Any) -> Any:
        return np.where(a <= b, a, b)

    def maximum(self, a: Any, b: Any) -> Any:
        return np.where(a >= b, a, b)

    clip = Ops.clip

    def __init__(self, budget: float = math.inf) -> None:
        #: How many more pieces the pass may run, each on its own steps (see ``values_ahead``).
        self.budget = budget

    def piecewise(self, t: Any, edges: Sequence[int], fns: Sequence[Callable[[Any], Any]]) -> Any:
        if not (isinstance(t, np.ndarray) and t.size > 1):
            return NumpyOps.piecewise(self, t, edges, fns)
        e = _float_array(edges)
        runs = self._crossed(t.reshape(-1), e)  # pieces this run of steps crosses
        if self._worth_gathering(fns, e, runs):
            self._spend(len(fns.plan().groups))  # type: ignore[attr-defined]
            return self.gathered_piecewise(t, e, fns)
        self._spend(runs)
        return NumpyOps.piecewise(self, t, edges, fns)

    def _spend(self, runs: int) -> None:
        self.budget -= runs
        if self.budget < 0:
            raise _OverBudget

class _OverBudget(Exception):
    """The pass would run more pieces on their own than it may (``values_ahead``'s ``max_runs``)."""


EXACT_OPS = ExactOps()


def values_ahead(schedule: Any, start: int, count: int, max_runs: float = math.inf) -> list[float] | None:
    """``[schedule(float(k)) for k in range(start, start + count)]``, bit for bit, in one numpy pass.

    (At float steps, as the torch adapter evaluates: ``cosine_wave`` takes an int step's phase in
    integers, which differs far out.)

    ``None`` where that pass cannot stand in for the scalar one: it raised (a step whose scalar
    evaluation would raise, or a value out of range in a branch ``where`` discards) or gave a value
    that is not finite; or where it would evaluate more than ``max_runs`` pieces (of joins, warmups,
    ...) each on its own steps (checked before each runs): each costs about as much as some tens of
    steps evaluated one at a time, so a run crossing many short pieces is cheaper that way. The
    caller then evaluates those steps one at a time.
    """
    t = np.arange(start, start + count, dtype=np.float64)
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(schedule._eval(t, ExactOps(max_runs)), dtype=np.float64)
    except (ArithmeticError, ValueError, TypeError, _OverBudget):
        return None
    if out.shape != t.shape:
        out = np.broadcast_to(out, t.shape)
    if not np.isfinite(out).all():
        return None
    return out.tolist()

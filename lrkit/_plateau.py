"""Reduce-on-plateau: one framework-neutral state machine, composed with any schedule.

CONTRACT used by every backend adapter:

* ``p = ReduceOnPlateau(mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
  cooldown=0, min_lr=0.0, eps=1e-8)`` is an immutable settings object (validated at construction).
* ``p.initial_state() -> dict`` : the state, primitives only (floats/ints), so it rides inside torch
  ``state_dict`` (``weights_only=True``), Keras model files and optax states.
* ``p.update(state, metric, lr) -> dict`` : a new state after one evaluation reporting ``metric``
  (``lr`` is the learning rate currently applied, which torch's ``eps`` rule and Keras's ``min_lr``
  rule need). Pure.
* ``p.apply(value, state, ops=None)`` : the learning rate for schedule value ``value``:
  ``min(value, max(value * state["scale"], min_lr))``. ``value`` may be a float or an array of
  ``ops``'s library. On floats and numpy arrays ``value * scale`` is rounded as the natives round it
  (one multiplication per reduction), so a constant schedule gives torch's rates bit for bit.

The transition is written once, branch-free, against the ``Ops`` table (``p.transition``), so the
same rules run on Python floats (torch and Keras callbacks) and traced inside ``jax.jit`` (optax).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from lrkit import _errors as E
from lrkit._ops import SCALAR_OPS, Ops

_OWNER = "ReduceOnPlateau"
#: Most reductions ``apply`` replays one by one (``ReduceOnPlateau._reduced``); more multiply by the scale.
_CHAIN_MAX = 64
_PRODUCTS: dict[tuple[float, int], float] = {}


def _product(factor: float, k: int) -> float:
    """``((1.0 * factor) * factor) ...`` (``k`` factors): the scale ``update`` builds in ``k`` reductions."""
    try:
        return _PRODUCTS[factor, k]
    except KeyError:
        out = 1.0
        for _ in range(k):
            out *= factor
        if len(_PRODUCTS) >= 4096:
            _PRODUCTS.clear()
        _PRODUCTS[factor, k] = out
        return out
_STATE_KEYS = ("scale", "best", "num_bad_epochs", "cooldown_counter", "num_reductions")


class PlateauMetricWarning(RuntimeWarning):
    """A reported metric was NaN or infinite; the plateau state was left unchanged."""


class ReduceOnPlateau:
    """Reduce the learning rate when a metric stops improving, on top of any schedule.

    The learning rate at step ``t`` is

    .. math::

        \\mathrm{lr}(t) = \\min\\bigl(s(t),\\ \\max(s(t) \\cdot \\mathrm{scale},\\ \\mathrm{min\\_lr})\\bigr)

    where ``s`` is the schedule and ``scale`` is ``factor ** k`` after ``k`` reductions. With a
    constant schedule this is exactly the learning rate of torch's ``ReduceLROnPlateau`` (default
    ``convention="torch"``) or Keras's ``ReduceLROnPlateau`` callback (``convention="keras"``).

    Rules, per evaluation (``update``):

    * ``convention="torch"`` (``torch.optim.lr_scheduler.ReduceLROnPlateau``): a metric is better
      than ``best`` if ``metric < best * (1 - threshold)`` (``rel``) or ``metric < best - threshold``
      (``abs``), mirrored for ``mode="max"``. Otherwise a bad epoch is counted; during cooldown the
      cooldown counter drops by one and bad epochs are forgotten. After *more than* ``patience``
      bad epochs the learning rate is reduced, unless the reduction would change the current
      learning rate by ``eps`` or less; either way the cooldown restarts and the count resets.
    * ``convention="keras"`` (``keras.callbacks.ReduceLROnPlateau``): the cooldown counter drops
      first; ``abs`` improvement is ``metric + threshold < best`` evaluated in float32 like Keras;
      bad epochs are not counted during cooldown; after ``patience`` bad epochs (``>=``) the
      learning rate is reduced only while the current learning rate (in float32) is above
      ``min_lr`` (in float32), and only a reduction restarts the cooldown. ``eps`` is not used.

    A NaN or infinite metric leaves the state unchanged and warns (``PlateauMetricWarning``);
    ``None`` or a non-number is a ``TypeError``. (The natives silently count such a metric as a
    bad epoch, which turns a diverged run into a quiet learning-rate cut.)

    Args:
      mode: ``"min"`` (the metric should go down, e.g. a loss) or ``"max"`` (e.g. accuracy).
      factor: multiplier of the learning rate at each reduction, ``0 < factor < 1``.
      patience: number of bad evaluations tolerated (non-negative integer).
      threshold: minimum improvement that counts, finite and non-negative.
      threshold_mode: ``"rel"`` (relative to ``best``) or ``"abs"``.
      cooldown: evaluations to wait after a reduction before counting bad epochs again
        (non-negative integer).
      min_lr: lower bound of the reduced learning rate (finite, non-negative). A schedule value
        already below ``min_lr`` is left as it is.
      eps: torch's minimal effective reduction (finite, non-negative).
      convention: ``"torch"`` (default) or ``"keras"``, see above.

    Examples:
      >>> import lrkit as lk
      >>> p = lk.ReduceOnPlateau(patience=1, factor=0.5)
      >>> state = p.initial_state()
      >>> for loss in [1.0, 1.0, 1.0]:
      ...     state = p.update(state, loss, lr=p.apply(0.1, state))
      >>> p.apply(0.1, state)
      0.05
    """

    __slots__ = (
        "convention",
        "cooldown",
        "eps",
        "factor",
        "min_lr",
        "mode",
        "patience",
        "threshold",
        "threshold_mode",
    )

    def __init__(
        self,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
        *,
        convention: str = "torch",
    ) -> None:
        set_ = object.__setattr__
        set_(self, "mode", E.choice(_OWNER, "mode", mode, ("min", "max")))
        f = E.positive(_OWNER, "factor", factor)
        if not f < 1.0:
            raise E._fail(_OWNER, "factor", "a number in (0, 1)", factor)
        set_(self, "factor", f)
        set_(self, "patience", E.non_negative_int(_OWNER, "patience", patience))
        set_(self, "threshold", E.value(_OWNER, "threshold", threshold))
        set_(self, "threshold_mode", E.choice(_OWNER, "threshold_mode", threshold_mode, ("rel", "abs")))
        set_(self, "cooldown", E.non_negative_int(_OWNER, "cooldown", cooldown))
        set_(self, "min_lr", E.value(_OWNER, "min_lr", min_lr))
        set_(self, "eps", E.value(_OWNER, "eps", eps))
        set_(self, "convention", E.choice(_OWNER, "convention", convention, ("torch", "keras")))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{_OWNER} is immutable; build a new one (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{_OWNER} is immutable (cannot delete {name!r})")

    # -- settings ---------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as a JSON-serialisable dict (``ReduceOnPlateau(**config)``)."""
        return {name: getattr(self, name) for name in _DEFAULTS}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ReduceOnPlateau:
        """Rebuild from ``get_config()``; unknown keys are a ``ValueError``."""
        if not isinstance(config, dict):
            raise TypeError(
                f"{_OWNER}.from_config: `config` must be a dict. Received: config={config!r}"
            )
        unknown = sorted(set(config) - set(_DEFAULTS))
        if unknown:
            raise ValueError(
                f"{_OWNER}.from_config: unknown key(s) {unknown}; expected {sorted(_DEFAULTS)}. "
                f"Received: config={config!r}"
            )
        return cls(**config)

    def __reduce__(self) -> tuple[Any, ...]:
        # Immutable slots: pickle/copy rebuild from the settings instead of setting attributes.
        return (_rebuild, (self.get_config(),))

    def __copy__(self) -> ReduceOnPlateau:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ReduceOnPlateau:
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReduceOnPlateau):
            return NotImplemented
        return self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(tuple(self.get_config().items()))

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.get_config().items() if v != _DEFAULTS[k]]
        return f"{_OWNER}({', '.join(parts)})"

    # -- state ------------------------------------------------------------------------------

    def initial_state(self) -> dict[str, Any]:
        """The state before any evaluation: primitives only (floats and ints).

        Keys: ``scale`` (product of the reductions so far, starts at 1.0), ``best`` (best metric
        so far, ``inf`` for ``min`` / ``-inf`` for ``max`` before the first one),
        ``num_bad_epochs``, ``cooldown_counter`` and ``num_reductions``.
        """
        return {
            "scale": 1.0,
            "best": math.inf if self.mode == "min" else -math.inf,
            "num_bad_epochs": 0,
            "cooldown_counter": 0,
            "num_reductions": 0,
        }

    def check_state(self, state: Any, name: str = "state") -> dict[str, Any]:
        """Validate a state (e.g. one read from a checkpoint); returns a clean copy.

        Every field is checked before anything is returned, so a caller that assigns the result
        only after this call keeps its old state when the check fails.

        Raises:
          TypeError: ``state`` is not a dict, or a field is not a number (strings, ``None``,
            booleans are refused; one-element tensors/arrays are read as their number).
          ValueError: a key is missing or unknown, ``scale`` is not in ``(0, 1]``, ``best`` is
            NaN, or a counter is negative.
        """
        if not isinstance(state, dict):
            raise TypeError(
                f"{_OWNER}: `{name}` must be a dict made by initial_state()/update(). "
                f"Received: {name}={state!r} of type {type(state).__name__}"
            )
        missing = [k for k in _STATE_KEYS if k not in state]
        extra = sorted(str(k) for k in state if k not in _STATE_KEYS)
        if missing or extra:
            what = "; ".join(
                part for part in (
                    f"lacks key(s) {missing}" if missing else "",
                    f"has unknown key(s) {extra}" if extra else "",
                ) if part
            )
            raise ValueError(
                f"{_OWNER}: `{name}` {what}; expected exactly {list(_STATE_KEYS)}. Received: {name}={state!r}"
            )
        scale = _state_number(f"{name}['scale']", state["scale"])
        if not 0.0 < scale <= 1.0:
            raise E._fail(_OWNER, f"{name}['scale']", "in (0, 1]", state["scale"])
        best = _state_number(f"{name}['best']", state["best"])
        if best != best:
            raise E._fail(_OWNER, f"{name}['best']", "a number or +-inf (not NaN)", state["best"])
        out: dict[str, Any] = {"scale": scale, "best": best}
        for key in _STATE_KEYS[2:]:
            out[key] = _state_count(f"{name}['{key}']", state[key])
        return out

    def update(self, state: dict[str, Any], metric: Any, lr: Any) -> dict[str, Any]:
        """The state after one evaluation that reported ``metric``.

        Args:
          state: the current state (``initial_state()`` or a previous ``update``).
          metric: the monitored value: a real number, or a 0-d array/tensor.
          lr: the learning rate applied at the moment of the evaluation (finite, non-negative).

        Returns:
          A new dict; ``state`` is not modified. A NaN/infinite metric returns an unchanged copy
          and warns with ``PlateauMetricWarning``.

        Raises:
          TypeError: ``metric`` is ``None`` or not a number.
        """
        return self._update(self.check_state(state), metric, lr, stacklevel=3)

    def _update(self, st: dict[str, Any], metric: Any, lr: Any, stacklevel: int = 2) -> dict[str, Any]:
        """``update`` of a state already checked (an adapter's own, from ``initial_state``, ``update``
        or ``check_state``): the state is not validated again at every evaluation."""
        m = _metric_float(metric)
        if not math.isfinite(m):
            warnings.warn(
                f"{_OWNER}: the reported metric is {m!r}; ignoring it (no bad epoch counted, "
                "learning rate unchanged). Check the loss for divergence.",
                PlateauMetricWarning,
                stacklevel=stacklevel,
            )
            return st
        lr_f = _metric_float(lr, "lr")
        if not (lr_f >= 0.0 and lr_f < math.inf):
            raise E._fail(_OWNER, "lr", "a finite non-negative number", lr)
        new = self.transition(st, m, lr_f, SCALAR_OPS)
        return {
            "scale": float(new["scale"]),
            "best": float(new["best"]),
            "num_bad_epochs": int(new["num_bad_epochs"]),
            "cooldown_counter": int(new["cooldown_counter"]),
            "num_reductions": int(new["num_reductions"]),
        }

    def transition(self, state: dict[str, Any], metric: Any, lr: Any, ops: Ops) -> dict[str, Any]:
        """The state machine itself, branch-free over ``ops`` (no checks; see ``update``).

        Used directly by traced backends (optax under ``jax.jit``), where the fields of ``state``
        and ``metric``/``lr`` are arrays; a non-finite metric leaves the state unchanged.
        """
        w = ops.where
        scale = state["scale"]
        best = state["best"]
        bad = state["num_bad_epochs"]
        cd = state["cooldown_counter"]
        nred = state["num_reductions"]
        better = self._is_better(metric, best, ops)
        if self.convention == "torch":
            best2 = w(better, metric, best)
            bad2 = w(better, 0, bad + 1)
            in_cd = cd > 0
            cd2 = w(in_cd, cd - 1, cd)
            bad2 = w(in_cd, 0, bad2)
            due = bad2 > self.patience
            new_lr = ops.maximum(lr * self.factor, self.min_lr)
            effective = (lr - new_lr) > self.eps
            reduce = w(due, effective, False)
            cd2 = w(due, self.cooldown, cd2)
            bad2 = w(due, 0, bad2)
        else:
            in_cd = cd > 0
            cd2 = w(in_cd, cd - 1, cd)
            wait = w(in_cd, 0, bad)
            best2 = w(better, metric, best)
            still_cd = cd2 > 0
            counted = w(better, False, w(still_cd, False, True))
            wait = w(better, 0, w(still_cd, wait, wait + 1))
            due = w(counted, wait >= self.patience, False)
            reduce = w(due, self._above_min_lr(lr, ops), False)
            cd2 = w(reduce, self.cooldown, cd2)
            bad2 = w(reduce, 0, wait)
        # A reduction that would underflow the scale to 0 (eps=0, min_lr=0, hundreds of
        # reductions) is not taken: the learning rate stays positive, and the state stays valid.
        reduce = w(scale * self.factor > 0.0, reduce, False)
        out = {
            "scale": w(reduce, scale * self.factor, scale),
            "best": best2,
            "num_bad_epochs": bad2,
            "cooldown_counter": cd2,
            "num_reductions": w(reduce, nred + 1, nred),
        }
        if ops is SCALAR_OPS:
            return out
        finite = (metric == metric) & (abs(metric) < math.inf)
        return {k: w(finite, out[k], state[k]) for k in out}

    def _is_better(self, a: Any, best: Any, ops: Ops) -> Any:
        thr = self.threshold
        if self.convention == "keras" and self.threshold_mode == "abs":
            # keras MonitorCallback._is_improvement: ops.less(current + min_delta, best), in floatx.
            if ops is SCALAR_OPS:
                if self.mode == "min":
                    return bool(np.float32(a + thr) < np.float32(best))
                return bool(np.float32(a - thr) > np.float32(best))
            return (a + thr < best) if self.mode == "min" else (a - thr > best)
        if self.mode == "min":
            return a < best * (1.0 - thr) if self.threshold_mode == "rel" else a < best - thr
        return a > best * (thr + 1.0) if self.threshold_mode == "rel" else a > best + thr

    def _above_min_lr(self, lr: Any, ops: Ops) -> Any:
        if ops is SCALAR_OPS:
            # keras: `old_lr > np.float32(self.min_lr)` with old_lr read from a float32 variable.
            return bool(float(np.float32(lr)) > float(np.float32(self.min_lr)))
        return lr > self.min_lr

    # -- composition ------------------------------------------------------------------------

    def apply(self, value: Any, state: dict[str, Any], ops: Ops | None = None) -> Any:
        """The learning rate for schedule value ``value``: ``min(value, max(value * scale, min_lr))``.

        Args:
          value: the schedule's value: a float, or an array of ``ops``'s library.
          state: a plateau state (only ``state["scale"]`` is read; it may be an array too).
          ops: the operation table of ``value``'s library; ``None`` picks Python floats or numpy.

        Returns:
          A float for a float ``value``, otherwise an array of the same library.
        """
        scale = state["scale"]
        if ops is None:
            if isinstance(value, numbers.Real) and not isinstance(value, np.ndarray):
                v = float(value)
                return min(v, max(self._reduced(v, state), self.min_lr))
            value = np.asarray(value, dtype=np.float64)
            return np.minimum(value, np.maximum(self._reduced(value, state), self.min_lr))
        return ops.minimum(value, ops.maximum(value * scale, self.min_lr))

    def _reduced(self, value: Any, state: dict[str, Any]) -> Any:
        """``value * scale`` as the natives round it: multiplied by ``factor`` once per reduction
        (``((v * f) * f) * f``, torch's and Keras's sequence on the rate in use, which ``v * f**3``
        can miss by an ulp), where ``scale`` is that product of the reductions (as ``update`` builds
        it); ``value * scale`` for a state whose scale was set otherwise, or past ``_CHAIN_MAX``."""
        scale, k = state["scale"], state.get("num_reductions")
        if type(k) is not int or not 0 < k <= _CHAIN_MAX or _product(self.factor, k) != scale:
            return value * float(scale)
        f, v = self.factor, value
        for _ in range(k):
            v = v * f
        return v


_DEFAULTS: dict[str, Any] = {
    "mode": "min",
    "factor": 0.1,
    "patience": 10,
    "threshold": 1e-4,
    "threshold_mode": "rel",
    "cooldown": 0,
    "min_lr": 0.0,
    "eps": 1e-8,
    "convention": "torch",
}


def _rebuild(config: dict[str, Any]) -> ReduceOnPlateau:
    return ReduceOnPlateau.from_config(config)


def _state_number(name: str, v: Any) -> float:
    if v is None or isinstance(v, (bool, str, bytes)):
        raise E._type_fail(_OWNER, name, "a real number", v)
    try:
        return _metric_float(v, name)
    except (TypeError, ValueError):
        raise E._type_fail(_OWNER, name, "a real number", v) from None


def _state_count(name: str, v: Any) -> int:
    if hasattr(v, "item") and getattr(v, "ndim", None) == 0:  # a 0-d tensor/array from a checkpoint
        v = v.item()
    if isinstance(v, float) and v.is_integer():  # a counter stored as a float variable (2.0)
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise E._type_fail(_OWNER, name, "a non-negative integer", v)
    if v < 0:
        raise E._fail(_OWNER, name, "a non-negative integer", v)
    return int(v)


def _metric_float(metric: Any, name: str = "metric") -> float:
    if type(metric) is float:
        return metric
    if metric is None or isinstance(metric, (bool, str, bytes)):
        raise TypeError(
            f"{_OWNER}: `{name}` must be a real number (or a 0-d tensor). "
            f"Received: {name}={metric!r} of type {type(metric).__name__}"
        )
    if isinstance(metric, numbers.Real):
        try:
            return float(metric)
        except OverflowError:
            raise ValueError(
                f"{_OWNER}: `{name}` must be a real number within the float range. "
                f"Received: {name}={E.show(metric)}"
            ) from None
    size = getattr(metric, "size", None)
    numel = getattr(metric, "numel", None)
    n = numel() if callable(numel) else size
    if n is not None and n != 1:
        raise ValueError(
            f"{_OWNER}: `{name}` must be a single number. Received: {name} with {n} elements"
        )
    try:
        return float(metric)
    except (TypeError, ValueError):
        raise TypeError(
            f"{_OWNER}: `{name}` must be a real number (or a 0-d tensor). "
            f"Received: {name}={metric!r} of type {type(metric).__name__}"
        ) from None


# -- ports (lk.from_torch / lk.from_keras delegate here) ---------------------------------------


def _from_torch_plateau(scheduler: Any, group: int = 0) -> ReduceOnPlateau:
    """Settings of a ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (``min_lr`` of ``group``)."""
    min_lrs = list(scheduler.min_lrs)
    if not 0 <= group < len(min_lrs):
        raise ValueError(
            f"from_torch: `group` must be in [0, {len(min_lrs)}) for this ReduceLROnPlateau. "
            f"Received: group={group!r}"
        )
    return ReduceOnPlateau(
        mode=scheduler.mode,
        factor=float(scheduler.factor),
        patience=int(scheduler.patience),
        threshold=float(scheduler.threshold),
        threshold_mode=scheduler.threshold_mode,
        cooldown=int(scheduler.cooldown),
        min_lr=float(min_lrs[group]),
        eps=float(scheduler.eps),
        convention="torch",
    )


def _from_keras_plateau(callback: Any) -> ReduceOnPlateau:
    """Settings of a ``keras.callbacks.ReduceLROnPlateau`` (Keras's rules, ``abs`` threshold).

    ``mode="auto"`` resolves as Keras does for a loss (``"min"``); for any other monitored
    quantity pass ``mode="min"``/``"max"`` to the callback (Keras needs the compiled model for it).
    """
    mode = _keras_mode(callback)
    return ReduceOnPlateau(
        mode=mode,
        factor=float(callback.factor),
        patience=int(callback.patience),
        threshold=abs(float(callback.min_delta)),
        threshold_mode="abs",
        cooldown=int(callback.cooldown),
        min_lr=float(callback.min_lr),
        eps=0.0,
        convention="keras",
    )


def _keras_mode(callback: Any) -> str:
    op = getattr(callback, "monitor_op", None)
    if op is not None:
        name = getattr(op, "__name__", "")
        if name in ("less", "greater"):
            return "min" if name == "less" else "max"
    mode = callback.mode
    if mode in ("min", "max"):
        return str(mode)
    if str(callback.monitor).removeprefix("val_") == "loss":
        return "min"
    raise ValueError(
        "from_keras: cannot tell whether the monitored quantity "
        f"{callback.monitor!r} should go down or up (mode='auto' needs the compiled model). "
        f"Build the callback with mode='min' or mode='max'. Received: mode={mode!r}"
    )

"""Keras 3: a drop-in ``ReduceLROnPlateau`` callback that also works with lrkit schedules.

The rules are lrkit's core state machine with Keras's conventions (``lrkit.ReduceOnPlateau``
with ``convention="keras"``, built by ``lrkit.from_keras(callback)``); nothing here re-implements
them. With a float learning rate the callback sets ``optimizer.learning_rate`` like Keras's own.
With an lrkit :class:`~lrkit.backends.keras.LearningRateSchedule` the whole plateau state (scale,
``min_lr``, ``best`` and the counters) lives in the variable the schedule added to its optimizer
when the optimizer was built: the compiled train step reads the scale from there, and every Keras
checkpoint (``model.save``/``load_model``, ``save_weights``/``load_weights``,
``BackupAndRestore``) saves and restores it with the optimizer. The callback itself holds no
state for such an optimizer, so a new callback, a new ``fit()`` or a new process continues
exactly where the checkpoint stopped.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import keras

from lrkit import _errors as E
from lrkit._base import Schedule
from lrkit._plateau import ReduceOnPlateau as _Plateau
from lrkit._plateau import _from_keras_plateau
from lrkit.backends import _keras_private as _private
from lrkit.backends import keras as _lkk
from lrkit.backends._keras_ops import rate

__all__ = ["PlateauLearningRateSchedule", "ReduceLROnPlateau"]

_CORE_KEYS = ("scale", "best", "num_bad_epochs", "cooldown_counter", "num_reductions")


@keras.saving.register_keras_serializable(package="lrkit")
class PlateauLearningRateSchedule(_lkk.LearningRateSchedule):
    r"""An lrkit schedule with a given initial plateau state: ``min(s(t), max(s(t) * scale, min_lr))``.

    Every :class:`~lrkit.backends.keras.LearningRateSchedule` carries the plateau's ``scale`` and
    ``min_lr`` in its optimizer's ``lrkit_plateau`` variable; this subclass only sets their initial values (and
    records the current ones in ``get_config()``), e.g. to start a run from the reductions another
    run reached. :class:`ReduceLROnPlateau` works with either class.

    Args:
      schedule: an lrkit ``Schedule``.
      min_lr: lower bound of the reduced learning rate (finite, non-negative).
      scale: the initial scale, in ``(0, 1]``.
      gradient_accumulation_steps: as in :class:`lrkit.backends.keras.LearningRateSchedule`.
      total_steps: as in :class:`lrkit.backends.keras.LearningRateSchedule`.

    Examples:
      >>> import lrkit as lk
      >>> lr = PlateauLearningRateSchedule(lk.constant(0.1), min_lr=0.01, scale=0.05)
      >>> round(float(lr(0)), 6)
      0.01
    """

    def __init__(
        self,
        schedule: Schedule,
        *,
        min_lr: float = 0.0,
        scale: float = 1.0,
        gradient_accumulation_steps: int | None = None,
        total_steps: int | None = None,
    ) -> None:
        super().__init__(schedule, gradient_accumulation_steps=gradient_accumulation_steps, total_steps=total_steps)
        owner = "PlateauLearningRateSchedule"
        self._initial_min_lr = E.value(owner, "min_lr", min_lr)
        s = E.positive(owner, "scale", scale)
        if s > 1.0:
            raise E._fail(owner, "scale", "in (0, 1]", scale)
        self._initial_scale = s

    def get_config(self) -> dict[str, Any]:
        """The base config plus the current ``min_lr`` and ``scale``."""
        config = super().get_config()
        config["min_lr"] = self.min_lr
        config["scale"] = self.scale
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PlateauLearningRateSchedule:
        """Rebuild from :meth:`get_config` (only lrkit schedule types are ever built)."""
        if not isinstance(config, dict):
            raise TypeError(
                "PlateauLearningRateSchedule.from_config: `config` must be a dict. "
                f"Received: config={config!r} of type {type(config).__name__}"
            )
        config = dict(config)
        extra = {k: config.pop(k) for k in ("min_lr", "scale") if k in config}
        base = _lkk.LearningRateSchedule.from_config(config)
        return cls(
            base._written,
            gradient_accumulation_steps=base.gradient_accumulation_steps,
            total_steps=base.total_steps,
            **extra,
        )

    def __repr__(self) -> str:
        total = "" if self.total_steps is None else f", total_steps={self.total_steps}"
        return (
            f"PlateauLearningRateSchedule({self._written!r}, min_lr={self.min_lr!r}, "
            f"scale={self.scale!r}{total})"
        )


class ReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
    """Drop-in for ``keras.callbacks.ReduceLROnPlateau`` that also reduces lrkit schedules.

    Same arguments and the same decisions as Keras's callback (the learning rates equal Keras's,
    up to float32 rounding of ``lr * factor ** k``): it monitors ``monitor`` at each epoch end,
    reduces after ``patience`` epochs without an improvement of more than ``min_delta``, waits
    ``cooldown`` epochs after a reduction and never goes below ``min_lr``.

    What differs:

    * the optimizer's ``learning_rate`` may be an lrkit
      :class:`~lrkit.backends.keras.LearningRateSchedule` (Keras's callback refuses schedules). A
      reduction lowers the schedule's plateau ``scale``: the learning rate becomes
      ``min(s(t), max(s(t) * scale, min_lr))`` and the schedule keeps running.
    * **The state survives checkpoints.** With an lrkit schedule the scale, ``min_lr``, ``best``
      and the counters (``wait``, ``cooldown_counter``) are in a variable of the optimizer, so
      ``BackupAndRestore``, ``ModelCheckpoint`` + ``keras.models.load_model`` and
      ``save_weights``/``load_weights`` restore them exactly on every backend, and a new
      ``fit()`` (with this or a new callback) continues them instead of restarting the counters
      as Keras's callback does. With a float learning rate the reductions are kept in the rate
      (as in Keras) and the counters continue across ``fit()`` calls of the same callback, but a
      checkpoint does not hold them: use ``LearningRateSchedule(lrkit.constant(lr))`` for a
      state that checkpoints restore.
    * a NaN or infinite metric is ignored with a ``PlateauMetricWarning`` instead of counting as
      a bad epoch; a missing ``monitor`` key warns as in Keras.
    * :meth:`get_state`/:meth:`set_state` give the full plateau state as primitives (JSON-able);
      a state set with ``set_state`` is applied at the next ``fit()`` start.

    Args:
      monitor: quantity to monitor (a key of the epoch logs).
      factor: ``new_lr = lr * factor``, in ``(0, 1)``.
      patience: epochs without improvement after which the learning rate is reduced.
      verbose: ``0`` quiet, ``1`` prints a message at each reduction.
      mode: ``"auto"``, ``"min"`` or ``"max"`` (as Keras).
      min_delta: minimum (absolute) change that counts as an improvement.
      cooldown: epochs to wait after a reduction.
      min_lr: lower bound on the learning rate.
      **kwargs: accepted for compatibility, like Keras's callback.

    Examples:
      >>> import keras, lrkit as lk
      >>> from lrkit.backends.keras import LearningRateSchedule, ReduceLROnPlateau
      >>> cb = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-5)
      >>> opt = keras.optimizers.SGD(LearningRateSchedule(lk.cosine(0.1, 0.0, 1000)))
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        **kwargs: Any,
    ) -> None:
        owner = "ReduceLROnPlateau"
        if not isinstance(monitor, str):
            raise TypeError(
                f"{owner}: `monitor` must be the name of a logged metric (a string). "
                f"Received: monitor={monitor!r} of type {type(monitor).__name__}"
            )
        super().__init__(
            monitor=monitor,
            factor=factor,
            patience=patience,
            verbose=verbose,
            mode=mode,
            min_delta=min_delta,
            cooldown=cooldown,
            min_lr=min_lr,
            **kwargs,
        )
        # Validate everything now (lrkit's messages), with the direction resolved later.
        try:
            _Plateau(
                mode="min",
                factor=factor,
                patience=patience,
                threshold=abs(E.real(owner, "min_delta", min_delta)),
                threshold_mode="abs",
                cooldown=cooldown,
                min_lr=min_lr,
                eps=0.0,
                convention="keras",
            )
        except (TypeError, ValueError) as err:
            core = "ReduceOnPlateau: "
            if str(err).startswith(core):  # name the class the user built, not the core one
                raise type(err)(f"{owner}: {str(err)[len(core):]}") from None
            raise
        self.plateau: _Plateau | None = None
        # Float learning rates: the state per optimizer (lrkit schedules keep theirs in a variable).
        self._floats: dict[int, tuple[dict[str, Any] | None, float]] = {}
        self._pending: dict[str, Any] | None = None

    # -- optimizers ---------------------------------------------------------------------------

    def _optimizers(self) -> list[Any]:
        opt = getattr(self.model, "optimizer", None)
        if opt is None:
            raise ValueError("ReduceLROnPlateau: the model has no optimizer; call model.compile() first.")
        opts = list(opt.optimizers) if hasattr(opt, "optimizers") else [opt]
        return [getattr(o, "inner_optimizer", None) or o for o in opts]

    def _schedule(self, opt: Any) -> _lkk.LearningRateSchedule | None:
        """The optimizer's lrkit schedule, or ``None`` for a float learning rate."""
        lr = _private.learning_rate_object(opt)
        if isinstance(lr, _lkk.LearningRateSchedule):
            return lr
        if isinstance(lr, keras.optimizers.schedules.LearningRateSchedule) or not isinstance(lr, keras.Variable):
            raise ValueError(
                "ReduceLROnPlateau: the optimizer's `learning_rate` must be a float or an lrkit "
                "LearningRateSchedule (lrkit.backends.keras.LearningRateSchedule). "
                f"Received: learning_rate={lr!r}"
            )
        return None

    def _bound(self, opt: Any) -> _lkk.LearningRateSchedule | None:
        """The optimizer's lrkit schedule with its state variable (building the optimizer if needed)."""
        lr = self._schedule(opt)
        if lr is None or lr._optimizer is opt:
            return lr
        if not opt.built:
            opt.build(self.model.trainable_variables)
        if lr._optimizer is not opt:
            raise ValueError(
                "ReduceLROnPlateau: the optimizer was built before its learning rate became this "
                "lrkit schedule, so the schedule's state variable is not among the optimizer's. "
                "Pass the LearningRateSchedule to the optimizer's constructor. "
                f"Received: learning_rate={lr!r}"
            )
        return lr

    def _sync(self) -> None:
        """Under JAX, ``fit`` keeps the state outside the variables between steps: write it back."""
        sync = getattr(self.model, "jax_state_sync", None)
        if sync is not None:
            sync()

    # -- state --------------------------------------------------------------------------------

    def _plateau_settings(self) -> _Plateau:
        if self.plateau is None:
            if self.monitor_op is None:
                self._set_monitor_op()
            self.plateau = _from_keras_plateau(self)
        return self.plateau

    def _core(self, raw: dict[str, Any]) -> dict[str, Any]:
        """A schedule's variable as a core plateau state (``best`` NaN: no metric yet)."""
        st = {k: raw[k] for k in _CORE_KEYS}
        if math.isnan(st["best"]):
            st["best"] = self._plateau_settings().initial_state()["best"]
        return st

    def _state_of(self, opt: Any) -> tuple[dict[str, Any] | None, float | None]:
        """``(state, base)``: the current state of one optimizer (``None`` before any metric)."""
        lr = self._bound(opt)
        if lr is not None:
            raw = lr._read_state()
            if math.isnan(raw["best"]) and raw["num_reductions"] == 0 and raw["scale"] == 1.0:
                return None, None
            return self._core(raw), None
        st, base = self._floats.get(id(opt), (None, None))
        return (None if st is None else dict(st)), base

    def get_state(self) -> dict[str, Any]:
        """The plateau state, primitives only: ``{"states": [...], "bases": [...]}``.

        One state per optimizer (see :meth:`lrkit.ReduceOnPlateau.initial_state`); ``bases`` are
        the float learning rates the scales apply to (``None`` for an lrkit schedule). Read from
        the optimizer's variable for an lrkit schedule.
        """
        if getattr(self, "_model", None) is None and self._pending is not None:
            return {"states": [dict(s) for s in self._pending["states"]], "bases": list(self._pending["bases"])}
        p = self._plateau_settings()
        states, bases = [], []
        self._sync()
        for opt in self._optimizers():
            st, base = self._state_of(opt)
            states.append(p.initial_state() if st is None else st)
            if base is None and self._schedule(opt) is None:
                base = rate(opt)
            bases.append(base)
        return {"states": states, "bases": bases}

    def set_state(self, state: dict[str, Any]) -> None:
        """Resume from :meth:`get_state`: applied at the next ``fit()`` start.

        Raises:
          TypeError/ValueError: ``state`` is not a dict from :meth:`get_state`.
        """
        if not isinstance(state, dict) or set(state) != {"states", "bases"}:
            raise TypeError(
                "ReduceLROnPlateau.set_state: `state` must be a dict from get_state(). "
                f"Received: state={state!r}"
            )
        checker = _Plateau()
        states = [checker.check_state(s, "state['states'][i]") for s in state["states"]]
        bases = [None if b is None else float(b) for b in state["bases"]]
        if len(bases) != len(states):
            raise ValueError(
                "ReduceLROnPlateau.set_state: `state['bases']` must have one entry per state. "
                f"Received: {len(bases)} bases for {len(states)} states"
            )
        self._pending = {"states": states, "bases": bases}

    def _apply_pending(self, opts: list[Any]) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        if len(pending["states"]) != len(opts):
            raise ValueError(
                f"ReduceLROnPlateau.set_state: the state holds {len(pending['states'])} optimizer "
                f"state(s) but the model has {len(opts)} optimizer(s)."
            )
        p = self._plateau_settings()
        for opt, st, base in zip(opts, pending["states"], pending["bases"]):
            lr = self._bound(opt)
            if lr is not None:
                lr._write_state(st)
            else:
                if base is None:
                    base = rate(opt)
                self._floats[id(opt)] = (dict(st), base)
                opt.learning_rate = p.apply(base, st)

    # -- callback hooks -----------------------------------------------------------------------

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)  # Keras's reset of the attributes; the state is below
        opts = self._optimizers()
        self._sync()
        for opt in opts:
            lr = self._bound(opt)
            if lr is not None and lr.min_lr != float(self.min_lr):
                lr._write_state({"min_lr": float(self.min_lr)})
        self._apply_pending(opts)
        self._sync_attributes(self._state_of(opts[0])[0])

    def _sync_attributes(self, st: dict[str, Any] | None) -> None:
        if st is None:
            return
        self.wait = int(st["num_bad_epochs"])
        self.cooldown_counter = int(st["cooldown_counter"])
        self.best = None if math.isinf(st["best"]) else float(st["best"])

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        p = self._plateau_settings()
        logs = logs if logs is not None else {}
        opts = self._optimizers()
        self._sync()
        if hasattr(self.model.optimizer, "optimizers"):
            for opt in opts:
                logs[f"learning_rate_{opt.name}"] = rate(opt)
        else:
            logs["learning_rate"] = rate(opts[0])
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                "Learning rate reduction is conditioned on metric "
                f"`{self.monitor}` which is not available. Available metrics "
                f"are: {','.join(list(logs.keys()))}.",
                stacklevel=2,
            )
            return
        first: dict[str, Any] | None = None
        for opt in opts:
            lr_now = rate(opt)
            old, base = self._state_of(opt)
            if old is None:
                old = p.initial_state()
                base = lr_now
            new = p.update(old, current, lr_now)
            schedule = self._schedule(opt)
            if schedule is not None:
                schedule._write_state(new)
                new_lr = rate(opt)
            else:
                self._floats[id(opt)] = (new, base if base is not None else lr_now)
                new_lr = lr_now
                if new["scale"] != old["scale"]:
                    # One reduction applied to the rate in use, as Keras does (bit-identical to
                    # Keras's float32 sequence); equal to apply(base, state) up to float32 rounding.
                    new_lr = p.apply(lr_now, {"scale": p.factor})
                    opt.learning_rate = new_lr
            if new["scale"] != old["scale"] and self.verbose > 0:
                name = f" {opt.name}" if hasattr(self.model.optimizer, "optimizers") else ""
                print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing{name} learning rate to {new_lr}.")
            if first is None:
                first = new
        self._sync_attributes(first)

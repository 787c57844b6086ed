"""Keras 3: a drop-in ``ReduceLROnPlateau`` callback that also works with lrkit schedules.

The rules are lrkit's core state machine with Keras's conventions (``lrkit.ReduceOnPlateau``
with ``convention="keras"``, built by ``lrkit.from_keras(callback)``); nothing here re-implements
them. With a float learning rate the callback sets ``optimizer.learning_rate`` like Keras's own.
With an lrkit :class:`~lrkit.backends.keras.LearningRateSchedule` it swaps in a
:class:`PlateauLearningRateSchedule`, which multiplies a non-trainable ``scale`` variable into the
schedule inside the compiled train step, so the schedule keeps running while reductions apply.
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
from lrkit.backends import keras as _lkk
from lrkit.backends._keras_ops import OPS

__all__ = ["PlateauLearningRateSchedule", "ReduceLROnPlateau"]


@keras.saving.register_keras_serializable(package="lrkit")
class PlateauLearningRateSchedule(_lkk.LearningRateSchedule):
    r"""An lrkit schedule times a plateau ``scale``: ``min(s(t), max(s(t) * scale, min_lr))``.

    :class:`ReduceLROnPlateau` installs it in place of an lrkit ``LearningRateSchedule`` and lowers
    ``scale``; you rarely build it yourself. ``scale`` is a non-trainable float32
    ``keras.Variable`` read inside the compiled train step (under JAX it is tracked by the
    optimizer while the callback trains). ``get_config()`` records the current ``scale``, so
    ``model.save()``/``keras.models.load_model()`` resume with the reductions made so far.

    Args:
      schedule: an lrkit ``Schedule``.
      min_lr: lower bound of the reduced learning rate (finite, non-negative).
      scale: the initial scale, in ``(0, 1]``.
      gradient_accumulation_steps: as in :class:`lrkit.backends.keras.LearningRateSchedule`.

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
    ) -> None:
        super().__init__(schedule, gradient_accumulation_steps=gradient_accumulation_steps)
        owner = "PlateauLearningRateSchedule"
        self.min_lr = E.value(owner, "min_lr", min_lr)
        s = E.positive(owner, "scale", scale)
        if s > 1.0:
            raise E._fail(owner, "scale", "in (0, 1]", scale)
        self._plateau = _Plateau(min_lr=self.min_lr)
        self.scale = keras.Variable(
            s, dtype="float32", trainable=False, name="lrkit_plateau_scale", aggregation="only_first_replica"
        )

    def __call__(self, step: Any) -> Any:
        """``min(s(t), max(s(t) * scale, min_lr))`` at ``optimizer.iterations``, a floatx tensor."""
        opt = _lkk._calling_optimizer(self, depth=0)
        every = self.gradient_accumulation_steps or 1
        if opt is not None:
            every = int(opt.gradient_accumulation_steps or 1)
        t = keras.ops.convert_to_tensor(step)
        if every > 1:
            t = keras.ops.floor_divide(t, every)
        value = OPS.evaluate(self.schedule, t)
        scale = keras.ops.cast(self.scale, value.dtype)
        return self._plateau.apply(value, {"scale": scale}, OPS)

    def get_config(self) -> dict[str, Any]:
        """The base config plus ``min_lr`` and the current ``scale``."""
        config = super().get_config()
        config["min_lr"] = self.min_lr
        config["scale"] = float(keras.ops.convert_to_numpy(self.scale))
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
        return cls(base.schedule, gradient_accumulation_steps=base.gradient_accumulation_steps, **extra)

    def __repr__(self) -> str:
        scale = float(keras.ops.convert_to_numpy(self.scale))
        return f"PlateauLearningRateSchedule({self.schedule!r}, min_lr={self.min_lr!r}, scale={scale!r})"


class ReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
    """Drop-in for ``keras.callbacks.ReduceLROnPlateau`` that also reduces lrkit schedules.

    Same arguments and the same decisions as Keras's callback (the learning rates equal Keras's,
    up to float32 rounding of ``lr * factor ** k``): it monitors ``monitor`` at each epoch end,
    reduces after ``patience`` epochs without an improvement of more than ``min_delta``, waits
    ``cooldown`` epochs after a reduction and never goes below ``min_lr``. Like Keras's callback,
    ``fit()`` restarts the counters (``best``, ``wait``, ``cooldown_counter``) while the
    learning rate keeps its reductions.

    What differs:

    * the optimizer's ``learning_rate`` may be an lrkit
      :class:`~lrkit.backends.keras.LearningRateSchedule` (Keras's callback refuses schedules). At
      ``fit()`` start it is replaced by a :class:`PlateauLearningRateSchedule` wrapping the same
      schedule, and a reduction lowers its ``scale``: the learning rate becomes
      ``min(s(t), max(s(t) * scale, min_lr))`` and the schedule keeps running. The scale is saved
      in the model file (the schedule's config) and a later ``fit()`` continues from it.
    * a NaN or infinite metric is ignored with a ``PlateauMetricWarning`` instead of counting as
      a bad epoch; a missing ``monitor`` key warns as in Keras.
    * :meth:`get_state`/:meth:`set_state` give the full plateau state as primitives (JSON-able),
      to resume mid-plateau; a state set with ``set_state`` survives the next ``fit()`` start.

    Under the JAX backend the ``scale`` variable is added to ``optimizer.variables`` while
    ``fit()`` runs (so the compiled step reads it) and removed at its end, so save the model
    after ``fit()`` (a mid-``fit`` ``ModelCheckpoint`` under JAX stores one extra optimizer
    variable; TensorFlow and PyTorch are not affected).

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
        self.plateau: _Plateau | None = None
        self._states: list[dict[str, Any]] | None = None
        self._bases: list[float | None] = []
        self._state_was_set = False
        self._tracked: list[tuple[Any, Any]] = []

    # -- optimizers ---------------------------------------------------------------------------

    def _optimizers(self) -> list[Any]:
        opt = getattr(self.model, "optimizer", None)
        if opt is None:
            raise ValueError("ReduceLROnPlateau: the model has no optimizer; call model.compile() first.")
        opts = list(opt.optimizers) if hasattr(opt, "optimizers") else [opt]
        return [getattr(o, "inner_optimizer", None) or o for o in opts]

    def _install(self) -> bool:
        """Wrap lrkit schedules so the scale reaches the train step; True if anything changed."""
        changed = False
        self._bases = []
        for opt in self._optimizers():
            lr = opt._learning_rate
            if isinstance(lr, _lkk.LearningRateSchedule) and not isinstance(lr, PlateauLearningRateSchedule):
                lr = PlateauLearningRateSchedule(
                    lr.schedule,
                    min_lr=float(self.min_lr),
                    gradient_accumulation_steps=lr.gradient_accumulation_steps,
                )
                opt._learning_rate = lr
                changed = True
            if isinstance(lr, PlateauLearningRateSchedule):
                self._bases.append(None)
                if keras.backend.backend() == "jax" and not any(v is lr.scale for v in opt.variables):
                    opt._track_variable(lr.scale)
                    self._tracked.append((opt, lr.scale))
                    changed = True
            elif isinstance(lr, keras.optimizers.schedules.LearningRateSchedule) or not isinstance(
                lr, keras.Variable
            ):
                raise ValueError(
                    "ReduceLROnPlateau: the optimizer's `learning_rate` must be a float or an lrkit "
                    "LearningRateSchedule (lrkit.backends.keras.LearningRateSchedule). "
                    f"Received: learning_rate={lr!r}"
                )
            else:
                self._bases.append(float(keras.ops.convert_to_numpy(lr)))
        return changed

    def _untrack(self) -> None:
        for opt, var in self._tracked:
            opt._tracker.untrack(var)
        self._tracked = []

    # -- state --------------------------------------------------------------------------------

    def _fresh_states(self) -> list[dict[str, Any]]:
        p = self._plateau_settings()
        out = []
        for opt in self._optimizers():
            st = p.initial_state()
            lr = opt._learning_rate
            if isinstance(lr, PlateauLearningRateSchedule):
                st["scale"] = float(keras.ops.convert_to_numpy(lr.scale))
            out.append(st)
        return out

    def _plateau_settings(self) -> _Plateau:
        if self.plateau is None:
            if self.monitor_op is None:
                self._set_monitor_op()
            self.plateau = _from_keras_plateau(self)
        return self.plateau

    def get_state(self) -> dict[str, Any]:
        """The plateau state, primitives only: ``{"states": [...], "bases": [...]}``.

        One state per optimizer (see :meth:`lrkit.ReduceOnPlateau.initial_state`); ``bases`` are
        the float learning rates the scales apply to (``None`` for an lrkit schedule).
        """
        return {
            "states": [dict(s) for s in (self._states or [])],
            "bases": list(self._bases),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Resume from :meth:`get_state` (kept through the next ``fit()`` start).

        Raises:
          TypeError/ValueError: ``state`` is not a dict from :meth:`get_state`.
        """
        if not isinstance(state, dict) or set(state) != {"states", "bases"}:
            raise TypeError(
                "ReduceLROnPlateau.set_state: `state` must be a dict from get_state(). "
                f"Received: state={state!r}"
            )
        checker = _Plateau()
        self._states = [checker.check_state(s, "state['states'][i]") for s in state["states"]]
        self._bases = [None if b is None else float(b) for b in state["bases"]]
        self._state_was_set = True

    # -- callback hooks -----------------------------------------------------------------------

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        keep = self._state_was_set
        saved_bases = list(self._bases)
        if self._install():
            self.model.make_train_function(force=True)
        if keep:
            opts = self._optimizers()
            if self._states is None or len(self._states) != len(opts) or len(saved_bases) != len(opts):
                raise ValueError(
                    f"ReduceLROnPlateau.set_state: the state holds {len(self._states or [])} optimizer "
                    f"state(s) but the model has {len(opts)} optimizer(s)."
                )
            self._bases = saved_bases
            p = self._plateau_settings()
            for opt, st, base in zip(opts, self._states, self._bases):
                lr = opt._learning_rate
                if isinstance(lr, PlateauLearningRateSchedule):
                    lr.scale.assign(st["scale"])
                elif base is not None:
                    opt.learning_rate = p.apply(base, st)
            self._sync_attributes(self._states[0])
        else:
            self._states = None  # built at the first epoch end, once the direction is known
        self._state_was_set = False

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._tracked:
            sync = getattr(self.model, "jax_state_sync", None)
            if sync is not None:
                sync()
            self._untrack()
            self.model.make_train_function(force=True)

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
        if hasattr(self.model.optimizer, "optimizers"):
            for opt in opts:
                logs[f"learning_rate_{opt.name}"] = float(keras.ops.convert_to_numpy(opt.learning_rate))
        else:
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(opts[0].learning_rate))
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                "Learning rate reduction is conditioned on metric "
                f"`{self.monitor}` which is not available. Available metrics "
                f"are: {','.join(list(logs.keys()))}.",
                stacklevel=2,
            )
            return
        if self._states is None or len(self._states) != len(opts):
            self._states = self._fresh_states()
        if len(self._bases) != len(opts):
            raise ValueError(
                "ReduceLROnPlateau: the model's optimizers changed since fit() started "
                f"({len(self._bases)} then, {len(opts)} now); start a new fit()."
            )
        for i, opt in enumerate(opts):
            lr_now = float(keras.ops.convert_to_numpy(opt.learning_rate))
            old = self._states[i]
            new = p.update(old, current, lr_now)
            self._states[i] = new
            if new["scale"] != old["scale"]:
                self._set_scale(opt, new, lr_now, epoch)
        self._sync_attributes(self._states[0])

    def _set_scale(self, opt: Any, state: dict[str, Any], lr_now: float, epoch: int) -> None:
        p = self._plateau_settings()
        lr = opt._learning_rate
        if isinstance(lr, PlateauLearningRateSchedule):
            sync = getattr(self.model, "jax_state_sync", None)
            if sync is not None:
                sync()
            lr.scale.assign(state["scale"])
            new_lr = float(keras.ops.convert_to_numpy(opt.learning_rate))
        else:
            # One reduction applied to the rate in use, as Keras does (bit-identical to Keras's
            # float32 sequence); equal to apply(base, state) up to float32 rounding.
            new_lr = p.apply(lr_now, {"scale": p.factor})
            opt.learning_rate = new_lr
        if self.verbose > 0:
            name = f" {opt.name}" if hasattr(self.model.optimizer, "optimizers") else ""
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing{name} learning rate to {new_lr}.")

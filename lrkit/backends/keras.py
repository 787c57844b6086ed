"""Keras 3 adapters: a ``LearningRateSchedule`` and scheduling callbacks.

Three ways to drive a Keras 3 optimizer (TensorFlow, JAX or PyTorch backend) with an lrkit schedule:

* :class:`LearningRateSchedule`: pass it as the optimizer's ``learning_rate``. The schedule is
  evaluated inside the train step from ``optimizer.iterations`` (traced once on TensorFlow and JAX), it
  serialises with the optimizer, and ``model.save()``/``keras.models.load_model()`` restore it
  without ``custom_objects``. This is the recommended form.
* :class:`LearningRateScheduler`: a callback for training loops that schedule through
  ``callbacks=[...]``; sets a float learning rate before every batch (or epoch) and logs it as
  ``logs["learning_rate"]`` like ``keras.callbacks.LearningRateScheduler``.
* :func:`schedule_hyperparameter` (or its callback form :class:`HyperparameterScheduler`): drives
  another optimizer hyperparameter (SGD ``momentum``, Adam ``beta_1``, ``weight_decay``, ...) from
  a schedule, evaluated inside the compiled update like the learning rate.

The step is always the number of optimizer updates already applied (Keras ``optimizer.iterations``,
which under ``gradient_accumulation_steps`` counts real updates, not micro-batches).

Registration happens on import: in a fresh process, ``import lrkit.backends.keras`` before
``keras.models.load_model()``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lrkit import _errors as E
from lrkit._base import Schedule, from_config

try:
    import keras
except ImportError as err:  # pragma: no cover - exercised only without keras installed
    raise E.BackendUnavailableError(
        "lrkit.backends.keras needs Keras 3 and a backend: pip install 'lrkit[keras-tensorflow]' "
        "(or 'lrkit[keras-jax]', 'lrkit[keras-torch]' with KERAS_BACKEND=jax or torch)"
    ) from err

if not hasattr(keras, "ops"):  # pragma: no cover - Keras 2
    raise E.BackendUnavailableError(
        f"lrkit.backends.keras needs Keras 3 (found keras {keras.__version__}): "
        "pip install 'lrkit[keras]'"
    )

from lrkit.backends import _keras_private as _private
from lrkit.backends._keras_ops import OPS, rate, to_numpy

_private.install_build_hook()

__all__ = [
    "HyperparameterScheduler",
    "LearningRateSchedule",
    "LearningRateScheduler",
    "schedule_hyperparameter",
]


def _schedule_arg(owner: str, schedule: Any, total_steps: Any = None) -> Schedule:
    """``schedule``, bound to ``total_steps`` (refused if it has percentages of the run and no length)."""
    if isinstance(schedule, Schedule):
        from lrkit._time import resolve

        return resolve(owner, schedule, total_steps)  # type: ignore[no-any-return]
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        hint = "; port a Keras schedule with lrkit.from_keras(schedule)"
    elif E._is_real(schedule):
        hint = f"; a constant rate is lrkit.constant({schedule!r})"
    elif isinstance(schedule, dict):
        hint = "; rebuild a saved schedule with lrkit.from_config(config)"
    else:
        hint = ""
    raise TypeError(
        f"{owner}: `schedule` must be an lrkit schedule (e.g. lrkit.cosine(...){hint}). "
        f"Received: schedule={schedule!r} of type {type(schedule).__name__}"
    )


def _accumulation_arg(owner: str, value: Any) -> int | None:
    if value is None:
        return None
    return E.positive_int(owner, "gradient_accumulation_steps", value)


#: The entries of the one variable (``lrkit_plateau``, float32, shape ``(6,)``) an lrkit schedule adds
#: to its optimizer at build time, in this order; the counters are whole numbers, exact in float32.
#: One variable rather than six scalars: under JAX every optimizer variable is an argument and a
#: result of the compiled train step, and six small arrays cost ~10% of a small model's step.
_STATE_FIELDS = ("scale", "min_lr", "best", "num_bad_epochs", "cooldown_counter", "num_reductions")
_COUNTERS = frozenset(("num_bad_epochs", "cooldown_counter", "num_reductions"))


@keras.saving.register_keras_serializable(package="lrkit")
class LearningRateSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """An lrkit schedule as a Keras 3 ``LearningRateSchedule``.

    Pass it as any Keras optimizer's ``learning_rate``. The update applied when
    ``optimizer.iterations == k`` uses ``schedule(k)``; the value is computed inside the train step
    with ``keras.ops`` (float32 by default, see ``lrkit.backends._keras_ops`` for precision), so it
    works eagerly and under ``jit_compile`` on the TensorFlow, JAX and PyTorch backends, and under
    ``tf.distribute`` strategies.

    **State in the optimizer.** When the optimizer is built (by ``fit``, ``load_model``,
    ``BackupAndRestore`` or ``optimizer.build``) the schedule adds one float32 variable of six
    entries to it, named ``lrkit_plateau``: the plateau ``scale`` and ``min_lr`` the rate is
    multiplied and bounded by, ``min(s(t), max(s(t) * scale, min_lr))``, and the counters of
    :class:`~lrkit.backends.keras.ReduceLROnPlateau` (``best``, ``num_bad_epochs``,
    ``cooldown_counter``, ``num_reductions``). Idle (``scale == 1``, ``min_lr == 0``) they leave the
    rate bit for bit equal to ``s(t)``. Being an optimizer variable it is saved and restored with
    the optimizer by ``model.save``/``keras.models.load_model``, ``save_weights``/``load_weights``
    and ``BackupAndRestore``, and under JAX it reaches the compiled step as state (the counters are
    whole numbers, exact in float32). One schedule object drives one optimizer. Pass it to the
    optimizer's constructor (or assign ``optimizer.learning_rate`` before the optimizer is built);
    assigning it to an optimizer already built raises ``ValueError``.

    **Gradient accumulation.** With ``optimizer.gradient_accumulation_steps = A`` Keras calls the
    schedule with the number of *micro-batches* seen. lrkit counts real updates instead: update
    ``k`` (micro-batches ``k*A .. k*A + A - 1``) uses ``schedule(k)``, so the curve is the one of
    the same run without accumulation and ``schedule.duration`` is in optimizer updates. By default
    (``gradient_accumulation_steps=None``) ``A`` is read from the optimizer when it is built, so
    nothing has to be repeated; before that (a schedule called directly) the step is used as
    given. Pass ``gradient_accumulation_steps`` to fix ``A`` explicitly (it then also divides a step
    you pass yourself); building an optimizer configured differently raises ``ValueError`` rather
    than silently running the schedule ``A`` times too fast or too slow.

    Serialisation: registered as ``"lrkit>LearningRateSchedule"``; ``get_config()`` holds the
    schedule's ``to_config()``, and ``from_config`` rebuilds it with ``lrkit.from_config``, which
    only ever builds lrkit's own schedule types.

    Args:
      schedule: an lrkit ``Schedule``.
      gradient_accumulation_steps: ``None`` (read from the optimizer) or a positive integer.
      total_steps: the run's number of updates, which resolves durations written as percentages
        of the run (``"5%"``, see ``Schedule.bind``); required if the schedule has any. The
        ``schedule`` attribute is the bound schedule; the config keeps the percentages.

    Examples:
      >>> import keras, lrkit as lk
      >>> from lrkit.backends.keras import LearningRateSchedule
      >>> lr = LearningRateSchedule(lk.warmup(lk.cosine(1e-3, 1e-5, 1000), 100))
      >>> opt = keras.optimizers.AdamW(learning_rate=lr)
      >>> f"{float(lr(50)):.1e}"
      '5.0e-04'
    """

    #: The plateau scale and floor of a schedule not yet bound to an optimizer (and the initial
    #: values of its variable once it is).
    _initial_scale = 1.0
    _initial_min_lr = 0.0

    def __init__(
        self,
        schedule: Schedule,
        *,
        gradient_accumulation_steps: int | None = None,
        total_steps: int | None = None,
    ) -> None:
        #: The schedule as run (percentages of the run bound) and as written (what get_config saves).
        self.schedule = _schedule_arg("LearningRateSchedule", schedule, total_steps)
        self._written = schedule
        self.total_steps = None if total_steps is None else E.positive_int("LearningRateSchedule", "total_steps", total_steps)
        self.gradient_accumulation_steps = _accumulation_arg(
            "LearningRateSchedule", gradient_accumulation_steps
        )
        self._optimizer: Any = None
        self._variable: Any = None  # the optimizer's ``lrkit_plateau`` variable, once bound

    # -- binding to the optimizer (called from Optimizer.build, see _keras_private) -----------------

    def _lrkit_bind(self, optimizer: Any) -> None:
        """Check the optimizer's accumulation and add the state variable to it (once)."""
        if self._optimizer is optimizer:
            return
        if self._optimizer is not None:
            raise ValueError(
                f"LearningRateSchedule: this schedule already drives the optimizer "
                f"{self._optimizer.name!r} and keeps its state there; give each optimizer its own "
                f"LearningRateSchedule(...). Received: a second optimizer {optimizer.name!r}"
            )
        found = int(optimizer.gradient_accumulation_steps or 1)
        fixed = self.gradient_accumulation_steps
        if fixed is not None and fixed != found:
            raise ValueError(
                f"LearningRateSchedule: `gradient_accumulation_steps` must match the optimizer's "
                f"({found}, from {type(optimizer).__name__}(gradient_accumulation_steps="
                f"{optimizer.gradient_accumulation_steps!r})), or be None to read it from the optimizer. "
                f"Received: gradient_accumulation_steps={fixed!r}"
            )
        initial = {
            "scale": self._initial_scale,
            "min_lr": self._initial_min_lr,
            "best": math.nan,  # no metric seen yet
            "num_bad_epochs": 0,
            "cooldown_counter": 0,
            "num_reductions": 0,
        }
        self._variable = optimizer.add_variable(
            shape=(len(_STATE_FIELDS),),
            initializer=keras.initializers.Constant([float(initial[n]) for n in _STATE_FIELDS]),
            dtype="float32",
            aggregation="only_first_replica",
            name="lrkit_plateau",
        )
        self._optimizer = optimizer

    def _lrkit_check_assign(self, optimizer: Any) -> None:
        """Refuse ``optimizer.learning_rate = self`` on an optimizer built without this schedule."""
        if optimizer.built and self._optimizer is not optimizer:
            raise ValueError(
                f"LearningRateSchedule: the optimizer {optimizer.name!r} is already built, so this "
                "schedule can no longer add its state variable to it (its checkpoints would no longer "
                "load, and gradient accumulation would go uncounted). Build a new optimizer with "
                f"learning_rate=LearningRateSchedule(...) and compile the model with it. Received: "
                f"optimizer.learning_rate = {self!r} after the optimizer was built"
            )

    def _steps_per_update(self) -> int:
        if self._optimizer is not None:
            return int(self._optimizer.gradient_accumulation_steps or 1)
        return self.gradient_accumulation_steps or 1

    def __call__(self, step: Any) -> Any:
        """The learning rate for ``step`` (``optimizer.iterations``), a floatx tensor."""
        every = self._steps_per_update()
        t = keras.ops.convert_to_tensor(step)
        if every > 1:
            t = keras.ops.floor_divide(t, every)
        return self._reduce(OPS.evaluate(self.schedule, t))

    def _reduce(self, value: Any) -> Any:
        """``min(value, max(value * scale, min_lr))`` with the plateau's scale and floor."""
        if self._variable is not None:
            scale, floor = keras.ops.unstack(keras.ops.cast(self._variable, value.dtype))[:2]  # one op
            return OPS.minimum(value, OPS.maximum(value * scale, floor))
        if self._initial_scale == 1.0 and self._initial_min_lr == 0.0:
            return value
        return OPS.minimum(value, OPS.maximum(value * self._initial_scale, self._initial_min_lr))

    # -- the plateau state --------------------------------------------------------------------------

    @property
    def scale(self) -> float:
        """The plateau scale the schedule is multiplied by (1.0 until a reduction)."""
        if self._variable is None:
            return float(self._initial_scale)
        return self._read_state()["scale"]

    @property
    def min_lr(self) -> float:
        """The floor of a reduced rate (``min_lr`` of the plateau callback; 0.0 until one runs)."""
        if self._variable is None:
            return float(self._initial_min_lr)
        return self._read_state()["min_lr"]

    def _read_state(self) -> dict[str, Any]:
        """The plateau state held in the optimizer's variable (``best`` is NaN before any metric)."""
        if self._variable is None:
            raise RuntimeError("LearningRateSchedule: not bound to an optimizer yet (build it first).")
        x = to_numpy(self._variable)
        return {n: int(v) if n in _COUNTERS else float(v) for n, v in zip(_STATE_FIELDS, x.tolist())}

    def _write_state(self, state: dict[str, Any]) -> None:
        if self._variable is None:
            raise RuntimeError("LearningRateSchedule: not bound to an optimizer yet (build it first).")
        new = {**self._read_state(), **{n: state[n] for n in _STATE_FIELDS if n in state}}
        self._variable.assign(np.array([float(new[n]) for n in _STATE_FIELDS], dtype="float32"))

    def get_config(self) -> dict[str, Any]:
        """``{"schedule": schedule.to_config(), "gradient_accumulation_steps": ..., "total_steps": ...}``.

        The schedule is saved as written (percentages of the run kept) next to ``total_steps``.
        """
        config = {
            "schedule": self._written.to_config(),
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        if self.total_steps is not None:
            config["total_steps"] = self.total_steps
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Rebuild from :meth:`get_config` (only lrkit schedule types are ever built)."""
        if not isinstance(config, dict):
            raise TypeError(
                "LearningRateSchedule.from_config: `config` must be a dict. "
                f"Received: config={config!r} of type {type(config).__name__}"
            )
        unknown = sorted(set(config) - {"schedule", "gradient_accumulation_steps", "total_steps"})
        if unknown or "schedule" not in config:
            raise ValueError(
                "LearningRateSchedule.from_config: `config` must have the key 'schedule' and "
                f"optionally 'gradient_accumulation_steps' and 'total_steps'. Received: config={config!r}"
            )
        return cls(
            from_config(config["schedule"]),
            gradient_accumulation_steps=config.get("gradient_accumulation_steps"),
            total_steps=config.get("total_steps"),
        )

    def __repr__(self) -> str:
        extra = (
            ""
            if self.gradient_accumulation_steps is None
            else f", gradient_accumulation_steps={self.gradient_accumulation_steps}"
        )
        if self.total_steps is not None:
            extra += f", total_steps={self.total_steps}"
        return f"LearningRateSchedule({self._written!r}{extra})"


# -- callbacks ----------------------------------------------------------------------------------


def _optimizers(model: Any, owner: str) -> list[Any]:
    opt = getattr(model, "optimizer", None)
    if opt is None:
        raise ValueError(f"{owner}: the model has no optimizer; call model.compile(optimizer=...) first.")
    inner = getattr(opt, "inner_optimizer", None)  # LossScaleOptimizer
    return [inner if inner is not None else opt]


def _sync_jax_state(model: Any) -> None:
    """Under JAX, ``fit`` keeps the state outside the variables between steps: write it back.

    ``jax_state_sync`` also marks the state synced, so the next train step re-reads the variables
    this callback assigns.
    """
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


def _real_updates(optimizer: Any) -> int:
    """Optimizer updates applied so far (``optimizer.iterations`` counts real updates)."""
    return int(to_numpy(optimizer.iterations))




class LearningRateScheduler(keras.callbacks.Callback):
    """Set the optimizer's learning rate from an lrkit schedule before each batch or epoch.

    For training code that schedules through ``callbacks=[...]`` (the optimizer keeps a float
    learning rate). With ``per="step"`` the rate for the next update is ``schedule(k)``, where ``k``
    is ``optimizer.iterations``: the number of real optimizer updates so far, so it resumes exactly
    and is right under ``gradient_accumulation_steps``. With ``per="epoch"`` it is
    ``schedule(epoch)`` at the start of each epoch (a schedule written in epochs, as
    ``keras.callbacks.LearningRateScheduler``; pass ``initial_epoch`` to ``fit`` to resume).

    After each epoch the rate in use is written to ``logs["learning_rate"]`` (so it reaches
    ``History`` and ``CSVLogger``); with ``per="step"`` also after each batch. Unlike Keras's
    callback the schedule is called with the step only: no arity sniffing with ``except TypeError``.

    Prefer :class:`LearningRateSchedule` where you can: it evaluates inside the compiled step, whereas
    a per-step callback reads ``optimizer.iterations`` every batch (and, under JAX, syncs the
    training state to write the rate), and with ``steps_per_execution > 1`` it can only change the
    rate once per execution.

    With ``per="epoch"`` and ``steps_per_epoch``, the epoch is counted from optimizer updates
    instead (``optimizer.iterations // steps_per_epoch``, checked before every batch, i.e.
    ``lrkit.per_epoch(schedule, steps_per_epoch)`` applied per step): resuming from a checkpoint
    needs no ``initial_epoch``, and an epoch of gradient-accumulation micro-batches counts its real
    updates.

    Args:
      schedule: an lrkit ``Schedule`` (in steps for ``per="step"``, in epochs for ``per="epoch"``).
      per: ``"step"`` or ``"epoch"``.
      steps_per_epoch: ``None`` or, with ``per="epoch"`` only, a positive integer: optimizer updates
        per epoch.
      verbose: ``0`` (quiet) or ``1`` (print the rate at each epoch start).
      total_steps: the run's length on the schedule's own clock (updates for ``per="step"``, epochs
        for ``per="epoch"``), which resolves durations written as percentages of the run.

    Examples:
      >>> import keras, lrkit as lk
      >>> from lrkit.backends.keras import LearningRateScheduler
      >>> cb = LearningRateScheduler(lk.cosine(0.1, 0.0, 1000), per="step")
    """

    def __init__(
        self,
        schedule: Schedule,
        *,
        per: str = "step",
        steps_per_epoch: int | None = None,
        verbose: int = 0,
        total_steps: int | None = None,
    ) -> None:
        super().__init__()
        owner = "LearningRateScheduler"
        self.schedule = _schedule_arg(owner, schedule, total_steps)
        self.per = E.choice(owner, "per", per, ("step", "epoch"))
        self.steps_per_epoch = None
        if steps_per_epoch is not None:
            if per != "epoch":
                raise ValueError(
                    f"{owner}: `steps_per_epoch` is only used with per='epoch' (a schedule written in "
                    f"epochs). Received: steps_per_epoch={steps_per_epoch!r} with per={per!r}"
                )
            self.steps_per_epoch = E.positive_int(owner, "steps_per_epoch", steps_per_epoch)
        self.verbose = E.non_negative_int(owner, "verbose", verbose)
        # The schedule evaluated at optimizer updates before each batch, or None (per epoch).
        self._per_step: Schedule | None = None
        if per == "step":
            self._per_step = self.schedule
        elif self.steps_per_epoch is not None:
            from lrkit._compose import per_epoch

            self._per_step = per_epoch(self.schedule, self.steps_per_epoch)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        for opt in _optimizers(self.model, "LearningRateScheduler"):
            held = _private.learning_rate_object(opt)
            if isinstance(held, keras.optimizers.schedules.LearningRateSchedule) or not isinstance(
                held, keras.Variable
            ):
                raise ValueError(
                    "LearningRateScheduler: the optimizer's `learning_rate` must be a float for "
                    "this callback to set it; it already is a schedule. Pass "
                    "learning_rate=LearningRateSchedule(schedule) instead of the callback, or a "
                    f"float. Received: learning_rate={held!r}"
                )

    def _set(self, schedule: Schedule, t: int) -> float:
        lr = float(schedule(t))
        for opt in _optimizers(self.model, "LearningRateScheduler"):
            opt.learning_rate = lr
        return lr

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.per != "epoch":
            return
        _sync_jax_state(self.model)
        if self._per_step is None:
            lr = self._set(self.schedule, int(epoch))
        else:
            (opt,) = _optimizers(self.model, "LearningRateScheduler")
            lr = self._set(self._per_step, _real_updates(opt))
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._per_step is None:
            return
        _sync_jax_state(self.model)
        (opt,) = _optimizers(self.model, "LearningRateScheduler")
        self._set(self._per_step, _real_updates(opt))

    def _current(self) -> float:
        (opt,) = _optimizers(self.model, "LearningRateScheduler")
        return rate(opt)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.per == "step" and logs is not None:
            logs["learning_rate"] = self._current()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = self._current()


# -- other hyperparameters ----------------------------------------------------------------------


def _unwrap(optimizer: Any, owner: str) -> Any:
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            f"{owner}: `optimizer` must be a Keras 3 optimizer. "
            f"Received: optimizer={optimizer!r} of type {type(optimizer).__name__}"
        )
    inner = getattr(optimizer, "inner_optimizer", None)  # LossScaleOptimizer applies via its inner one
    return inner if inner is not None else optimizer


def schedule_hyperparameter(optimizer: Any, name: str, schedule: Schedule, *, total_steps: int | None = None) -> None:
    """Drive an optimizer hyperparameter other than the learning rate from an lrkit schedule.

    After this call every update of ``optimizer`` (in ``model.fit``, ``optimizer.apply`` or a
    custom train step, compiled or not) uses ``schedule(k)`` for ``optimizer.<name>``, where ``k``
    is ``optimizer.iterations`` (real updates, also under gradient accumulation), exactly as
    :class:`LearningRateSchedule` does for the learning rate. Examples: SGD or RMSprop
    ``momentum``, Adam ``beta_1``/``beta_2``, ``weight_decay``, ``ema_momentum``.

    How it takes effect: Keras 3 optimizers read these attributes as Python numbers while the
    train step is traced, so assigning a new float after ``fit`` has compiled changes nothing on
    TensorFlow or JAX. Instead the value is computed inside the update from
    ``optimizer.iterations``: as a tensor on TensorFlow and JAX (traced once, no retracing), as a
    Python float per update on PyTorch (whose fused kernels need numbers). Outside an update the
    attribute keeps the number the optimizer was built with, so ``get_config()`` and saving are
    unchanged; the binding itself is not saved, so call this again after ``load_model``.

    Args:
      optimizer: a Keras 3 optimizer (a ``LossScaleOptimizer``'s inner optimizer is used).
      name: the attribute to schedule. It must hold a number: build the optimizer with a number
        for it (``weight_decay=0.0``, not ``None``), and a non-zero ``momentum`` for SGD/RMSprop,
        which only keep momentum slots when it is non-zero.
      schedule: an lrkit ``Schedule`` (its values are used as they are).
      total_steps: the run's number of updates, which resolves durations written as percentages
        of the run (``"5%"``); required if the schedule has any.

    Raises:
      TypeError: ``optimizer`` is not a Keras optimizer, ``schedule`` not a schedule, ``name``
        not a string or the attribute not a number.
      ValueError: ``name`` is ``"learning_rate"`` or not an attribute of the optimizer, or a
        zero ``momentum``.

    Examples:
      >>> import keras, lrkit as lk
      >>> from lrkit.backends.keras import schedule_hyperparameter
      >>> opt = keras.optimizers.SGD(0.1, momentum=0.9)
      >>> schedule_hyperparameter(opt, "momentum", lk.linear(0.85, 0.95, 1000))
    """
    owner = "schedule_hyperparameter"
    opt = _unwrap(optimizer, owner)
    schedule = _schedule_arg(owner, schedule, total_steps)
    if not isinstance(name, str):
        raise TypeError(f"{owner}: `name` must be a string. Received: name={name!r} of type {type(name).__name__}")
    if name in ("learning_rate", "lr", "_learning_rate"):
        raise ValueError(
            f"{owner}: `name` must not be the learning rate; pass "
            f"learning_rate=LearningRateSchedule(schedule) to the optimizer. Received: name={name!r}"
        )
    if name.startswith("_") or not hasattr(opt, name):
        numeric = sorted(
            k for k, v in opt.get_config().items() if E._is_real(v) and k != "learning_rate" and hasattr(opt, k)
        )
        raise ValueError(
            f"{owner}: `name` must be a hyperparameter of {type(opt).__name__}, one of {numeric}. "
            f"Received: name={name!r}"
        )
    scheduled = _private.scheduled_hyperparameters(opt)
    base = scheduled[name][0] if name in scheduled else getattr(opt, name)
    if not E._is_real(base):
        raise TypeError(
            f"{owner}: `{type(opt).__name__}.{name}` must hold a number to be scheduled (build the "
            f"optimizer with e.g. {name}=0.0). Received: {name}={base!r}"
        )
    if name == "momentum" and base == 0:
        raise ValueError(
            f"{owner}: {type(opt).__name__} was built with momentum=0, so it keeps no momentum "
            f"and a momentum schedule would be ignored. Build it with a non-zero momentum. "
            f"Received: momentum={base!r}"
        )
    _private.install_hyperparameter_hook(opt, OPS.evaluate)[name] = (base, schedule)


class HyperparameterScheduler(keras.callbacks.Callback):
    """Callback form of :func:`schedule_hyperparameter` for ``model.fit(callbacks=[...])``.

    At the start of training it binds ``schedule`` to ``model.optimizer.<name>`` (and rebuilds the
    train function, so a model that was already fit picks it up on TensorFlow and JAX too); after
    every epoch it logs the value the epoch's last update used as ``logs[name]`` (as
    :class:`LearningRateScheduler` logs the rate in use).

    Args:
      name: the optimizer attribute, e.g. ``"momentum"``, ``"beta_1"``, ``"weight_decay"``.
      schedule: an lrkit ``Schedule`` in steps (``lrkit.per_epoch`` for one written in epochs).
      total_steps: the run's number of updates, which resolves percentages of the run.

    Examples:
      >>> import lrkit as lk
      >>> from lrkit.backends.keras import HyperparameterScheduler
      >>> cb = HyperparameterScheduler("momentum", lk.linear(0.95, 0.85, 1000))
    """

    def __init__(self, name: str, schedule: Schedule, *, total_steps: int | None = None) -> None:
        super().__init__()
        if not isinstance(name, str):
            raise TypeError(
                f"HyperparameterScheduler: `name` must be a string. Received: name={name!r} "
                f"of type {type(name).__name__}"
            )
        self.name = name
        self.schedule = _schedule_arg("HyperparameterScheduler", schedule, total_steps)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        opt = getattr(self.model, "optimizer", None)
        if opt is None:
            raise ValueError("HyperparameterScheduler: the model has no optimizer; compile it first.")
        schedule_hyperparameter(opt, self.name, self.schedule)
        self.model.make_train_function(force=True)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            (opt,) = _optimizers(self.model, "HyperparameterScheduler")
            logs[self.name] = float(self.schedule(max(_real_updates(opt) - 1, 0)))


# Reduce-on-plateau callback (lrkit/backends/_keras_plateau.py), re-exported here:
from lrkit.backends._keras_plateau import PlateauLearningRateSchedule, ReduceLROnPlateau  # noqa: E402

# Learning-rate range test callback (lrkit/backends/_keras_range.py), re-exported here:
from lrkit.backends._keras_range import LRRangeTest, lr_range_test  # noqa: E402

__all__ += ["LRRangeTest", "PlateauLearningRateSchedule", "ReduceLROnPlateau", "lr_range_test"]

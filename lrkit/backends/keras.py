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

import sys
from typing import Any

from lrkit import _errors as E
from lrkit._base import Schedule, from_config

try:
    import keras
except ImportError as err:  # pragma: no cover - exercised only without keras installed
    raise E.BackendUnavailableError(
        "lrkit.backends.keras needs Keras 3: pip install 'lrkit[keras]'"
    ) from err

if not hasattr(keras, "ops"):  # pragma: no cover - Keras 2
    raise E.BackendUnavailableError(
        f"lrkit.backends.keras needs Keras 3 (found keras {keras.__version__}): "
        "pip install 'lrkit[keras]'"
    )

from lrkit.backends._keras_ops import OPS

__all__ = [
    "HyperparameterScheduler",
    "LearningRateSchedule",
    "LearningRateScheduler",
    "schedule_hyperparameter",
]


def _schedule_arg(owner: str, schedule: Any) -> Schedule:
    if isinstance(schedule, Schedule):
        return schedule
    raise TypeError(
        f"{owner}: `schedule` must be an lrkit schedule (e.g. lrkit.cosine(...)). "
        f"Received: schedule={schedule!r} of type {type(schedule).__name__}"
    )


def _accumulation_arg(owner: str, value: Any) -> int | None:
    if value is None:
        return None
    return E.positive_int(owner, "gradient_accumulation_steps", value)


def _calling_optimizer(schedule: Any, depth: int) -> Any:
    """The Keras optimizer evaluating ``schedule`` as its learning rate, found from the caller.

    Keras 3 optimizers evaluate a learning-rate schedule as ``self._learning_rate(self._iterations)``
    in ``BaseOptimizer._get_current_learning_rate``. Returns that optimizer, or ``None`` when the
    schedule is called some other way (directly, by a plot, by a callback).
    """
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:  # pragma: no cover - no such frame
        return None
    owner = frame.f_locals.get("self")
    if isinstance(owner, keras.optimizers.Optimizer) and getattr(owner, "_learning_rate", None) is schedule:
        return owner
    return None


@keras.saving.register_keras_serializable(package="lrkit")
class LearningRateSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """An lrkit schedule as a Keras 3 ``LearningRateSchedule``.

    Pass it as any Keras optimizer's ``learning_rate``. The update applied when
    ``optimizer.iterations == k`` uses ``schedule(k)``; the value is computed inside the train step
    with ``keras.ops`` (float32 by default, see ``lrkit.backends._keras_ops`` for precision), so it
    works eagerly and under ``jit_compile`` on the TensorFlow, JAX and PyTorch backends, and under
    ``tf.distribute`` strategies.

    **Gradient accumulation.** With ``optimizer.gradient_accumulation_steps = A`` Keras calls the
    schedule with the number of *micro-batches* seen. lrkit counts real updates instead: update
    ``k`` (micro-batches ``k*A .. k*A + A - 1``) uses ``schedule(k)``, so the curve is the one of
    the same run without accumulation and ``schedule.duration`` is in optimizer updates. By default
    (``gradient_accumulation_steps=None``) ``A`` is read from the optimizer that evaluates the
    schedule, so nothing has to be repeated; called outside an optimizer the step is used as given.
    Pass ``gradient_accumulation_steps`` to fix ``A`` explicitly (for a step you pass yourself);
    an optimizer configured differently then raises ``ValueError`` rather than silently running
    the schedule ``A`` times too fast or too slow.

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

    def __init__(
        self,
        schedule: Schedule,
        *,
        gradient_accumulation_steps: int | None = None,
        total_steps: int | None = None,
    ) -> None:
        from lrkit._time import resolve

        written = _schedule_arg("LearningRateSchedule", schedule)
        #: The schedule as written (percentages kept: what get_config saves) and as run.
        self._written = written
        self.total_steps = None if total_steps is None else E.positive_int("LearningRateSchedule", "total_steps", total_steps)
        self.schedule = resolve("LearningRateSchedule", written, total_steps)
        self.gradient_accumulation_steps = _accumulation_arg(
            "LearningRateSchedule", gradient_accumulation_steps
        )

    def _steps_per_update(self) -> int:
        fixed = self.gradient_accumulation_steps
        opt = _calling_optimizer(self, depth=2)
        if opt is None:
            return fixed or 1
        found = int(opt.gradient_accumulation_steps or 1)
        if fixed is not None and fixed != found:
            raise ValueError(
                f"LearningRateSchedule: `gradient_accumulation_steps` must match the optimizer's "
                f"({found}, from {type(opt).__name__}(gradient_accumulation_steps="
                f"{opt.gradient_accumulation_steps!r})), or be None to read it from the optimizer. "
                f"Received: gradient_accumulation_steps={fixed!r}"
            )
        return found

    def __call__(self, step: Any) -> Any:
        """The learning rate for ``step`` (``optimizer.iterations``), a floatx tensor."""
        every = self._steps_per_update()
        t = keras.ops.convert_to_tensor(step)
        if every > 1:
            t = keras.ops.floor_divide(t, every)
        return OPS.evaluate(self.schedule, t)

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
    return int(_numpy(optimizer.iterations))


def _numpy(x: Any) -> Any:
    """A numpy value of a Keras variable or backend tensor."""
    return keras.ops.convert_to_numpy(x.value if isinstance(x, keras.Variable) else x)


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
    ) -> None:
        super().__init__()
        owner = "LearningRateScheduler"
        self.schedule = _schedule_arg(owner, schedule)
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
            if isinstance(opt._learning_rate, keras.optimizers.schedules.LearningRateSchedule) or not isinstance(
                opt._learning_rate, keras.Variable
            ):
                raise ValueError(
                    "LearningRateScheduler: the optimizer's `learning_rate` must be a float for "
                    "this callback to set it; it already is a schedule. Pass "
                    "learning_rate=LearningRateSchedule(schedule) instead of the callback, or a "
                    f"float. Received: learning_rate={opt._learning_rate!r}"
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
        return float(_numpy(opt.learning_rate))

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.per == "step" and logs is not None:
            logs["learning_rate"] = self._current()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = self._current()


# -- other hyperparameters ----------------------------------------------------------------------


class _Traced:
    """A hyperparameter's traced value inside a compiled update (TensorFlow, JAX).

    Keras optimizers read hyperparameters as Python numbers: ``ops.cast(self.beta_1, dtype)``,
    ``1 - self.beta_1``, and Python branches such as SGD's ``if self.momentum != 0``. This object
    converts to the traced tensor (``__jax_array__``, ``__tf_tensor__``, arithmetic), while
    comparisons use the optimizer's configured number, so branches decided at construction (does
    SGD keep momentum slots?) stay decided the same way.
    """

    __slots__ = ("static", "value")

    def __init__(self, static: float, value: Any) -> None:
        self.static = static
        self.value = value

    dtype = property(lambda self: self.value.dtype)
    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: len(self.value.shape))

    def __jax_array__(self) -> Any:
        return self.value

    def __tf_tensor__(self, dtype: Any = None, name: Any = None) -> Any:
        import tensorflow as tf

        return self.value if dtype is None else tf.cast(self.value, dtype)

    def __add__(self, o: Any) -> Any:
        return self.value + o

    def __radd__(self, o: Any) -> Any:
        return o + self.value

    def __sub__(self, o: Any) -> Any:
        return self.value - o

    def __rsub__(self, o: Any) -> Any:
        return o - self.value

    def __mul__(self, o: Any) -> Any:
        return self.value * o

    def __rmul__(self, o: Any) -> Any:
        return o * self.value

    def __truediv__(self, o: Any) -> Any:
        return self.value / o

    def __rtruediv__(self, o: Any) -> Any:
        return o / self.value

    def __pow__(self, o: Any) -> Any:
        return self.value**o

    def __rpow__(self, o: Any) -> Any:
        return o**self.value

    def __neg__(self) -> Any:
        return -self.value

    def __eq__(self, o: Any) -> bool:  # type: ignore[override]
        return self.static == o

    def __ne__(self, o: Any) -> bool:  # type: ignore[override]
        return self.static != o

    def __lt__(self, o: Any) -> bool:
        return self.static < o

    def __le__(self, o: Any) -> bool:
        return self.static <= o

    def __gt__(self, o: Any) -> bool:
        return self.static > o

    def __ge__(self, o: Any) -> bool:
        return self.static >= o

    __hash__ = None  # type: ignore[assignment]


class _Number(float):
    """A hyperparameter's value on PyTorch (eager; fused kernels take Python numbers).

    A ``float`` whose comparisons use the optimizer's configured number, like :class:`_Traced`,
    so the branches a scheduled value passes through are the same on every backend (SGD keeps
    updating its momentum buffer at a scheduled momentum of exactly 0, as under TF and JAX).
    """

    static: float

    def __new__(cls, value: float, static: float) -> _Number:
        out = super().__new__(cls, value)
        out.static = static
        return out

    def __eq__(self, o: Any) -> bool:  # type: ignore[override]
        return self.static == o

    def __ne__(self, o: Any) -> bool:  # type: ignore[override]
        return self.static != o

    def __lt__(self, o: Any) -> bool:  # type: ignore[override]
        return self.static < o

    def __le__(self, o: Any) -> bool:  # type: ignore[override]
        return self.static <= o

    def __gt__(self, o: Any) -> bool:  # type: ignore[override]
        return self.static > o

    def __ge__(self, o: Any) -> bool:  # type: ignore[override]
        return self.static >= o

    __hash__ = float.__hash__


_HP_ATTR = "_lrkit_hyperparameters"


def _unwrap(optimizer: Any, owner: str) -> Any:
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            f"{owner}: `optimizer` must be a Keras 3 optimizer. "
            f"Received: optimizer={optimizer!r} of type {type(optimizer).__name__}"
        )
    inner = getattr(optimizer, "inner_optimizer", None)  # LossScaleOptimizer applies via its inner one
    return inner if inner is not None else optimizer


def _install(opt: Any) -> None:
    """Wrap this optimizer instance's ``_backend_apply_gradients`` once (every backend routes
    ``apply``/``stateless_apply``/``fit`` updates through it) to set the scheduled values first."""
    if _HP_ATTR in opt.__dict__:
        return
    object.__setattr__(opt, _HP_ATTR, {})
    original = opt._backend_apply_gradients
    eager = keras.backend.backend() == "torch"  # torch kernels take Python floats (foreach alpha=)

    def _backend_apply_gradients(grads: Any, trainable_variables: Any) -> Any:
        scheduled: dict[str, tuple[float, Schedule]] = opt.__dict__[_HP_ATTR]
        if not scheduled:
            return original(grads, trainable_variables)
        step = opt.iterations  # real updates so far, also under gradient accumulation
        if eager:
            k = int(_numpy(step))
            values = {n: _Number(s(k), base) for n, (base, s) in scheduled.items()}
        else:
            t = keras.ops.convert_to_tensor(step)
            values = {n: _Traced(base, OPS.evaluate(s, t)) for n, (base, s) in scheduled.items()}
        for n, v in values.items():
            object.__setattr__(opt, n, v)
        try:
            return original(grads, trainable_variables)
        finally:
            for n, (base, _) in scheduled.items():
                object.__setattr__(opt, n, base)

    object.__setattr__(opt, "_backend_apply_gradients", _backend_apply_gradients)


def schedule_hyperparameter(optimizer: Any, name: str, schedule: Schedule) -> None:
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
    schedule = _schedule_arg(owner, schedule)
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
    scheduled = opt.__dict__.get(_HP_ATTR, {})
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
    _install(opt)
    opt.__dict__[_HP_ATTR][name] = (base, schedule)


class HyperparameterScheduler(keras.callbacks.Callback):
    """Callback form of :func:`schedule_hyperparameter` for ``model.fit(callbacks=[...])``.

    At the start of training it binds ``schedule`` to ``model.optimizer.<name>`` (and rebuilds the
    train function, so a model that was already fit picks it up on TensorFlow and JAX too); after
    every epoch it logs the value the epoch's last update used as ``logs[name]`` (as
    :class:`LearningRateScheduler` logs the rate in use).

    Args:
      name: the optimizer attribute, e.g. ``"momentum"``, ``"beta_1"``, ``"weight_decay"``.
      schedule: an lrkit ``Schedule`` in steps (``lrkit.per_epoch`` for one written in epochs).

    Examples:
      >>> import lrkit as lk
      >>> from lrkit.backends.keras import HyperparameterScheduler
      >>> cb = HyperparameterScheduler("momentum", lk.linear(0.95, 0.85, 1000))
    """

    def __init__(self, name: str, schedule: Schedule) -> None:
        super().__init__()
        if not isinstance(name, str):
            raise TypeError(
                f"HyperparameterScheduler: `name` must be a string. Received: name={name!r} "
                f"of type {type(name).__name__}"
            )
        self.name = name
        self.schedule = _schedule_arg("HyperparameterScheduler", schedule)

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

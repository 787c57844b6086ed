"""Everything lrkit's Keras adapters need from Keras *internals*, in one place.

Keras 3 has no public hook for either of the two things below, so they live here, each with the
reason it is needed. ``CHECKED_KERAS_VERSIONS`` lists the Keras versions whose source was read
against this module; ``tests/backends/test_keras_private.py`` fails on any other version, so an
upgrade means re-reading the places named below (``keras/src/optimizers/base_optimizer.py``,
``keras/src/optimizers/sgd.py``, ``adam.py``, ...) and adding the version.

1. **Binding a learning-rate schedule to its optimizer at build time** (:func:`install_build_hook`).
   An lrkit :class:`~lrkit.backends.keras.LearningRateSchedule` keeps its state (the plateau scale,
   ``min_lr``, ``best`` and the counters) in a variable of the optimizer it drives, so that
   ``model.save``/``keras.models.load_model``, ``save_weights``/``load_weights`` and
   ``BackupAndRestore`` save and restore it with the optimizer's other variables, and so that
   JAX's compiled step receives it as state instead of constants. Keras loads an optimizer's
   variables by position and refuses a file whose variable count differs, so the variable must be
   created at the same point whichever way the optimizer was made (by user code, or by
   ``load_model`` from a config, where no lrkit code runs between construction and loading). The
   only such point is ``Optimizer.build``, which every path calls (``fit``, ``compile_from_config``,
   ``BackupAndRestore``, user code) and which Keras gives no callback for. The hook wraps
   ``keras.optimizers.Optimizer.build`` once: after the original build, an optimizer whose
   ``_learning_rate`` (the private attribute holding the schedule; there is no public getter for
   the schedule object) has a ``_lrkit_bind`` method calls it, and that method creates the
   variable with the public ``optimizer.add_variable``. Every other optimizer is untouched.
   The binding also tells the schedule the optimizer's public ``gradient_accumulation_steps``:
   Keras calls a schedule with its micro-batch counter (``self._learning_rate(self._iterations)``
   in ``BaseOptimizer._get_current_learning_rate``), whereas lrkit's step is the update count.

   An lrkit schedule assigned *after* the build (``optimizer.learning_rate = schedule``, a setter
   Keras allows for any schedule) would never be bound: its accumulation uncounted, and a saved
   optimizer that no longer loads (one variable more at load time than was saved, so Keras skips
   the whole optimizer state). :func:`install_build_hook` therefore also wraps the public
   ``learning_rate`` property setter (defined on ``BaseOptimizer``): a value with an
   ``_lrkit_check_assign`` method is asked first, and refuses a built optimizer it is not bound to.

2. **Other hyperparameters inside the compiled update** (:func:`install_hyperparameter_hook`).
   Keras optimizers read ``momentum``, ``beta_1``, ``weight_decay``, ... as Python numbers while the
   update is traced, and branch on them (``if self.momentum != 0`` in ``SGD.update_step``). To give
   the update a scheduled value, the instance's ``_backend_apply_gradients`` (which ``apply``,
   ``stateless_apply`` and ``fit`` all go through, in ``BaseOptimizer.apply``) is wrapped to set
   the attribute to the scheduled value for the duration of the update: a :class:`_Traced` tensor
   on TensorFlow and JAX, a :class:`_Number` on PyTorch (its fused kernels take Python numbers).
   Both compare as the configured number, so the branches Keras takes at build time stay taken.
   On PyTorch the wrapped update is excluded from ``torch.compile`` (``jit_compile=True``), whose
   guards on those numbers would otherwise recompile it at every step.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import keras

#: Keras versions whose internals (named in the module docstring) were checked against this module.
CHECKED_KERAS_VERSIONS = ("3.15.1",)

_BUILD_MARK = "_lrkit_build_hook"


def learning_rate_object(optimizer: Any) -> Any:
    """The object an optimizer holds as its learning rate: a schedule, a callable or a Variable.

    ``optimizer.learning_rate`` evaluates a schedule; Keras has no public getter for the schedule
    itself (``BaseOptimizer._learning_rate``).
    """
    return optimizer._learning_rate


def install_build_hook() -> None:
    """Wrap ``keras.optimizers.Optimizer.build`` and the ``learning_rate`` setter once (item 1 above)."""
    cls = keras.optimizers.Optimizer
    original = cls.build
    if getattr(original, _BUILD_MARK, False):
        return

    def build(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = original(self, *args, **kwargs)
        bind = getattr(self.__dict__.get("_learning_rate"), "_lrkit_bind", None)
        if bind is not None:
            bind(self)
        return out

    build.__doc__ = original.__doc__
    build.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(build, _BUILD_MARK, True)
    cls.build = build

    prop = inspect.getattr_static(cls, "learning_rate")  # BaseOptimizer's property
    original_set = prop.fset

    def set_learning_rate(self: Any, value: Any) -> None:
        check = getattr(value, "_lrkit_check_assign", None)
        if check is not None:
            check(self)
        original_set(self, value)

    set_learning_rate.__wrapped__ = original_set  # type: ignore[attr-defined]
    cls.learning_rate = property(prop.fget, set_learning_rate, prop.fdel, prop.__doc__)


# -- 2. other hyperparameters --------------------------------------------------------------------


class _Traced:
    """A hyperparameter's traced value inside a compiled update (TensorFlow, JAX).

    Converts to the traced tensor (``__jax_array__``, ``__tf_tensor__``, arithmetic), while
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


def scheduled_hyperparameters(opt: Any) -> dict[str, tuple[float, Any]]:
    """``{name: (configured number, schedule)}`` bound to ``opt`` by the hook below (may be empty)."""
    return opt.__dict__.get(_HP_ATTR, {})


def install_hyperparameter_hook(opt: Any, evaluate: Callable[[Any, Any], Any]) -> dict[str, tuple[float, Any]]:
    """Wrap this optimizer instance's ``_backend_apply_gradients`` once (see item 2 above).

    ``evaluate(schedule, step)`` gives the scheduled value at the traced ``optimizer.iterations``.
    Returns the (mutable) ``{name: (configured number, schedule)}`` table the wrapper reads.
    """
    if _HP_ATTR in opt.__dict__:
        return opt.__dict__[_HP_ATTR]
    table: dict[str, tuple[float, Any]] = {}
    object.__setattr__(opt, _HP_ATTR, table)
    original = opt._backend_apply_gradients
    eager = keras.backend.backend() == "torch"  # torch kernels take Python floats (foreach alpha=)

    def _backend_apply_gradients(grads: Any, trainable_variables: Any) -> Any:
        if not table:
            return original(grads, trainable_variables)
        step = opt.iterations  # real updates so far, also under gradient accumulation
        if eager:
            k = int(keras.ops.convert_to_numpy(step))
            values: dict[str, Any] = {n: _Number(s(k), base) for n, (base, s) in table.items()}
        else:
            t = keras.ops.convert_to_tensor(step)
            values = {n: _Traced(base, evaluate(s, t)) for n, (base, s) in table.items()}
        for n, v in values.items():
            object.__setattr__(opt, n, v)
        try:
            return original(grads, trainable_variables)
        finally:
            for n, (base, _) in table.items():
                object.__setattr__(opt, n, base)

    wrapper = _backend_apply_gradients
    if eager:
        # Under ``jit_compile=True`` (torch.compile) dynamo would guard on each new Python number
        # (``if self.momentum != 0`` in Keras's torch SGD) and recompile the update at every step
        # until its cache limit, then warn and run it eagerly: run the scheduled update eagerly
        # from the start instead (the rest of the train step stays compiled).
        import torch

        wrapper = torch.compiler.disable(_backend_apply_gradients)
    object.__setattr__(opt, "_backend_apply_gradients", wrapper)
    return table

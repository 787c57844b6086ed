"""The learning-rate range test for Keras 3: a callback, and a helper that runs ``fit`` with it."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras

from lrkit import _errors as E
from lrkit._base import Schedule
from lrkit._range_test import DivergenceMonitor, Progress, RangeTestResult, range_test_ramp
from lrkit._range_test import lr_range_test as _analyse
from lrkit.backends import _keras_private as _private
from lrkit.backends._keras_ops import OPS, to_numpy

__all__ = ["LRRangeTest", "lr_range_test"]


def _sync(model: Any) -> None:
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()




# What the optimizer was given as ``learning_rate`` (its lr variable, or a schedule/callable): a
# private read, kept with lrkit's other Keras internals in ``_keras_private`` (pinned to a version).
_learning_rate_object = _private.learning_rate_object


class _Ramp(keras.optimizers.schedules.LearningRateSchedule):
    """The range test's ramp as a Keras schedule of ``optimizer.iterations``, started at ``offset``."""

    def __init__(self, ramp: Schedule, offset: int) -> None:
        self.ramp, self.offset = ramp, int(offset)

    def __call__(self, step: Any) -> Any:
        t = keras.ops.maximum(keras.ops.subtract(keras.ops.convert_to_tensor(step), self.offset), 0)
        return OPS.evaluate(self.ramp, t)

    def get_config(self) -> dict[str, Any]:
        return {"ramp": self.ramp.to_config(), "offset": self.offset}


class LRRangeTest(keras.callbacks.Callback):
    """A callback running Smith's learning-rate range test during ``fit``, then undoing it.

    Batch ``i`` of the ``fit`` trains with the learning rate
    ``start * (end / start) ** (i / (steps - 1))`` (:func:`lrkit.range_test_ramp`), and its loss
    is recorded. Training stops after ``steps`` batches or once the smoothed loss diverges. At the
    end of ``fit`` the model's weights and every optimizer variable (moments, iteration count) are
    restored, and so is its learning rate, and :attr:`result` holds a :class:`lrkit.RangeTestResult`.

    The optimizer may have a float learning rate (the test sets it before each batch) or a
    learning-rate schedule, an lrkit ``LearningRateSchedule`` or any other: for the test the
    optimizer gets the ramp as a schedule of its ``iterations`` (through the public
    ``optimizer.learning_rate`` setter), the compiled train step is rebuilt, and at the end the
    original schedule is put back and the train step rebuilt again, so a later ``fit`` continues
    the schedule from the restored ``iterations``.

    Keras logs the running mean of the loss over the epoch; the callback recovers each batch's
    loss from consecutive means, which is exact when every batch of an epoch has the same size
    (pick a batch size dividing the data, or use :func:`lr_range_test`, which does).

    Args:
      start: first learning rate (positive).
      end: last learning rate (greater than ``start``).
      steps: number of batches (at least 2).
      smooth: loss smoothing factor in ``[0, 1)``.
      diverge: stop once the smoothed loss exceeds ``diverge`` times its minimum (> 1).
      skip_start: leading steps ignored when picking the suggestion.
      progress: ``True`` prints a line to stderr about every tenth of the run and at the end; a
        callable ``progress(step, lr, loss)`` is called after every batch; ``False`` is silent.

    Examples:
      >>> cb = LRRangeTest(start=1e-5, end=1.0, steps=100)
    """

    def __init__(
        self,
        start: float = 1e-7,
        end: float = 10.0,
        steps: int = 100,
        *,
        smooth: float = 0.98,
        diverge: float = 4.0,
        skip_start: int = 0,
        progress: bool | Callable[[int, float, float], Any] | None = False,
    ) -> None:
        super().__init__()
        self.ramp = range_test_ramp(start, end, steps)
        self.steps = int(steps)
        DivergenceMonitor(smooth, diverge)  # validates
        self.smooth, self.diverge = float(smooth), float(diverge)
        self.skip_start = E.non_negative_int("LRRangeTest", "skip_start", skip_start)
        self.progress = progress
        Progress(progress, self.steps, "LRRangeTest")  # validates
        self.result: RangeTestResult | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        opt = self.model.optimizer
        opt = getattr(opt, "inner_optimizer", None) or opt
        if not opt.built:
            opt.build(self.model.trainable_variables)
        self._opt = opt
        self._weights = [to_numpy(v) for v in self.model.weights]
        self._opt_values = [to_numpy(v) for v in opt.variables]
        lr = _learning_rate_object(opt)
        self._lr_variable = isinstance(lr, keras.Variable)
        if self._lr_variable:
            self._lr0: Any = float(to_numpy(lr))
        else:
            self._lr0 = lr
            opt.learning_rate = _Ramp(self.ramp, int(to_numpy(opt.iterations)))
            self.model.make_train_function(force=True)  # the compiled step traced the old schedule
        self._monitor = DivergenceMonitor(self.smooth, self.diverge)
        self._report = Progress(self.progress, self.steps, "LRRangeTest")
        self._diverged = False
        self._lrs: list[float] = []
        self._losses: list[float] = []
        self._prev_mean = 0.0
        self.result = None

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._lr_variable:
            _sync(self.model)
            self._opt.learning_rate = float(self.ramp(len(self._lrs)))

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        mean = float((logs or {}).get("loss", math.nan))
        loss = (batch + 1) * mean - batch * self._prev_mean if batch > 0 else mean
        self._prev_mean = mean
        i = len(self._lrs)
        self._lrs.append(float(self.ramp(i)))
        self._losses.append(loss)
        self._report.step(i, self._lrs[-1], loss)
        if self._monitor.push(loss):
            self._diverged = True
            self.model.stop_training = True
        elif len(self._lrs) >= self.steps:
            self.model.stop_training = True

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._prev_mean = 0.0

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        _sync(self.model)
        for v, value in zip(self.model.weights, self._weights):
            v.assign(value)
        for v, value in zip(self._opt.variables, self._opt_values):
            v.assign(value)
        self._opt.learning_rate = self._lr0
        if not self._lr_variable:
            self.model.make_train_function(force=True)  # back to the original schedule
        self._report.end(self._diverged)
        if len(self._lrs) >= 2:
            self.result = _analyse(
                self._lrs, self._losses, smooth=self.smooth, diverge=self.diverge, skip_start=self.skip_start
            )


def lr_range_test(
    model: Any,
    x: Any,
    y: Any = None,
    *,
    batch_size: int = 32,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    smooth: float = 0.98,
    diverge: float = 4.0,
    skip_start: int = 0,
    progress: bool | Callable[[int, float, float], Any] | None = False,
) -> RangeTestResult:
    """Run the range test on a compiled Keras model (``fit`` with :class:`LRRangeTest`).

    The data are trimmed to a multiple of ``batch_size`` and cycled for as many epochs as
    ``steps`` batches need; the model and optimizer are restored afterwards. The model's optimizer
    may have a float learning rate or a schedule (an lrkit ``LearningRateSchedule`` included).

    Args:
      model: a compiled ``keras.Model``.
      x: inputs: an array, or a dict/list/tuple of arrays (a multi-input model), as ``fit`` takes
        them with ``batch_size``.
      y: targets, likewise (or ``None``).
      batch_size: batch size (positive integer, at most the number of samples).
      start, end, steps, smooth, diverge, skip_start, progress: as in :class:`LRRangeTest`.

    Returns:
      A :class:`lrkit.RangeTestResult`.

    Raises:
      TypeError: ``x`` holds no arrays.
      ValueError: a bad setting, arrays of different lengths, or fewer than 2 steps ran.
    """
    owner = "lr_range_test"
    bs = E.positive_int(owner, "batch_size", batch_size)
    leaves = [a for a in keras.tree.flatten(x) if hasattr(a, "shape") and len(a.shape) > 0]
    if not leaves:
        raise TypeError(
            f"{owner}: `x` must be an array or a dict/list/tuple of arrays (for a dataset, use the "
            f"LRRangeTest callback in your own fit). Received: x of type {type(x).__name__}"
        )
    lengths = {int(a.shape[0]) for a in leaves + [a for a in keras.tree.flatten(y) if hasattr(a, "shape")]}
    if len(lengths) != 1:
        raise ValueError(f"{owner}: `x` and `y` must hold arrays of one length. Received: lengths {sorted(lengths)}")
    n = lengths.pop()
    if bs > n:
        raise E._fail(owner, "batch_size", f"at most the number of samples ({n})", batch_size)
    keep = n - n % bs

    def trim(a: Any) -> Any:
        return a[:keep] if hasattr(a, "shape") and len(a.shape) > 0 else a

    x = keras.tree.map_structure(trim, x)
    y = None if y is None else keras.tree.map_structure(trim, y)
    cb = LRRangeTest(start, end, steps, smooth=smooth, diverge=diverge, skip_start=skip_start, progress=progress)
    epochs = math.ceil(cb.steps / (keep // bs))
    model.fit(x, y, batch_size=bs, epochs=epochs, shuffle=False, verbose=0, callbacks=[cb])
    if cb.result is None:
        raise ValueError(f"{owner}: the test ran fewer than 2 steps. Received: steps={steps!r}")
    return cb.result

"""The learning-rate range test for Keras 3: a callback, and a helper that runs ``fit`` with it."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from lrkit import _errors as E
from lrkit._range_test import DivergenceMonitor, RangeTestResult, range_test_ramp
from lrkit._range_test import lr_range_test as _analyse

__all__ = ["LRRangeTest", "lr_range_test"]


def _sync(model: Any) -> None:
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


class LRRangeTest(keras.callbacks.Callback):
    """A callback running Smith's learning-rate range test during ``fit``, then undoing it.

    Before batch ``i`` the optimizer's learning rate is set to
    ``start * (end / start) ** (i / (steps - 1))`` (:func:`lrkit.range_test_ramp`); after it the
    batch's loss is recorded. Training stops after ``steps`` batches or once the smoothed loss
    diverges. At the end of ``fit`` the model's weights, the optimizer's variables (moments,
    iteration count) and its learning rate are restored, and :attr:`result` holds a
    :class:`lrkit.RangeTestResult`.

    Keras logs the running mean of the loss over the epoch; the callback recovers each batch's
    loss from consecutive means, which is exact when every batch of an epoch has the same size
    (pick a batch size dividing the data, or use :func:`lr_range_test`, which does).

    The optimizer's ``learning_rate`` must be a float (the test sets it batch by batch).

    Args:
      start: first learning rate (positive).
      end: last learning rate (greater than ``start``).
      steps: number of batches (at least 2).
      smooth: loss smoothing factor in ``[0, 1)``.
      diverge: stop once the smoothed loss exceeds ``diverge`` times its minimum (> 1).
      skip_start: leading steps ignored when picking the suggestion.

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
    ) -> None:
        super().__init__()
        self.ramp = range_test_ramp(start, end, steps)
        self.steps = int(steps)
        DivergenceMonitor(smooth, diverge)  # validates
        self.smooth, self.diverge = float(smooth), float(diverge)
        self.skip_start = E.non_negative_int("LRRangeTest", "skip_start", skip_start)
        self.result: RangeTestResult | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        opt = self.model.optimizer
        opt = getattr(opt, "inner_optimizer", None) or opt
        if not isinstance(opt._learning_rate, keras.Variable) or isinstance(
            opt._learning_rate, keras.optimizers.schedules.LearningRateSchedule
        ):
            raise ValueError(
                "LRRangeTest: the optimizer's `learning_rate` must be a float for the test to set it. "
                f"Received: learning_rate={opt._learning_rate!r}"
            )
        if not opt.built:
            opt.build(self.model.trainable_variables)
        self._opt = opt
        self._weights = [np.array(v) for v in self.model.get_weights()]
        self._opt_values = [np.array(keras.ops.convert_to_numpy(v)) for v in opt.variables]
        self._lr0 = float(keras.ops.convert_to_numpy(opt.learning_rate))
        self._monitor = DivergenceMonitor(self.smooth, self.diverge)
        self._lrs: list[float] = []
        self._losses: list[float] = []
        self._prev_mean = 0.0
        self.result = None

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        _sync(self.model)
        self._opt.learning_rate = float(self.ramp(len(self._lrs)))

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        mean = float((logs or {}).get("loss", math.nan))
        loss = (batch + 1) * mean - batch * self._prev_mean if batch > 0 else mean
        self._prev_mean = mean
        self._lrs.append(float(self.ramp(len(self._lrs))))
        self._losses.append(loss)
        if self._monitor.push(loss) or len(self._lrs) >= self.steps:
            self.model.stop_training = True

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._prev_mean = 0.0

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        _sync(self.model)
        self.model.set_weights(self._weights)
        for v, value in zip(self._opt.variables, self._opt_values):
            v.assign(value)
        self._opt.learning_rate = self._lr0
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
) -> RangeTestResult:
    """Run the range test on a compiled Keras model (``fit`` with :class:`LRRangeTest`).

    The data are trimmed to a multiple of ``batch_size`` and cycled for as many epochs as
    ``steps`` batches need; the model and optimizer are restored afterwards.

    Args:
      model: a compiled ``keras.Model`` whose optimizer has a float learning rate.
      x: inputs (a numpy array or anything ``fit`` takes as ``x`` with ``batch_size``).
      y: targets.
      batch_size: batch size (positive integer, at most the number of samples).
      start, end, steps, smooth, diverge, skip_start: as in :class:`LRRangeTest`.

    Returns:
      A :class:`lrkit.RangeTestResult`.
    """
    owner = "lr_range_test"
    bs = E.positive_int(owner, "batch_size", batch_size)
    n = len(x)
    if bs > n:
        raise E._fail(owner, "batch_size", f"at most the number of samples ({n})", batch_size)
    keep = n - n % bs
    x, y = x[:keep], (None if y is None else y[:keep])
    cb = LRRangeTest(start, end, steps, smooth=smooth, diverge=diverge, skip_start=skip_start)
    epochs = math.ceil(cb.steps / (keep // bs))
    model.fit(x, y, batch_size=bs, epochs=epochs, shuffle=False, verbose=0, callbacks=[cb])
    if cb.result is None:
        raise ValueError(f"{owner}: the test ran fewer than 2 steps. Received: steps={steps!r}")
    return cb.result

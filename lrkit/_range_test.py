"""The learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural Networks", 2017).

Train for a few hundred steps while the learning rate grows exponentially, record the loss at
each step, and read off a good learning rate from the curve: the one where the (smoothed) loss
falls fastest. This module holds the framework-free half: the ramp (``range_test_ramp``) and the
analysis (``lr_range_test``). The loops that run the ramp on a model live in the backends
(``lrkit.backends.torch.lr_range_test``, ``lrkit.backends.keras.LRRangeTest``,
``lrkit.backends.optax.lr_range_test``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrkit import _errors as E
from lrkit._base import Schedule

_OWNER = "lr_range_test"


def range_test_ramp(start: float = 1e-7, end: float = 10.0, steps: int = 100) -> Schedule:
    """The exponential ramp of a range test: ``start * (end / start) ** (t / (steps - 1))``.

    Step ``0`` uses ``start`` and step ``steps - 1`` uses ``end`` (an ``lrkit.exponential``
    schedule that holds ``end`` afterwards).

    Args:
      start: first learning rate (finite, positive).
      end: last learning rate (finite, greater than ``start``).
      steps: number of steps of the ramp (an integer, at least 2).

    Returns:
      An lrkit ``Schedule``.

    Examples:
      >>> r = range_test_ramp(1e-4, 1.0, 5)
      >>> [f"{r(t):.0e}" for t in range(5)]
      ['1e-04', '1e-03', '1e-02', '1e-01', '1e+00']
    """
    from lrkit._schedules import exponential

    owner = "range_test_ramp"
    lo = E.positive(owner, "start", start)
    hi = E.positive(owner, "end", end)
    if not hi > lo:
        raise E._fail(owner, "end", f"greater than start={lo!r}", end)
    n = E.positive_int(owner, "steps", steps)
    if n < 2:
        raise E._fail(owner, "steps", "an integer >= 2", steps)
    return exponential(lo, hi / lo, n - 1, end=hi)


@dataclass(frozen=True)
class RangeTestResult:
    """What a learning-rate range test found.

    Attributes:
      lrs: the learning rates tried, one per step (up to and including the divergence).
      losses: the raw loss of each step.
      smoothed: the bias-corrected exponential moving average of ``losses``.
      suggested: the learning rate where the smoothed loss falls fastest against ``log(lr)``
        (``None`` if fewer than 3 steps were usable).
      diverged_at: the first learning rate where the smoothed loss exceeded ``diverge`` times its
        minimum so far (or the loss was not finite), else ``None``.
      best_lr: the learning rate of the lowest smoothed loss before divergence.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggested: float | None
    diverged_at: float | None
    best_lr: float | None

    def plot(self, ax: Any = None, *, show_suggested: bool = True) -> Any:
        """Draw the smoothed (and raw) loss against the learning rate on a log axis.

        Needs matplotlib (``pip install 'lrkit[plot]'``).

        Args:
          ax: a matplotlib ``Axes`` to draw on; a new figure is made if ``None``.
          show_suggested: mark ``suggested`` (and ``diverged_at``) with vertical lines.

        Returns:
          The matplotlib ``Axes``.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:  # pragma: no cover - exercised without matplotlib
            raise E.BackendUnavailableError(
                "RangeTestResult.plot needs matplotlib: pip install 'lrkit[plot]'"
            ) from e
        if ax is None:
            _, ax = plt.subplots()
        ax.plot(self.lrs, self.losses, alpha=0.3, label="loss")
        ax.plot(self.lrs, self.smoothed, label="smoothed loss")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        if show_suggested and self.suggested is not None:
            ax.axvline(self.suggested, color="C2", linestyle="--", label=f"suggested {self.suggested:.2e}")
        if show_suggested and self.diverged_at is not None:
            ax.axvline(self.diverged_at, color="C3", linestyle=":", label=f"diverged {self.diverged_at:.2e}")
        ax.legend()
        return ax


class DivergenceMonitor:
    """The smoothing and divergence rule of :func:`lr_range_test`, one loss at a time.

    The backend loops use it to stop a range test as soon as the loss diverges.

    Args:
      smooth: the smoothing factor ``beta``, in ``[0, 1)``.
      diverge: divergence ratio, a finite number > 1.

    Examples:
      >>> m = DivergenceMonitor(smooth=0.0, diverge=4.0)
      >>> [m.push(x) for x in (1.0, 0.5, 1.9, 2.1)]
      [False, False, False, True]
    """

    def __init__(self, smooth: float = 0.98, diverge: float = 4.0) -> None:
        self.smooth = E.real("DivergenceMonitor", "smooth", smooth)
        if not 0.0 <= self.smooth < 1.0:
            raise E._fail("DivergenceMonitor", "smooth", "in [0, 1)", smooth)
        self.diverge = E.real("DivergenceMonitor", "diverge", diverge)
        if not self.diverge > 1.0:
            raise E._fail("DivergenceMonitor", "diverge", "a number > 1", diverge)
        self.count = 0
        self.smoothed = math.nan
        self.best = math.inf
        self._avg = 0.0

    def push(self, loss: float) -> bool:
        """Add one step's loss; ``True`` once the run has diverged (or the loss is not finite)."""
        v = float(loss)
        if not math.isfinite(v):
            return True
        self._avg = self.smooth * self._avg + (1.0 - self.smooth) * v
        self.count += 1
        self.smoothed = self._avg / (1.0 - self.smooth**self.count)
        if self.count > 1 and self.smoothed - self.best > (self.diverge - 1.0) * abs(self.best):
            return True
        self.best = min(self.best, self.smoothed)
        return False


class Progress:
    """Progress of a range-test loop: a line printer to stderr, a user callback, or nothing.

    The backend loops call :meth:`step` after every step and :meth:`end` once at the end.

    Args:
      progress: ``False``/``None`` (silent), ``True`` (a line on stderr about every tenth of the run
        and at the end), or a callable ``progress(step, lr, loss)`` called after every step with the
        0-based step index, its learning rate and its loss (floats).
      steps: the planned number of steps.
      owner: the name in messages.

    Examples:
      >>> seen = []
      >>> p = Progress(lambda step, lr, loss: seen.append(step), 3, "lr_range_test")
      >>> for i in range(3):
      ...     p.step(i, 0.1 * (i + 1), 1.0)
      >>> seen
      [0, 1, 2]
    """

    def __init__(self, progress: bool | Callable[[int, float, float], Any] | None, steps: int, owner: str) -> None:
        if progress is None or progress is False:
            self._fn: Callable[[int, float, float], Any] | None = None
            self._print = False
        elif progress is True:
            self._fn, self._print = None, True
        elif callable(progress) and not isinstance(progress, (bool, str, bytes)):
            self._fn, self._print = progress, False
        else:
            raise TypeError(
                f"{owner}: `progress` must be True, False, None or a callable progress(step, lr, loss). "
                f"Received: progress={progress!r} of type {type(progress).__name__}"
            )
        self.steps, self.owner = int(steps), owner
        self._every = max(1, self.steps // 10)
        self._last: tuple[int, float, float] | None = None

    def step(self, i: int, lr: float, loss: float) -> None:
        """Report step ``i`` (0-based) with learning rate ``lr`` and loss ``loss``."""
        self._last = (i, lr, loss)
        if self._fn is not None:
            self._fn(i, lr, loss)
        elif self._print and (i + 1) % self._every == 0 and i + 1 < self.steps:
            self._line(f"step {i + 1}/{self.steps}  lr {lr:.3e}  loss {loss:.6g}")

    def end(self, diverged: bool) -> None:
        """Report the end of the loop (after divergence if ``diverged``)."""
        if not self._print:
            return
        if self._last is None:
            self._line("no step ran")
            return
        i, lr, loss = self._last
        why = "loss diverged" if diverged else ("done" if i + 1 >= self.steps else "out of batches")
        self._line(f"step {i + 1}/{self.steps}  lr {lr:.3e}  loss {loss:.6g}  ({why})")

    def _line(self, text: str) -> None:
        print(f"{self.owner}: {text}", file=sys.stderr, flush=True)


def lr_range_test(
    lrs: Any, losses: Any, *, smooth: float = 0.98, diverge: float = 4.0, skip_start: int = 0
) -> RangeTestResult:
    r"""Analyse a learning-rate range test: the steepest descent of the smoothed loss.

    The loss is smoothed with a bias-corrected exponential moving average
    :math:`m_i = \beta m_{i-1} + (1 - \beta) \ell_i`, :math:`\hat\ell_i = m_i / (1 - \beta^{i+1})`
    (``beta = smooth``). The run has *diverged* at the first step where :math:`\hat\ell_i` exceeds
    ``diverge`` times the lowest :math:`\hat\ell` so far (or the loss is NaN/infinite); later
    steps are dropped. ``suggested`` is the learning rate where
    :math:`d\hat\ell / d\log(\mathrm{lr})` is most negative (central differences), among the
    steps up to the lowest smoothed loss. Slopes are central differences over a tenth of that
    range (which averages out batch-to-batch noise), taken only past the first tenth of the range,
    where the moving average still rests on few losses.

    Args:
      lrs: the learning rate of each step: positive, strictly increasing (a sequence or array).
      losses: the loss of each step (same length as ``lrs``).
      smooth: the smoothing factor ``beta``, in ``[0, 1)`` (``0`` = no smoothing).
      diverge: divergence ratio, a finite number > 1.
      skip_start: leading steps to ignore when picking ``suggested`` (non-negative integer).

    Returns:
      A :class:`RangeTestResult`.

    Raises:
      ValueError: lengths differ, fewer than 2 steps, or a bad setting.
      TypeError: an argument has the wrong kind.

    Examples:
      >>> import numpy as np
      >>> lrs = np.geomspace(1e-4, 10, 60)
      >>> losses = 1 / (1 + lrs * 100) + (lrs > 1) * 100 * lrs  # falls, then blows up
      >>> r = lr_range_test(lrs, losses, smooth=0.0)
      >>> 1e-3 < r.suggested < 1e-1 and r.diverged_at > 1
      True
    """
    lr = _array("lrs", lrs)
    loss = np.asarray(_array("losses", losses, finite=False), dtype=np.float64)
    if lr.size != loss.size:
        raise ValueError(
            f"{_OWNER}: `losses` must have one entry per learning rate ({lr.size}). "
            f"Received: {loss.size} losses"
        )
    if lr.size < 2:
        raise E._fail(_OWNER, "lrs", "at least 2 learning rates", lrs)
    if not bool(np.all(lr > 0)):
        raise E._fail(_OWNER, "lrs", "positive", lrs)
    if not bool(np.all(np.diff(lr) > 0)):
        raise E._fail(_OWNER, "lrs", "strictly increasing", lrs)
    beta = E.real(_OWNER, "smooth", smooth)
    if not 0.0 <= beta < 1.0:
        raise E._fail(_OWNER, "smooth", "in [0, 1)", smooth)
    ratio = E.real(_OWNER, "diverge", diverge)
    if not ratio > 1.0:
        raise E._fail(_OWNER, "diverge", "a number > 1", diverge)
    skip = E.non_negative_int(_OWNER, "skip_start", skip_start)

    monitor = DivergenceMonitor(smooth=beta, diverge=ratio)
    smoothed = np.empty_like(loss)
    stop = loss.size  # steps kept (the diverging step included, a non-finite one not)
    candidates = loss.size  # steps eligible for `suggested` and `best_lr`
    diverged_at = None
    for i, v in enumerate(loss):
        diverged = monitor.push(v)
        if not math.isfinite(v):
            stop = candidates = i
        else:
            smoothed[i] = monitor.smoothed
        if diverged:
            if math.isfinite(v):
                stop, candidates = i + 1, i
            diverged_at = float(lr[i])
            break
    lr, loss, smoothed = lr[:stop], loss[:stop], smoothed[:stop]
    best_lr = suggested = None
    if candidates:
        best_i = int(np.argmin(smoothed[:candidates]))
        best_lr = float(lr[best_i])
        if best_i - skip >= 1:
            suggested = float(lr[_steepest(np.log(lr), smoothed, skip, best_i)])
    return RangeTestResult(
        lrs=lr, losses=loss, smoothed=smoothed, suggested=suggested, diverged_at=diverged_at, best_lr=best_lr
    )


def _steepest(x: np.ndarray, y: np.ndarray, lo: int, hi: int) -> int:
    """Index in ``[lo, hi]`` of the most negative slope of ``y`` over ``x``.

    Slopes are central differences over ``w = max(1, (hi + 1) // 10)`` steps each side (clipped to
    ``[0, hi]``), which averages out step-to-step noise without a second smoothing pass.
    """
    w = max(1, (hi + 1) // 10)
    lo = max(lo, 2 * w) if max(lo, 2 * w) < hi else lo  # skip the first window: early averages are noisy
    i = np.arange(lo, hi + 1)
    a = np.maximum(i - w, 0)
    b = np.minimum(i + w, hi)
    slope = (y[b] - y[a]) / (x[b] - x[a])
    return int(i[int(np.argmin(slope))])


def _array(name: str, v: Any, finite: bool = True) -> np.ndarray:
    if isinstance(v, (str, bytes)) or v is None:
        raise TypeError(f"{_OWNER}: `{name}` must be a sequence of numbers. Received: {name}={v!r}")
    try:
        out = np.asarray([float(x) for x in np.asarray(v, dtype=object).ravel()], dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{_OWNER}: `{name}` must be a sequence of numbers. Received: {name}={v!r}"
        ) from None
    if finite and not bool(np.all(np.isfinite(out))):
        raise E._fail(_OWNER, name, "finite", v)
    return out

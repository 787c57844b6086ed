"""The learning-rate range test on a torch model (the loop; the analysis is ``lrkit.lr_range_test``)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import torch

from lrkit import _errors as E
from lrkit._range_test import DivergenceMonitor, RangeTestResult, range_test_ramp
from lrkit._range_test import lr_range_test as _analyse

__all__ = ["lr_range_test"]


def _batches(batches: Iterable[Any]) -> Any:
    """Yield batches forever, re-iterating ``batches`` (a DataLoader, a list) when exhausted."""
    while True:
        empty = True
        for b in batches:
            empty = False
            yield b
        if empty:
            raise ValueError("lr_range_test: `batches` yielded no batch. Received: an empty iterable")
        if iter(batches) is batches:  # a one-shot iterator cannot be restarted
            return


def lr_range_test(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    batches: Iterable[Any],
    *,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    smooth: float = 0.98,
    diverge: float = 4.0,
    skip_start: int = 0,
) -> RangeTestResult:
    """Run Smith's learning-rate range test on ``model``, then restore it and ``optimizer``.

    Step ``i`` sets every param group's ``lr`` to ``start * (end / start) ** (i / (steps - 1))``
    (:func:`lrkit.range_test_ramp`), computes ``loss_fn(model(inputs), targets)`` on the next batch,
    back-propagates and steps the optimizer. The loop stops after ``steps`` steps or as soon as the
    smoothed loss diverges (:class:`lrkit._range_test.DivergenceMonitor`). Afterwards the model's
    and the optimizer's ``state_dict`` (weights, moments, learning rates) and the model's
    train/eval mode are restored, so training can start from where it was.

    Args:
      model: the ``torch.nn.Module`` to probe (called as ``model(inputs)``).
      optimizer: its optimizer (any ``torch.optim.Optimizer``).
      loss_fn: ``loss_fn(outputs, targets) -> scalar tensor``.
      batches: an iterable of ``(inputs, targets)`` pairs, re-iterated if shorter than ``steps``
        (a ``DataLoader`` or a list; a one-shot iterator just ends the test early).
      start: first learning rate (positive).
      end: last learning rate (greater than ``start``).
      steps: number of steps (at least 2).
      smooth: loss smoothing factor in ``[0, 1)``.
      diverge: stop once the smoothed loss exceeds ``diverge`` times its minimum (> 1).
      skip_start: leading steps ignored when picking the suggestion.

    Returns:
      A :class:`lrkit.RangeTestResult` (``suggested``, ``diverged_at``, ``plot()``).

    Examples:
      >>> import torch
      >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
      <...>
      >>> x = torch.randn(256, 4); y = x @ torch.ones(4, 1)
      >>> model = torch.nn.Linear(4, 1)
      >>> opt = torch.optim.SGD(model.parameters(), lr=0.01)
      >>> res = lr_range_test(model, opt, torch.nn.functional.mse_loss,
      ...                     [(x[i:i + 32], y[i:i + 32]) for i in range(0, 256, 32)],
      ...                     start=1e-4, end=10.0, steps=80)
      >>> 1e-3 < res.suggested < res.diverged_at
      True
    """
    owner = "lr_range_test"
    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"{owner}: `model` must be a torch.nn.Module. Received: model of type {type(model).__name__}"
        )
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"{owner}: `optimizer` must be a torch.optim.Optimizer. "
            f"Received: optimizer of type {type(optimizer).__name__}"
        )
    if not callable(loss_fn):
        raise TypeError(f"{owner}: `loss_fn` must be callable. Received: loss_fn={loss_fn!r}")
    ramp = range_test_ramp(start, end, steps)
    monitor = DivergenceMonitor(smooth, diverge)
    E.non_negative_int(owner, "skip_start", skip_start)

    model_state = copy.deepcopy(model.state_dict())
    opt_state = copy.deepcopy(optimizer.state_dict())
    was_training = model.training
    lrs: list[float] = []
    losses: list[float] = []
    try:
        model.train()
        source = _batches(batches)
        for i in range(steps):
            try:
                inputs, targets = next(source)
            except StopIteration:
                break
            lr = float(ramp(i))
            for group in optimizer.param_groups:
                if isinstance(group["lr"], torch.Tensor):
                    group["lr"].fill_(lr)
                else:
                    group["lr"] = lr
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            value = float(loss.detach())
            lrs.append(lr)
            losses.append(value)
            if monitor.push(value):
                break
            loss.backward()
            optimizer.step()
    finally:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(opt_state)
        optimizer.zero_grad()
        model.train(was_training)
    if len(lrs) < 2:
        raise ValueError(
            f"{owner}: the test ran {len(lrs)} step(s); give `batches` with more data or a "
            f"larger `start`. Received: steps={steps!r}"
        )
    return _analyse(lrs, losses, smooth=smooth, diverge=diverge, skip_start=skip_start)

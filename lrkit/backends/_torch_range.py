"""The learning-rate range test on a torch model (the loop; the analysis is ``lrkit.lr_range_test``)."""

from __future__ import annotations

import contextlib
import copy
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch

from lrkit import _errors as E
from lrkit._range_test import DivergenceMonitor, Progress, RangeTestResult, range_test_ramp
from lrkit._range_test import lr_range_test as _analyse

__all__ = ["lr_range_test"]

_OWNER = "lr_range_test"


def _batches(batches: Iterable[Any]) -> Any:
    """Yield batches forever, re-iterating ``batches`` (a DataLoader, a list) when exhausted."""
    while True:
        empty = True
        for b in batches:
            empty = False
            yield b
        if empty:
            raise ValueError(f"{_OWNER}: `batches` yielded no batch. Received: an empty iterable")
        if iter(batches) is batches:  # a one-shot iterator cannot be restarted
            return


# The one private torch detail of the range test: an optimizer keeps the hooks registered with
# `register_step_pre_hook`/`register_step_post_hook` in these two OrderedDicts (torch/optim/optimizer.py,
# `Optimizer.profile_hook_step`; pinned by tests/plateau/test_range_torch.py). The test's steps are not
# training: hiding them from the hooks keeps e.g. an lrkit scheduler with clock="optimizer" from counting
# them. There is no public way to suspend hooks; without these attributes the hooks simply run.
_STEP_HOOK_DICTS = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks")


def hooked_optimizer(optimizer: Any) -> Any:
    """The optimizer whose step hooks run when ``optimizer`` steps, or ``None`` if none has them.

    ``optimizer`` itself, or, for a wrapper that subclasses ``Optimizer`` without running its
    ``__init__`` (accelerate's ``AcceleratedOptimizer``, which HF Trainer callbacks receive too) and
    so has no hook tables of its own, the torch optimizer it steps as ``.optimizer``.
    """
    inner = optimizer
    for _ in range(8):  # wrappers of wrappers, never a cycle
        if hasattr(inner, _STEP_HOOK_DICTS[1]):
            return inner
        nxt = getattr(inner, "optimizer", None)
        if not isinstance(nxt, torch.optim.Optimizer) or nxt is inner:
            return None
        inner = nxt
    return None


@contextlib.contextmanager
def _step_hooks_suspended(optimizer: torch.optim.Optimizer) -> Iterator[None]:
    optimizer = hooked_optimizer(optimizer) or optimizer  # a wrapper's hooks are its optimizer's
    saved = {n: getattr(optimizer, n) for n in _STEP_HOOK_DICTS if isinstance(getattr(optimizer, n, None), OrderedDict)}
    for name in saved:
        setattr(optimizer, name, OrderedDict())
    try:
        yield
    finally:
        for name, hooks in saved.items():  # the same objects: existing hook handles stay valid
            setattr(optimizer, name, hooks)


def _pair_loss(loss_fn: Callable[[Any, Any], Any]) -> Callable[[torch.nn.Module, Any], Any]:
    def step_fn(model: torch.nn.Module, batch: Any) -> Any:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise TypeError(
                f"{_OWNER}: with `loss_fn`, each batch must be an (inputs, targets) pair; for other "
                f"batches (dicts, tensors, longer tuples) pass `step_fn=lambda model, batch: loss` "
                f"instead. Received: a batch of type {type(batch).__name__}"
            )
        inputs, targets = batch
        return loss_fn(model(inputs), targets)

    return step_fn


def lr_range_test(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[Any, Any], torch.Tensor] | None = None,
    batches: Iterable[Any] | None = None,
    *,
    step_fn: Callable[[torch.nn.Module, Any], torch.Tensor] | None = None,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    smooth: float = 0.98,
    diverge: float = 4.0,
    skip_start: int = 0,
    progress: bool | Callable[[int, float, float], Any] | None = False,
) -> RangeTestResult:
    """Run Smith's learning-rate range test on ``model``, then restore it and ``optimizer``.

    Step ``i`` sets every param group's ``lr`` to ``start * (end / start) ** (i / (steps - 1))``
    (:func:`lrkit.range_test_ramp`), computes the loss of the next batch, back-propagates and steps
    the optimizer. The loss is ``loss_fn(model(inputs), targets)`` for ``(inputs, targets)``
    batches, or ``step_fn(model, batch)`` for any batch (a dict for a transformers model:
    ``step_fn=lambda m, b: m(**b).loss``; a tensor; a longer tuple). The loop stops after ``steps``
    steps or as soon as the smoothed loss diverges (:class:`lrkit._range_test.DivergenceMonitor`).

    Afterwards everything the test changed is put back: the model's and the optimizer's
    ``state_dict`` (weights, buffers such as batch-norm statistics, moments, step counts, learning
    rates), the model's train/eval mode and torch's CPU (and initialised CUDA) random number
    generator state, so training continues exactly as if the test had not run. Gradients are
    cleared. The optimizer's own step hooks (``register_step_pre_hook``/``register_step_post_hook``)
    do not run during the test, so an lrkit scheduler with ``clock="optimizer"`` does not count
    the test's steps; global optimizer hooks still run.

    Args:
      model: the ``torch.nn.Module`` to probe.
      optimizer: its optimizer (any ``torch.optim.Optimizer``).
      loss_fn: ``loss_fn(outputs, targets) -> scalar tensor``, for ``(inputs, targets)`` batches;
        give either ``loss_fn`` or ``step_fn``.
      batches: an iterable of batches, re-iterated if shorter than ``steps`` (a ``DataLoader`` or
        a list; a one-shot iterator just ends the test early).
      step_fn: ``step_fn(model, batch) -> scalar loss tensor`` for any kind of batch (lrkit then
        back-propagates it and steps the optimizer).
      start: first learning rate (positive).
      end: last learning rate (greater than ``start``).
      steps: number of steps (at least 2).
      smooth: loss smoothing factor in ``[0, 1)``.
      diverge: stop once the smoothed loss exceeds ``diverge`` times its minimum (> 1).
      skip_start: leading steps ignored when picking the suggestion.
      progress: ``True`` prints a line to stderr about every tenth of the run and at the end; a
        callable ``progress(step, lr, loss)`` is called after every step; ``False`` (default) is
        silent.

    Returns:
      A :class:`lrkit.RangeTestResult` (``suggested``, ``diverged_at``, ``plot()``).

    Raises:
      TypeError: a wrong kind of argument, neither or both of ``loss_fn``/``step_fn``, a batch
        that is not a pair with ``loss_fn``, or a loss that is not a single-element tensor.
      ValueError: a bad setting, or fewer than 2 steps ran.

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
      >>> batches = [{"x": x[i:i + 32], "y": y[i:i + 32]} for i in range(0, 256, 32)]
      >>> res = lr_range_test(model, opt, batches=batches, start=1e-4, end=10.0, steps=80,
      ...                     step_fn=lambda m, b: torch.nn.functional.mse_loss(m(b["x"]), b["y"]))
      >>> 1e-3 < res.suggested < res.diverged_at
      True
    """
    owner = _OWNER
    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"{owner}: `model` must be a torch.nn.Module. Received: model of type {type(model).__name__}"
        )
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"{owner}: `optimizer` must be a torch.optim.Optimizer. "
            f"Received: optimizer of type {type(optimizer).__name__}"
        )
    if (loss_fn is None) == (step_fn is None):
        raise TypeError(
            f"{owner}: give exactly one of `loss_fn` (for (inputs, targets) batches) and `step_fn` "
            f"(step_fn(model, batch) -> loss, for any batch). "
            f"Received: loss_fn={loss_fn!r}, step_fn={step_fn!r}"
        )
    for name, fn in (("loss_fn", loss_fn), ("step_fn", step_fn)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{owner}: `{name}` must be callable. Received: {name}={fn!r}")
    if batches is None or isinstance(batches, (str, bytes)) or not hasattr(batches, "__iter__"):
        raise TypeError(
            f"{owner}: `batches` must be an iterable of batches (a DataLoader, a list). "
            f"Received: batches={batches!r}"
        )
    ramp = range_test_ramp(start, end, steps)
    monitor = DivergenceMonitor(smooth, diverge)
    E.non_negative_int(owner, "skip_start", skip_start)
    report = Progress(progress, int(steps), owner)
    compute = step_fn if step_fn is not None else _pair_loss(loss_fn)  # type: ignore[arg-type]

    model_state = copy.deepcopy(model.state_dict())
    opt_state = copy.deepcopy(optimizer.state_dict())
    was_training = model.training
    cpu_rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    lrs: list[float] = []
    losses: list[float] = []
    diverged = False
    hooks_off = contextlib.ExitStack()
    try:
        model.train()
        source = _batches(batches)
        hooks_off.enter_context(_step_hooks_suspended(optimizer))
        for i in range(steps):
            try:
                batch = next(source)
            except StopIteration:
                break
            lr = float(ramp(i))
            for group in optimizer.param_groups:
                if isinstance(group["lr"], torch.Tensor):
                    group["lr"].fill_(lr)
                else:
                    group["lr"] = lr
            optimizer.zero_grad()
            loss = compute(model, batch)
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                raise TypeError(
                    f"{owner}: the loss must be a single-element torch tensor. Received: "
                    f"{type(loss).__name__}" + (f" of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else "")
                )
            value = float(loss.detach())
            lrs.append(lr)
            losses.append(value)
            report.step(i, lr, value)
            if monitor.push(value):
                diverged = True
                break
            loss.backward()
            optimizer.step()
    finally:
        hooks_off.close()
        model.load_state_dict(model_state)
        optimizer.load_state_dict(opt_state)
        optimizer.zero_grad()
        model.train(was_training)
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
    report.end(diverged)
    if len(lrs) < 2:
        raise ValueError(
            f"{owner}: the test ran {len(lrs)} step(s); give `batches` with more data or a "
            f"larger `start`. Received: steps={steps!r}"
        )
    return _analyse(lrs, losses, smooth=smooth, diverge=diverge, skip_start=skip_start)

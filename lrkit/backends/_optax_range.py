"""The learning-rate range test for optax: a jitted loop over an exponential ramp."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import jax
import optax

from lrkit import _errors as E
from lrkit._range_test import DivergenceMonitor, Progress, RangeTestResult, range_test_ramp
from lrkit._range_test import lr_range_test as _analyse
from lrkit.backends._jax_ops import OPS

__all__ = ["lr_range_test"]


def lr_range_test(
    loss_fn: Callable[[Any, Any], Any],
    params: Any,
    optimizer: Callable[..., optax.GradientTransformation],
    batches: Iterable[Any],
    *,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    smooth: float = 0.98,
    diverge: float = 4.0,
    skip_start: int = 0,
    progress: bool | Callable[[int, float, float], Any] | None = False,
) -> RangeTestResult:
    """Run Smith's learning-rate range test with an optax optimizer.

    ``optimizer(learning_rate=ramp)`` builds the optimizer (``optax.sgd``, ``optax.adam``, a
    ``functools.partial`` with other arguments, ...) with the exponential ramp
    :func:`lrkit.range_test_ramp` as its schedule. Each step computes ``loss_fn(params, batch)``
    and its gradient on the next batch and applies the update (one ``jax.jit``-compiled step). A
    batch is any pytree ``loss_fn`` understands: an array, a tuple, a dict. The loop stops after
    ``steps`` steps or once the smoothed loss diverges. JAX arrays are immutable, so the caller's
    ``params`` (and any optimizer state of theirs) are untouched: nothing needs restoring.

    Args:
      loss_fn: ``loss_fn(params, batch) -> scalar``.
      params: the initial parameters (a pytree).
      optimizer: a function taking ``learning_rate=`` and returning an optax transformation.
      batches: an iterable of batches (pytrees), re-iterated if shorter than ``steps`` (a list, or
        a one-shot iterator that ends the test early).
      start, end, steps, smooth, diverge, skip_start: as in :func:`lrkit.lr_range_test` and
        :func:`lrkit.range_test_ramp`.
      progress: ``True`` prints a line to stderr about every tenth of the run and at the end; a
        callable ``progress(step, lr, loss)`` is called after every step; ``False`` is silent.

    Returns:
      A :class:`lrkit.RangeTestResult`.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> x = jax.random.normal(jax.random.PRNGKey(0), (256, 2)); y = x.sum(1)
      >>> loss = lambda w, b: jnp.mean((b[0] @ w - b[1]) ** 2)
      >>> res = lr_range_test(loss, jnp.zeros(2), optax.sgd, [(x, y)], start=1e-4, end=10.0, steps=60)
      >>> res.suggested < res.diverged_at
      True
    """
    owner = "lr_range_test"
    if not callable(loss_fn):
        raise TypeError(f"{owner}: `loss_fn` must be callable. Received: loss_fn={loss_fn!r}")
    if not callable(optimizer):
        raise TypeError(
            f"{owner}: `optimizer` must be a function taking learning_rate= (e.g. optax.adam). "
            f"Received: optimizer={optimizer!r}"
        )
    ramp = range_test_ramp(start, end, steps)
    monitor = DivergenceMonitor(smooth, diverge)
    E.non_negative_int(owner, "skip_start", skip_start)
    report = Progress(progress, int(steps), owner)
    tx = optimizer(learning_rate=lambda count: OPS.evaluate(ramp, count))
    if not isinstance(tx, optax.GradientTransformation):
        raise TypeError(
            f"{owner}: `optimizer(learning_rate=...)` must return an optax GradientTransformation. "
            f"Received: {tx!r}"
        )

    @jax.jit
    def step(p: Any, state: Any, batch: Any) -> tuple[Any, Any, Any]:
        loss, grads = jax.value_and_grad(loss_fn)(p, batch)
        updates, state = tx.update(grads, state, p)
        return optax.apply_updates(p, updates), state, loss

    state = tx.init(params)
    p = params
    lrs: list[float] = []
    losses: list[float] = []
    diverged = False

    def forever() -> Any:
        while True:
            empty = True
            for b in batches:
                empty = False
                yield b
            if empty:
                raise ValueError(f"{owner}: `batches` yielded no batch. Received: an empty iterable")
            if iter(batches) is batches:
                return

    source = forever()
    for i in range(steps):
        try:
            batch = next(source)
        except StopIteration:
            break
        p, state, loss = step(p, state, batch)
        value = float(loss)
        lrs.append(float(ramp(i)))
        losses.append(value)
        report.step(i, lrs[-1], value)
        if monitor.push(value):
            diverged = True
            break
    report.end(diverged)
    if len(lrs) < 2:
        raise ValueError(f"{owner}: the test ran {len(lrs)} step(s). Received: steps={steps!r}")
    return _analyse(lrs, losses, smooth=smooth, diverge=diverge, skip_start=skip_start)

"""optax: reduce-on-plateau composed with an lrkit schedule, as a gradient transformation.

The plateau rules are lrkit's core state machine (:meth:`lrkit.ReduceOnPlateau.transition`)
evaluated with ``jax.numpy``; nothing here re-implements them. The state is a pytree of scalars,
so the transformation works under ``jax.jit`` and saves with the rest of the optimizer state.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from lrkit import _errors as E
from lrkit._base import Schedule
from lrkit._plateau import PlateauMetricWarning, ReduceOnPlateau
from lrkit.backends._jax_ops import OPS

__all__ = ["PlateauState", "reduce_on_plateau"]


class PlateauState(NamedTuple):
    """State of :func:`reduce_on_plateau` (every field a scalar jax array).

    Attributes:
      count: updates applied so far (the schedule's step), int32.
      learning_rate: the learning rate used by the latest update (0 before the first).
      scale: product of the reductions so far.
      best: best (averaged) metric so far (``inf`` for ``min``, ``-inf`` for ``max`` at first).
      num_bad_epochs: bad evaluations counted (torch's ``num_bad_epochs``, Keras's ``wait``).
      cooldown_counter: evaluations left in the cooldown.
      num_reductions: reductions so far.
      acc_count: values accumulated towards the next evaluation.
      acc_value: their running mean.
      num_nonfinite: NaN/infinite values ignored so far (check it, or pass
        ``warn_nonfinite=True``).
    """

    count: jax.Array
    learning_rate: jax.Array
    scale: jax.Array
    best: jax.Array
    num_bad_epochs: jax.Array
    cooldown_counter: jax.Array
    num_reductions: jax.Array
    acc_count: jax.Array
    acc_value: jax.Array
    num_nonfinite: jax.Array


def _warn_nonfinite(value: Any) -> None:
    warnings.warn(
        f"reduce_on_plateau: the reported value is {float(value)!r}; ignoring it (no bad epoch "
        "counted, learning rate unchanged). Check the loss for divergence.",
        PlateauMetricWarning,
        stacklevel=2,
    )


def reduce_on_plateau(
    schedule: Schedule,
    plateau: ReduceOnPlateau | None = None,
    *,
    accumulation_size: int = 1,
    warn_nonfinite: bool = False,
) -> optax.GradientTransformationExtraArgs:
    r"""Scale updates by ``-lr(t)``, an lrkit schedule reduced when ``value`` plateaus.

    The learning rate of update ``t`` is

    .. math::

        \mathrm{lr}(t) = \min\bigl(s(t),\ \max(s(t) \cdot \mathrm{scale},\ \mathrm{min\_lr})\bigr)

    where ``scale`` is the product of the reductions decided by ``plateau`` (torch's rules by
    default, see :class:`lrkit.ReduceOnPlateau`). It replaces ``optax.scale_by_learning_rate`` at
    the end of a chain, e.g. ``optax.chain(optax.scale_by_adam(), reduce_on_plateau(s, p))``, and
    takes the monitored metric as ``value=`` like ``optax.contrib.reduce_on_plateau``:
    ``opt.update(grads, state, params, value=loss)``. Each call first feeds ``value`` to the rule
    (once ``accumulation_size`` values have been averaged), then scales the updates, so a
    reduction applies to the very update that reported it, as ``scheduler.report(metric)``
    followed by ``optimizer.step()`` in torch.

    A NaN/infinite ``value`` is ignored: the plateau state is unchanged (no bad epoch, no
    reduction) and ``state.num_nonfinite`` counts it. With ``warn_nonfinite=True`` it also warns
    (``PlateauMetricWarning``) through ``jax.debug.callback``, which works under ``jax.jit`` but
    costs a host round trip per update (about 1 ms on CPU), hence off by default.

    Args:
      schedule: an lrkit ``Schedule`` (use ``lrkit.constant(lr)`` for a fixed learning rate).
      plateau: an :class:`lrkit.ReduceOnPlateau`; ``None`` means ``ReduceOnPlateau()``.
      accumulation_size: number of ``value``\ s averaged into one evaluation (positive integer);
        ``1`` when ``value`` is already a validation metric.
      warn_nonfinite: also warn when a non-finite value is ignored (``True`` or ``False``).

    Returns:
      An ``optax.GradientTransformationExtraArgs`` whose state is a :class:`PlateauState`.

    Raises:
      TypeError: ``schedule`` is not an lrkit schedule or ``plateau`` not a ``ReduceOnPlateau``.
      ValueError: ``accumulation_size`` is not a positive integer.

    Examples:
      >>> import jax.numpy as jnp, optax, lrkit as lk
      >>> from lrkit.backends.optax import reduce_on_plateau
      >>> tx = reduce_on_plateau(lk.constant(0.1), lk.ReduceOnPlateau(patience=0, factor=0.5))
      >>> params = jnp.zeros(2)
      >>> state = tx.init(params)
      >>> for loss in [1.0, 1.0]:
      ...     updates, state = tx.update(jnp.ones(2), state, params, value=loss)
      >>> round(float(state.learning_rate), 6)
      0.05
    """
    owner = "reduce_on_plateau"
    if not isinstance(schedule, Schedule):
        raise TypeError(
            f"{owner}: `schedule` must be an lrkit schedule. "
            f"Received: schedule={schedule!r} of type {type(schedule).__name__}"
        )
    if plateau is None:
        plateau = ReduceOnPlateau()
    if not isinstance(plateau, ReduceOnPlateau):
        raise TypeError(
            f"{owner}: `plateau` must be an lrkit.ReduceOnPlateau or None. "
            f"Received: plateau={plateau!r} of type {type(plateau).__name__}"
        )
    acc_size = E.positive_int(owner, "accumulation_size", accumulation_size)
    warn = E.boolean(owner, "warn_nonfinite", warn_nonfinite)
    p = plateau
    i32 = jnp.int32

    def init_fn(params: Any) -> PlateauState:
        del params
        fdt = jnp.result_type(float)  # float32, or float64 under jax_enable_x64
        first = p.initial_state()
        return PlateauState(
            count=jnp.asarray(0, i32),
            learning_rate=jnp.asarray(0.0, fdt),
            scale=jnp.asarray(first["scale"], fdt),
            best=jnp.asarray(first["best"], fdt),
            num_bad_epochs=jnp.asarray(0, i32),
            cooldown_counter=jnp.asarray(0, i32),
            num_reductions=jnp.asarray(0, i32),
            acc_count=jnp.asarray(0, i32),
            acc_value=jnp.asarray(0.0, fdt),
            num_nonfinite=jnp.asarray(0, i32),
        )

    def _evaluate(state: PlateauState, metric: Any) -> PlateauState:
        fdt = state.scale.dtype
        lr_now = p.apply(OPS.evaluate(schedule, state.count).astype(fdt), {"scale": state.scale}, OPS)
        fields = {
            "scale": state.scale,
            "best": state.best,
            "num_bad_epochs": state.num_bad_epochs,
            "cooldown_counter": state.cooldown_counter,
            "num_reductions": state.num_reductions,
        }
        new = p.transition(fields, metric, lr_now, OPS)
        return state._replace(
            scale=jnp.asarray(new["scale"], fdt),
            best=jnp.asarray(new["best"], fdt),
            num_bad_epochs=jnp.asarray(new["num_bad_epochs"], i32),
            cooldown_counter=jnp.asarray(new["cooldown_counter"], i32),
            num_reductions=jnp.asarray(new["num_reductions"], i32),
            acc_count=jnp.asarray(0, i32),
            acc_value=jnp.zeros((), fdt),
        )

    def update_fn(
        updates: Any, state: PlateauState, params: Any = None, *, value: Any, **extra_args: Any
    ) -> tuple[Any, PlateauState]:
        del params, extra_args
        if value is None:
            raise TypeError(
                f"{owner}: `value` must be the monitored metric (a scalar). Received: value=None"
            )
        fdt = state.scale.dtype
        v = jnp.asarray(value, fdt)
        if v.shape != ():
            raise ValueError(f"{owner}: `value` must be a scalar. Received: value of shape {v.shape}")
        finite = jnp.isfinite(v)
        if warn:
            jax.lax.cond(finite, lambda: None, lambda: jax.debug.callback(_warn_nonfinite, v))
        n = state.acc_count + 1
        avg = jnp.where(finite, (state.acc_value * state.acc_count + v) / n, state.acc_value)
        n = jnp.where(finite, n, state.acc_count)
        state = state._replace(
            acc_count=n.astype(i32),
            acc_value=avg.astype(fdt),
            num_nonfinite=jnp.where(finite, state.num_nonfinite, state.num_nonfinite + 1).astype(i32),
        )
        state = jax.lax.cond(n >= acc_size, lambda s: _evaluate(s, s.acc_value), lambda s: s, state)
        lr = p.apply(OPS.evaluate(schedule, state.count).astype(fdt), {"scale": state.scale}, OPS)
        updates = jax.tree.map(lambda g: (-lr).astype(g.dtype) * g, updates)
        return updates, state._replace(
            count=optax.safe_increment(state.count), learning_rate=jnp.asarray(lr, fdt)
        )

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)

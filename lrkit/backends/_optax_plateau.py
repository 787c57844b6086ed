"""optax: reduce-on-plateau as gradient transformations, composed with any learning rate.

Two forms, one state machine (:meth:`lrkit.ReduceOnPlateau.transition`, evaluated with
``jax.numpy``; nothing here re-implements the rules):

* :func:`reduce_on_plateau` ``(schedule, plateau)`` *is* the learning rate: it multiplies the
  updates by ``-lr(t)`` and ends a chain in place of ``optax.scale_by_learning_rate``
  (``optax.chain(optax.scale_by_adam(), reduce_on_plateau(s, p))``).
* :func:`scale_by_plateau` ``(plateau, learning_rate=...)`` is appended *after* a complete optimizer
  (``optax.chain(optax.adamw(lko.schedule(s)), scale_by_plateau(p, learning_rate=s))``), the way
  ``optax.contrib.reduce_on_plateau`` is: it multiplies the optimizer's updates by the reduction
  ``lr(t) / s(t)``.

Appending :func:`reduce_on_plateau` after an optimizer that already applies a learning rate would
multiply by it twice and flip the sign (gradient *ascent*); that is what :func:`scale_by_plateau`
is for. A plateau cannot be an optax *schedule* (``optax.adamw(learning_rate=...)``): a schedule
is a function of the update count alone and never sees the metric.

The state of both is a :class:`PlateauState`, a ``NamedTuple`` of 0-d jax arrays (no Python
numbers or objects), so it works under ``jax.jit`` and ``optax.MultiSteps`` and round-trips with
the rest of the optimizer state through pickle, ``flax.serialization`` and ``orbax.checkpoint``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from lrkit import _errors as E
from lrkit._base import Schedule
from lrkit._plateau import PlateauMetricWarning, ReduceOnPlateau
from lrkit.backends._jax_ops import OPS

__all__ = ["PlateauState", "reduce_on_plateau", "scale_by_plateau"]


class PlateauState(NamedTuple):
    """State of :func:`reduce_on_plateau` and :func:`scale_by_plateau` (every field a 0-d jax array).

    Attributes:
      count: updates applied so far (the schedule's step), int32.
      learning_rate: the learning rate of the latest update as the plateau rules saw it (0 before
        the first). For :func:`scale_by_plateau` without ``learning_rate=`` it is the multiplier
        itself (the learning rate relative to the optimizer's).
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


def _check_plateau(owner: str, plateau: Any) -> ReduceOnPlateau:
    if plateau is None:
        return ReduceOnPlateau()
    if not isinstance(plateau, ReduceOnPlateau):
        raise TypeError(
            f"{owner}: `plateau` must be an lrkit.ReduceOnPlateau or None. "
            f"Received: plateau={plateau!r} of type {type(plateau).__name__}"
        )
    return plateau


def _transformation(
    owner: str,
    p: ReduceOnPlateau,
    base: Callable[[jax.Array], jax.Array],
    multiplier: Callable[[jax.Array, jax.Array, jax.Array], jax.Array],
    acc_size: int,
    warn: bool,
) -> optax.GradientTransformationExtraArgs:
    """The transformation shared by both forms.

    ``base(count)`` is the un-reduced learning rate of update ``count``; ``multiplier(base, lr,
    scale)`` the factor the updates are multiplied by, given the reduced learning rate ``lr``.
    """
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
        lr_now = p.apply(base(state.count).astype(fdt), {"scale": state.scale}, OPS)
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
        updates: Any, state: PlateauState, params: Any = None, *, value: Any = None, **extra_args: Any
    ) -> tuple[Any, PlateauState]:
        del params, extra_args
        if value is None:
            raise TypeError(
                f"{owner}: `value` must be the monitored metric (a scalar), passed as "
                f"`update(updates, state, params, value=loss)`. Received: value=None"
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
        b = base(state.count).astype(fdt)
        lr = p.apply(b, {"scale": state.scale}, OPS)
        m = multiplier(b, lr, state.scale)
        updates = jax.tree.map(lambda g: m.astype(g.dtype) * g, updates)
        return updates, state._replace(
            count=optax.safe_increment(state.count), learning_rate=jnp.asarray(lr, fdt)
        )

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def reduce_on_plateau(
    schedule: Schedule,
    plateau: ReduceOnPlateau | None = None,
    *,
    accumulation_size: int = 1,
    warn_nonfinite: bool = False,
    total_steps: int | None = None,
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

    To append a plateau after a complete optimizer that applies its own learning rate
    (``optax.adamw(...)``), use :func:`scale_by_plateau` instead: this transformation would
    multiply by the learning rate a second time.

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
      total_steps: the run's number of updates, which resolves durations written as percentages
        of the run (``"5%"``); required if ``schedule`` has any.

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
    from lrkit._time import resolve

    schedule = resolve(owner, schedule, total_steps)
    p = _check_plateau(owner, plateau)
    acc_size = E.positive_int(owner, "accumulation_size", accumulation_size)
    warn = E.boolean(owner, "warn_nonfinite", warn_nonfinite)

    def base(count: jax.Array) -> jax.Array:
        return OPS.evaluate(schedule, count)  # type: ignore[no-any-return]

    def multiplier(b: jax.Array, lr: jax.Array, scale: jax.Array) -> jax.Array:
        return -lr

    return _transformation(owner, p, base, multiplier, acc_size, warn)


def _base_lr(owner: str, learning_rate: Any, total_steps: Any = None) -> Callable[[jax.Array], jax.Array] | None:
    """``count -> learning rate`` for the ``learning_rate`` argument of :func:`scale_by_plateau`."""
    if learning_rate is None:
        return None
    s = getattr(learning_rate, "lrkit_schedule", learning_rate)  # lrkit.backends.optax.schedule(s)
    if isinstance(s, Schedule):
        from lrkit._time import resolve

        s = resolve(owner, s, total_steps)
        return lambda count: OPS.evaluate(s, count)  # type: ignore[no-any-return]
    if isinstance(learning_rate, numbers.Real) and not isinstance(learning_rate, bool):
        lr = E.value(owner, "learning_rate", learning_rate)
        return lambda count: jnp.asarray(lr, jnp.result_type(float))
    if isinstance(learning_rate, (jax.Array, np.ndarray, np.generic)) and np.ndim(learning_rate) == 0:
        lr = E.value(owner, "learning_rate", float(learning_rate))
        return lambda count: jnp.asarray(lr, jnp.result_type(float))
    if callable(learning_rate) and not isinstance(learning_rate, (bool, str, bytes)):
        fn = learning_rate
        return lambda count: jnp.asarray(fn(count))
    raise TypeError(
        f"{owner}: `learning_rate` must be the optimizer's learning rate: a number, an lrkit "
        f"schedule, an optax schedule (count -> value) or None. "
        f"Received: learning_rate={learning_rate!r} of type {type(learning_rate).__name__}"
    )


def scale_by_plateau(
    plateau: ReduceOnPlateau | None = None,
    *,
    learning_rate: Any = None,
    accumulation_size: int = 1,
    warn_nonfinite: bool = False,
    total_steps: int | None = None,
) -> optax.GradientTransformationExtraArgs:
    r"""Reduce-on-plateau appended after a complete optax optimizer: scale its updates.

    ``optax.chain(optax.adamw(lko.schedule(s)), scale_by_plateau(p, learning_rate=s))`` trains
    with the learning rate

    .. math::

        \mathrm{lr}(t) = \min\bigl(s(t),\ \max(s(t) \cdot \mathrm{scale},\ \mathrm{min\_lr})\bigr)

    (the same as :func:`reduce_on_plateau`, torch's ``LRScheduler(..., plateau=p)`` and Keras's
    ``ReduceLROnPlateau``), by multiplying the optimizer's updates by ``lr(t) / s(t)``:
    ``scale`` itself until ``min_lr`` binds. Like ``optax.contrib.reduce_on_plateau`` it takes the
    monitored metric as ``value=``: ``tx.update(grads, state, params, value=loss)``; each call first
    feeds ``value`` to the rule (once ``accumulation_size`` values have been averaged), then scales
    the updates. Everything the optimizer multiplies by its learning rate is scaled, as in torch
    (AdamW's decoupled weight decay included).

    ``learning_rate`` is the optimizer's own learning rate ``s``, which the rules need for
    ``min_lr`` and torch's ``eps``: pass the same lrkit schedule (or the
    ``lrkit.backends.optax.schedule`` built from it, an optax schedule, or a float) that the
    optimizer was given. The schedule is evaluated at this transformation's own count, which
    advances once per update exactly like the optimizer's (also inside ``optax.MultiSteps``).
    Without it the rules see the multiplier as the learning rate (a base learning rate of 1): fine
    with ``min_lr=0`` (then the multiplier is just ``scale``), and refused with ``min_lr > 0``,
    which would otherwise bound the multiplier instead of the learning rate.

    Inside ``optax.MultiSteps(chain, k)`` the plateau state advances only on the mini-step that
    applies an update, so each update reports the ``value`` passed with its last micro-batch (use
    ``accumulation_size`` to average over updates, or pass a validation metric).

    Args:
      plateau: an :class:`lrkit.ReduceOnPlateau`; ``None`` means ``ReduceOnPlateau()``.
      learning_rate: the learning rate the preceding optimizer applies: an lrkit ``Schedule``,
        an optax schedule ``count -> value``, a finite non-negative number, or ``None``.
      accumulation_size: number of ``value``\ s averaged into one evaluation (positive integer).
      warn_nonfinite: also warn when a non-finite value is ignored (``True`` or ``False``),
        as in :func:`reduce_on_plateau`.
      total_steps: the run's number of updates, which resolves percentages of the run in an lrkit
        ``learning_rate`` schedule.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` whose state is a :class:`PlateauState`.

    Raises:
      TypeError: ``plateau`` is not a ``ReduceOnPlateau`` or ``learning_rate`` of a wrong kind.
      ValueError: ``accumulation_size`` is not a positive integer, ``learning_rate`` is negative or
        not finite, or ``plateau.min_lr > 0`` without ``learning_rate``.

    Examples:
      >>> import jax.numpy as jnp, optax, lrkit as lk
      >>> from lrkit.backends import optax as lko
      >>> s = lk.constant(0.1)
      >>> tx = optax.chain(optax.sgd(lko.schedule(s)),
      ...                  lko.scale_by_plateau(lk.ReduceOnPlateau(patience=0, factor=0.5), learning_rate=s))
      >>> params = jnp.zeros(2)
      >>> state = tx.init(params)
      >>> for loss in [1.0, 1.0]:
      ...     updates, state = tx.update(jnp.ones(2), state, params, value=loss)
      >>> [round(float(u), 6) for u in updates]
      [-0.05, -0.05]
    """
    owner = "scale_by_plateau"
    p = _check_plateau(owner, plateau)
    given = _base_lr(owner, learning_rate, total_steps)
    acc_size = E.positive_int(owner, "accumulation_size", accumulation_size)
    warn = E.boolean(owner, "warn_nonfinite", warn_nonfinite)
    if given is None and p.min_lr > 0:
        raise ValueError(
            f"{owner}: `learning_rate` is needed when the plateau has min_lr > 0 (min_lr bounds "
            f"the learning rate, which only the optimizer's schedule tells). Pass the optimizer's "
            f"learning rate or schedule. Received: learning_rate=None, min_lr={p.min_lr!r}"
        )
    min_lr = p.min_lr

    def base(count: jax.Array) -> jax.Array:
        return given(count) if given is not None else jnp.ones((), jnp.result_type(float))

    def multiplier(b: jax.Array, lr: jax.Array, scale: jax.Array) -> jax.Array:
        if min_lr == 0:
            return scale  # lr == b * scale exactly
        # lr / b without dividing the multiplier's rounding into it: min(1, max(scale, min_lr / b)).
        positive = b > 0
        floor = jnp.where(positive, min_lr / jnp.where(positive, b, 1.0), 0.0)
        return jnp.where(positive, jnp.minimum(1.0, jnp.maximum(scale, floor)), 1.0).astype(b.dtype)

    return _transformation(owner, p, base, multiplier, acc_size, warn)

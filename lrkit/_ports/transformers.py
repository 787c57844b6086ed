"""Port from ``transformers.get_scheduler``: a scheduler name and its arguments in, the same curve out.

transformers builds every step-driven schedule as a ``torch.optim.lr_scheduler.LambdaLR`` whose
multiplier is a closure in ``transformers/optimization.py``; the learning rate is ``lr`` times that
multiplier. The port rewrites each multiplier as a tree of lrkit constructors, copying its
conventions exactly: warmup counts ``t / max(1, warmup)``, ``cosine`` keeps oscillating past
``num_training_steps`` (``cosine_wave``), ``cosine_warmup_with_min_lr`` runs one step ahead
(``(t + 1) / warmup``). transformers itself is never imported.
"""

from __future__ import annotations

import difflib
from typing import Any

from lrkit import _errors as E
from lrkit._base import Schedule
from lrkit._compose import join, shift, warmup
from lrkit._ports._common import clean
from lrkit._schedules import (
    constant,
    cosine,
    cosine_wave,
    inverse_sqrt,
    linear,
    polynomial,
    warmup_stable_decay,
)

_OWNER = "from_transformers"

#: name -> scheduler-specific keyword arguments (besides num_warmup_steps/num_training_steps).
_KWARGS: dict[str, tuple[str, ...]] = {
    "linear": (),
    "cosine": ("num_cycles",),
    "cosine_with_restarts": ("num_cycles",),
    "polynomial": ("lr_end", "power"),
    "constant": (),
    "constant_with_warmup": (),
    "inverse_sqrt": ("timescale",),
    "reduce_lr_on_plateau": (),
    "cosine_with_min_lr": ("num_cycles", "min_lr", "min_lr_rate"),
    "cosine_warmup_with_min_lr": ("num_cycles", "min_lr", "min_lr_rate", "warmup_lr_rate"),
    "warmup_stable_decay": (
        "num_decay_steps", "num_stable_steps", "warmup_type", "decay_type", "min_lr_ratio", "num_cycles",
    ),
    "greedy": (),
}
NAMES = tuple(_KWARGS)


def from_transformers(
    name: Any,
    *,
    lr: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    **kwargs: Any,
) -> Schedule:
    r"""The curve of ``transformers.get_scheduler(name, optimizer, ...)``, as an lrkit schedule.

    ``lr`` is the optimizer's learning rate (transformers' ``LambdaLR`` multiplies it by the
    schedule's factor); scheduler-specific arguments (``scheduler_specific_kwargs`` in
    transformers) are passed as keywords. The value at step ``t`` equals the optimizer's lr after
    ``t`` calls of ``scheduler.step()``, for every ``t`` from 0, past ``num_training_steps`` too
    (``cosine`` rises again there, as in transformers).

    Names: ``linear``, ``cosine`` (``num_cycles``), ``cosine_with_restarts`` (``num_cycles``),
    ``polynomial`` (``lr_end``, ``power``), ``constant``, ``constant_with_warmup``,
    ``inverse_sqrt`` (``timescale``), ``cosine_with_min_lr`` (``min_lr`` or ``min_lr_rate``,
    ``num_cycles``), ``cosine_warmup_with_min_lr`` (as before, plus ``warmup_lr_rate``),
    ``warmup_stable_decay`` (``num_decay_steps``, ``num_stable_steps``, ``warmup_type``,
    ``decay_type``, ``min_lr_ratio``, ``num_cycles``). ``reduce_lr_on_plateau`` and ``greedy``
    follow a metric, not the step, and are refused (use ``lk.ReduceOnPlateau``).

    Args:
      name: a ``transformers.SchedulerType`` value (string or the enum).
      lr: the optimizer's learning rate (finite, non-negative).
      num_warmup_steps: warmup length, a non-negative integer (required except for ``constant``).
      num_training_steps: total steps, a non-negative integer (required by the decaying schedules).
      **kwargs: the scheduler-specific arguments named above.

    Returns:
      An lrkit ``Schedule``.

    Raises:
      ValueError: unknown ``name`` (with the valid names and a close match), a missing required
        argument, or a value transformers rejects or divides by zero with.
      TypeError: an argument that ``name`` does not take, or of the wrong type.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.from_transformers("linear", lr=1e-3, num_warmup_steps=10, num_training_steps=100)
      >>> s
      warmup(linear(0.001, 0.0, 90), 10)
      >>> round(s(5), 6), round(s(55), 6)
      (0.0005, 0.0005)
    """
    key = _name(name)
    lr = E.value(_OWNER, "lr", lr)
    unknown = sorted(set(kwargs) - set(_KWARGS[key]))
    if unknown:
        raise TypeError(
            f"{_OWNER}: {key!r} takes no argument(s) {unknown}; its scheduler-specific arguments "
            f"are {list(_KWARGS[key])}. Received: {', '.join(f'{k}={kwargs[k]!r}' for k in unknown)}"
        )
    if key in ("reduce_lr_on_plateau", "greedy"):
        raise E.ScheduleError(
            f"{_OWNER}: {key!r} changes the learning rate from a reported metric, not from the step, "
            f"so it is not a curve. Use lk.constant(lr) (or any schedule) with lk.ReduceOnPlateau(...) "
            f"and the framework adapter's plateau support. Received: name={name!r}"
        )
    if key == "constant":
        return constant(lr)
    w = _count("num_warmup_steps", num_warmup_steps, key)
    if key == "constant_with_warmup":
        return _warm(constant(lr), w)
    if key == "inverse_sqrt":
        ts = kwargs.get("timescale")
        ts = (w or 10_000) if ts is None else E.positive_int(_OWNER, "timescale", ts)
        return _warm(inverse_sqrt(lr, ts), w)
    if key == "warmup_stable_decay":
        return _wsd(lr, w, num_training_steps, **kwargs)
    n = _count("num_training_steps", num_training_steps, key)
    if key == "linear":
        if n <= w:  # max(0, (n - t) / max(1, n - w)) is 0 from the warmup's end
            return _warm(constant(0.0), w, lr)
        return _warm(linear(lr, 0.0, n - w), w)
    if key == "polynomial":
        return _polynomial(lr, w, n, **kwargs)
    cycles = _real("num_cycles", kwargs.get("num_cycles", 1 if key == "cosine_with_restarts" else 0.5))
    d = max(1, n - w)
    if key == "cosine":
        return _warm(_wave(lr, 0.0, d, cycles), w)
    if key == "cosine_with_restarts":
        if cycles < 0:
            raise E.ScheduleError(
                f"{_OWNER}: `num_cycles` must be >= 0 for 'cosine_with_restarts' (Python's % turns a "
                f"negative phase into a different curve). Received: num_cycles={cycles!r}"
            )
        body = constant(lr) if cycles == 0 else cosine_wave(lr, 0.0, d, cycles, restart=True)
        return _warm(join([body, constant(0.0)], [d]), w)
    rate = _min_lr_rate(lr, kwargs.get("min_lr"), kwargs.get("min_lr_rate"))
    if key == "cosine_with_min_lr":
        return _warm(_wave(lr, clean(lr * rate), d, cycles), w)
    # cosine_warmup_with_min_lr: the cosine runs one step ahead, (t - w + 1) / max(1, n - w); the
    # warmup is (t + 1) / w, or warmup_lr_rate + (1 - warmup_lr_rate) t / max(1, w - 1).
    body = shift(_wave(lr, clean(lr * rate), d, cycles), 1)
    if w == 0:
        return body
    wr = kwargs.get("warmup_lr_rate")
    a = 1.0 / max(1.0, float(w)) if wr is None else _nonneg("warmup_lr_rate", wr)
    return join([linear(clean(lr * a), lr, max(1, w - 1)), body], [w])


# -- helpers ----------------------------------------------------------------------------------------


def _name(name: Any) -> str:
    key = getattr(name, "value", name)
    if not isinstance(key, str):
        raise TypeError(
            f"{_OWNER}: `name` must be a transformers scheduler name (a string). "
            f"Received: name={name!r} of type {type(name).__name__}"
        )
    if key not in _KWARGS:
        close = difflib.get_close_matches(key, NAMES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise E.ScheduleError(
            f"{_OWNER}: `name` must be one of {list(NAMES)}. Received: name={name!r}.{hint}"
        )
    return key


def _count(arg: str, v: Any, key: str) -> int:
    if v is None:
        raise E.ScheduleError(
            f"{_OWNER}: {key!r} requires `{arg}`, please provide that argument. Received: {arg}=None"
        )
    return E.non_negative_int(_OWNER, arg, v)


def _real(arg: str, v: Any) -> float:
    return E.real(_OWNER, arg, v)


def _nonneg(arg: str, v: Any) -> float:
    return E.value(_OWNER, arg, v)


def _warm(body: Schedule, w: int, target: float | None = None) -> Schedule:
    """``t / max(1, w)`` times the peak for ``t < w``, then ``body(t - w)``.

    ``target`` is the peak when ``body`` does not start at it (a body that is already 0).
    """
    if w == 0:
        return body
    if target is None:
        return warmup(body, w)
    return join([linear(0.0, target, w), body], [w])


def _wave(top: float, bottom: float, steps: int, cycles: float) -> Schedule:
    """``bottom + (top - bottom) (1 + cos(2 pi cycles t / steps)) / 2`` for every ``t``."""
    if cycles == 0:
        return constant(top)
    return cosine_wave(top, bottom, steps, abs(cycles))  # cos is even: -c draws the same curve


def _min_lr_rate(lr: float, min_lr: Any, min_lr_rate: Any) -> float:
    if min_lr is not None and min_lr_rate is not None:
        raise E.ScheduleError(
            f"{_OWNER}: only one of `min_lr` or `min_lr_rate` should be set. "
            f"Received: min_lr={min_lr!r}, min_lr_rate={min_lr_rate!r}"
        )
    if min_lr is not None:
        m = _nonneg("min_lr", min_lr)
        if lr == 0.0:
            raise E.ScheduleError(f"{_OWNER}: `min_lr` needs a positive `lr` (transformers divides by it). Received: lr={lr!r}")
        return m / lr
    if min_lr_rate is None:
        raise E.ScheduleError(
            f"{_OWNER}: one of `min_lr` or `min_lr_rate` should be set. Received: min_lr=None, min_lr_rate=None"
        )
    return _nonneg("min_lr_rate", min_lr_rate)


def _polynomial(lr: float, w: int, n: int, lr_end: Any = 1e-7, power: Any = 1.0) -> Schedule:
    end = _nonneg("lr_end", lr_end)
    p = _real("power", power)
    if not lr > end:
        raise E.ScheduleError(f"{_OWNER}: `lr_end` ({end}) must be smaller than the initial lr ({lr}). Received: lr_end={lr_end!r}")
    if n < w:  # from the warmup's end, t > num_training_steps: lr_end
        return _warm(constant(end), w, lr)
    if n == w:
        raise E.ScheduleError(
            f"{_OWNER}: 'polynomial' needs num_training_steps > num_warmup_steps (transformers divides "
            f"by their difference at step {w}). Received: num_training_steps={n}, num_warmup_steps={w}"
        )
    if p <= 0:
        raise E.ScheduleError(f"{_OWNER}: `power` must be positive. Received: power={power!r}")
    return _warm(polynomial(lr, end, n - w, p), w)


def _wsd(
    lr: float,
    w: int,
    n: Any,
    num_decay_steps: Any = None,
    num_stable_steps: Any = None,
    warmup_type: Any = "linear",
    decay_type: Any = "cosine",
    min_lr_ratio: Any = 0.0,
    num_cycles: Any = 0.5,
) -> Schedule:
    if num_decay_steps is None:
        raise E.ScheduleError(
            f"{_OWNER}: 'warmup_stable_decay' requires `num_decay_steps`. Received: num_decay_steps=None"
        )
    dd = E.non_negative_int(_OWNER, "num_decay_steps", num_decay_steps)
    if num_stable_steps is not None:
        stable = E.non_negative_int(_OWNER, "num_stable_steps", num_stable_steps)
    elif n is not None:
        stable = E.non_negative_int(_OWNER, "num_training_steps", n) - w - dd
    else:
        raise E.ScheduleError(
            f"{_OWNER}: 'warmup_stable_decay' requires either `num_training_steps` or `num_stable_steps`. "
            f"Received: num_training_steps=None, num_stable_steps=None"
        )
    shapes = ("linear", "cosine", "1-sqrt")
    E.choice(_OWNER, "warmup_type", warmup_type, shapes)
    E.choice(_OWNER, "decay_type", decay_type, shapes)
    m = _nonneg("min_lr_ratio", min_lr_ratio)
    c = _real("num_cycles", num_cycles)
    low = clean(lr * m)

    plain = m == 0.0 and warmup_type == "linear" and (decay_type != "cosine" or c == 0.5)
    if plain and stable >= 0 and dd > 0:
        shape = {"linear": "linear", "cosine": "cosine", "1-sqrt": "sqrt"}[decay_type]
        return warmup_stable_decay(lr, w, stable, dd, 0.0, shape)

    pieces: list[Schedule] = []
    starts: list[int] = []
    if w > 0:
        if warmup_type == "linear":
            ramp = linear(low, lr, w)
        elif warmup_type == "cosine":
            ramp = cosine(low, lr, w)
        else:  # 1 - sqrt(1 - t / w)
            ramp = polynomial(low, lr, w, power=0.5)
        pieces.append(ramp)
        starts.append(0)
    if stable > 0:
        pieces.append(constant(lr))
        starts.append(w)
    decay_start, decay_end = w + stable, w + stable + dd
    if decay_end > w and dd > 0:
        if decay_type == "linear":
            dec = linear(lr, low, dd)
        elif decay_type == "cosine":
            dec = _wave(lr, low, dd, c)
        else:  # 1 - sqrt(t / d)
            dec = warmup_stable_decay(lr, 0, 0, dd, low, "sqrt")
        if decay_start < w:  # a negative stable phase enters the decay part-way (transformers)
            dec = shift(dec, w - decay_start)
        pieces.append(dec)
        starts.append(max(w, decay_start))
    pieces.append(constant(low))
    starts.append(max(w, decay_end))
    if len(pieces) == 1:
        return pieces[0]
    return join(pieces, starts[1:])


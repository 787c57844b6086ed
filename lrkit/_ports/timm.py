"""Port from ``timm.scheduler``: a timm scheduler instance or a ``create_scheduler_v2`` name in, the
curve timm's train loop applies out.

timm is never imported here. An instance is recognised by ``type(obj).__module__``/``__name__`` and
read through its attributes; a name is read as data, with ``create_scheduler_v2``'s defaults and
conversions (timm 1.0.31, ``timm/scheduler/scheduler_factory.py``).

How timm's train loop moves the clock (``train.py``): the scheduler is built on the optimizer (its
constructor sets every group's lr to the base lr, or to ``warmup_lr_init`` when there is a warmup);
after update ``k`` it calls ``step_update(num_updates=k + 1)``, and after epoch ``e`` it calls
``step(e + 1)``. A scheduler with ``t_in_epochs=True`` answers only ``step``, one with
``t_in_epochs=False`` only ``step_update``. So update ``k`` uses ``_get_lr(k)`` (per update) or
``_get_lr(k // updates_per_epoch)`` (per epoch), except at ``t = 0``, where the value is the one the
constructor set: ``_get_lr(0)`` is never called. The two differ for ``tanh`` (its curve starts at
``(1 - tanh(lb)) / 2`` of the base lr) and for ``multistep`` with a milestone at 0 or 1.

``_get_lr(t)`` (every scheduler): a linear warmup ``warmup_lr_init + t * (target - warmup_lr_init) /
warmup_t`` for ``t < warmup_t`` (``target`` is the base lr; for ``tanh`` without prefix it is the
curve's value at ``warmup_t``), then the main curve at ``t - warmup_t`` with ``warmup_prefix=True``
or at ``t`` itself with ``warmup_prefix=False`` (the warmup overlays the curve's first steps).
"""

from __future__ import annotations

import difflib
import math
import numbers
from typing import Any

from lrkit import _errors as E
from lrkit._base import Schedule
from lrkit._compose import PerEpoch, Shift, Warmup, join, per_epoch, shift, warmup
from lrkit._ports._common import clean
from lrkit._schedules import (
    Constant,
    Cosine,
    MultiStep,
    Polynomial,
    Restarts,
    Step,
    constant,
    cosine,
    linear,
    multistep,
    piecewise_constant,
    polynomial,
    restarts,
    step,
)

_OWNER = "from_timm"
_MODULE = "timm.scheduler."
#: timm class name -> the shape it ports to.
_CLASSES = {
    "CosineLRScheduler": "cosine",
    "TanhLRScheduler": "tanh",
    "PolyLRScheduler": "poly",
    "StepLRScheduler": "step",
    "MultiStepLRScheduler": "multistep",
}
_REFUSED = {
    "PlateauLRScheduler": "it reacts to a reported metric, not to the step: use lrkit.ReduceOnPlateau with a "
    "schedule",
    "WSDLRScheduler": "lrkit does not port timm's WSD scheduler yet: write it with lk.warmup_stable_decay",
}
#: create_scheduler_v2's names.
_NAMES = ("cosine", "tanh", "step", "constant", "multistep", "poly", "none", "plateau", "wsd", "rsqrt")
#: create_scheduler_v2's keyword arguments (besides ``optimizer`` and ``sched``) and defaults.
_V2_DEFAULTS: dict[str, Any] = {
    "num_epochs": 300,
    "decay_epochs": None,
    "decay_milestones": (90, 180, 270),
    "cooldown_epochs": 0,
    "patience_epochs": 10,
    "decay_rate": 0.1,
    "min_lr": 0.0,
    "warmup_lr": 1e-5,
    "warmup_epochs": 0,
    "warmup_prefix": False,
    "noise": None,
    "noise_pct": 0.67,
    "noise_std": 1.0,
    "noise_seed": 42,
    "cycle_mul": 1.0,
    "cycle_decay": 0.1,
    "cycle_limit": 1,
    "k_decay": 1.0,
    "decay_fn": None,
    "stable_timescale": None,
    "plateau_mode": "max",
    "step_on_epochs": True,
    "updates_per_epoch": 0,
}


def from_timm(
    scheduler: Any,
    *,
    group: int = 0,
    updates_per_epoch: int | None = None,
    lr: float | None = None,
    **kwargs: Any,
) -> Schedule:
    r"""The learning rate timm's train loop applies at each update, as an lrkit schedule.

    Two forms:

    * ``from_timm(scheduler, *, group=0, updates_per_epoch=None)``: a timm scheduler instance
      (``CosineLRScheduler``, ``TanhLRScheduler``, ``PolyLRScheduler``, ``StepLRScheduler``,
      ``MultiStepLRScheduler``). A scheduler stepped per epoch (``t_in_epochs=True``, timm's default)
      needs ``updates_per_epoch``, the number of optimizer updates per epoch.
    * ``from_timm(name, *, lr, **create_scheduler_v2_kwargs)``: the scheduler
      ``timm.scheduler.create_scheduler_v2(optimizer, sched=name, ...)`` would build for an optimizer
      whose lr is ``lr``, with its defaults (``warmup_lr=1e-5``, ``cycle_decay=0.1``,
      ``warmup_prefix=False``, ``step_on_epochs=True``, ...). Per-epoch stepping
      (``step_on_epochs=True``) needs ``updates_per_epoch``, as per-update stepping does in timm.
      timm is not imported.

    The value at step ``k`` is the lr of update ``k`` in timm's ``train.py`` protocol:
    ``step_update(num_updates=k + 1)`` after update ``k`` and ``step(epoch + 1)`` after each epoch,
    from step 0 and past the nominal end (cycles, ``cycle_limit`` then ``lr_min``). timm's conventions
    are copied: the warmup overlays the curve unless ``warmup_prefix=True``, a multistep milestone
    ``m`` applies from ``t = m - 1``, step 0 keeps the value the constructor set. See
    ``docs/porting.md``.

    Args:
      scheduler: a timm scheduler instance, or the name of a ``create_scheduler_v2`` schedule.
      group: the param group whose curve to port (instance form).
      updates_per_epoch: optimizer updates per epoch, for a scheduler stepped per epoch.
      lr: the optimizer's learning rate (name form; required there).
      **kwargs: ``create_scheduler_v2``'s arguments (name form).

    Returns:
      An lrkit ``Schedule``.

    Raises:
      TypeError: not a timm scheduler or name; an argument of the wrong kind or one that does not apply.
      ValueError: a plateau scheduler (metric-driven), noise (random), a setting timm crashes on or
        that has no exact lrkit curve, a missing ``updates_per_epoch``.

    Examples:
      >>> import lrkit as lk
      >>> lk.from_timm("cosine", lr=0.1, num_epochs=100, step_on_epochs=False, updates_per_epoch=10)
      cosine(0.1, 0.0, 1000)
      >>> lk.from_timm("multistep", lr=0.1, decay_milestones=[2, 4], updates_per_epoch=10)
      per_epoch(multistep(0.1, [1, 3], 0.1), 10)
    """
    if isinstance(scheduler, str):
        if group != 0:
            raise TypeError(
                f"{_OWNER}: `group` applies to a scheduler instance, not to a name. Received: group={group!r}"
            )
        return _from_name(scheduler, lr, updates_per_epoch, kwargs)
    if lr is not None or kwargs:
        bad = "lr" if lr is not None else sorted(kwargs)[0]
        raise TypeError(
            f"{_OWNER}: `{bad}` applies to the name form (from_timm(name, lr=..., ...)), not to a "
            f"scheduler instance, whose settings are read from it. Received: {bad}="
            f"{lr if bad == 'lr' else kwargs[bad]!r}"
        )
    return _from_instance(scheduler, group, updates_per_epoch)


# -- the instance form ------------------------------------------------------------------------------


def _kind(obj: Any) -> str:
    cls = type(obj)
    for i, base in enumerate(cls.__mro__):
        if not base.__module__.startswith(_MODULE):
            continue
        name = base.__name__
        if name in _REFUSED:
            raise E.ScheduleError(f"{_OWNER}: `scheduler` is a timm {name}, which lrkit cannot port: {_REFUSED[name]}.")
        if name in _CLASSES:
            if i:
                raise TypeError(
                    f"{_OWNER}: `scheduler` is a {cls.__name__}, a subclass of timm's {name}; its overrides "
                    f"are arbitrary code, so lrkit ports only timm's own classes. Received: scheduler={obj!r}"
                )
            return name
    raise TypeError(
        f"{_OWNER}: `scheduler` must be a timm scheduler instance (timm.scheduler.CosineLRScheduler, ...) "
        f"or the name of a create_scheduler_v2 schedule ({', '.join(repr(n) for n in _NAMES)}). "
        f"Received: scheduler={obj!r} of type {cls.__name__}"
    )


def _from_instance(s: Any, group: Any, updates_per_epoch: Any) -> Schedule:
    name = _kind(s)
    if not (isinstance(group, numbers.Integral) and not isinstance(group, bool)):
        raise TypeError(
            f"{_OWNER}: `group` must be a non-negative integer (a param group index). "
            f"Received: group={group!r} of type {type(group).__name__}"
        )
    groups = s.optimizer.param_groups
    if not 0 <= group < len(groups):
        raise E.ScheduleError(
            f"{_OWNER}: `group` must be a param group index in [0, {len(groups)}) for this optimizer. "
            f"Received: group={group!r}"
        )
    if getattr(s, "param_group_field", "lr") != "lr":
        raise E.ScheduleError(
            f"{_OWNER}: this {name} schedules the param group field {s.param_group_field!r}, not 'lr'. "
            f"Use the name form or lrkit constructors for other hyperparameters."
        )
    if s.noise_range_t is not None:
        raise _noise(f"noise_range_t={s.noise_range_t!r}")
    shape = _CLASSES[name]
    settings: dict[str, Any] = {
        "base": s.base_values[group],
        "base_name": "base_values[group]",
        "warmup_t": s.warmup_t,
        "warmup_lr_init": s.warmup_lr_init,
        "warmup_prefix": s.warmup_prefix,
    }
    if shape in ("cosine", "tanh", "poly"):
        settings.update(
            t_initial=s.t_initial,
            lr_min=s.lr_min,
            cycle_mul=s.cycle_mul,
            cycle_decay=s.cycle_decay,
            cycle_limit=s.cycle_limit,
            k_decay=getattr(s, "k_decay", 1.0),
        )
        if shape == "tanh":
            settings.update(lb=s.lb, ub=s.ub)
        if shape == "poly":
            settings["power"] = s.power
    elif shape == "step":
        settings.update(decay_t=s.decay_t, decay_rate=s.decay_rate)
    else:
        settings.update(decay_t=list(s.decay_t), decay_rate=s.decay_rate)
    curve = _curve(name, shape, settings)
    curve = _clock(name, curve, bool(s.t_in_epochs), updates_per_epoch, "t_in_epochs")
    scale = groups[group].get("lr_scale")
    if scale is not None:
        factor = _value(name, "param_groups[group]['lr_scale']", scale)
        if factor != 1.0:
            curve = factor * curve
    return curve


# -- the name form ----------------------------------------------------------------------------------


def _from_name(name: str, lr: Any, updates_per_epoch: Any, kwargs: dict[str, Any]) -> Schedule:
    owner = "create_scheduler_v2"
    if name not in _NAMES:
        close = difflib.get_close_matches(name, _NAMES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise E.ScheduleError(
            f"{_OWNER}: `scheduler` must be a timm scheduler instance or one of create_scheduler_v2's "
            f"names {list(_NAMES)}.{hint} Received: scheduler={name!r}"
        )
    for key in kwargs:
        if key not in _V2_DEFAULTS:
            close = difflib.get_close_matches(key, _V2_DEFAULTS, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise TypeError(
                f"{_OWNER}: create_scheduler_v2 takes no argument `{key}`.{hint} Received: {key}={kwargs[key]!r}"
            )
    if lr is None:
        raise TypeError(f"{_OWNER}: the name form needs `lr`, the optimizer's learning rate. Received: lr=None")
    if name == "plateau":
        raise E.ScheduleError(f"{_OWNER}: 'plateau' (timm's PlateauLRScheduler) cannot be ported: {_REFUSED['PlateauLRScheduler']}.")
    if name in ("wsd", "rsqrt"):
        raise E.ScheduleError(
            f"{_OWNER}: {name!r} (timm's WSDLRScheduler) is not ported yet: write it with "
            f"lk.warmup_stable_decay. Received: scheduler={name!r}"
        )
    a = dict(_V2_DEFAULTS)
    a.update(kwargs)
    a["updates_per_epoch"] = 0 if updates_per_epoch is None else updates_per_epoch
    base = _value(owner, "lr", lr)
    if name == "none":
        return constant(base)  # no scheduler: the optimizer's lr stays
    if a["noise"] is not None:
        raise _noise(f"noise={a['noise']!r}")
    on_epochs = _flag(owner, "step_on_epochs", a["step_on_epochs"])
    upe = a["updates_per_epoch"]
    t_initial, warmup_t = a["num_epochs"], a["warmup_epochs"]
    decay_t = a["decay_epochs"] if a["decay_epochs"] is not None else 90
    milestones = a["decay_milestones"]
    if not isinstance(milestones, (list, tuple)):
        raise TypeError(
            f"{_OWNER}: `decay_milestones` must be a list of epochs. Received: decay_milestones={milestones!r}"
        )
    if not on_epochs:
        n = _number(owner, "updates_per_epoch", upe)
        if not n > 0:
            raise E.ScheduleError(
                f"{_OWNER}: step_on_epochs=False needs `updates_per_epoch` > 0 (the number of optimizer "
                f"updates per epoch; timm asserts it). Received: updates_per_epoch={upe!r}"
            )
        t_initial, warmup_t, decay_t = t_initial * upe, warmup_t * upe, decay_t * upe
        milestones = [d * upe for d in milestones]
    settings: dict[str, Any] = {
        "base": base,
        "base_name": "lr",
        "warmup_t": warmup_t,
        "warmup_lr_init": a["warmup_lr"],
        "warmup_prefix": a["warmup_prefix"],
    }
    cycles = {
        "t_initial": t_initial,
        "lr_min": a["min_lr"],
        "cycle_mul": a["cycle_mul"],
        "cycle_decay": a["cycle_decay"],
        "cycle_limit": a["cycle_limit"],
    }
    if name == "cosine":
        settings.update(cycles, k_decay=a["k_decay"])
        shape, cls = "cosine", "CosineLRScheduler"
    elif name == "tanh":  # create_scheduler_v2 passes no k_decay, lb or ub to tanh
        settings.update(cycles, k_decay=1.0, lb=-7.0, ub=3.0)
        shape, cls = "tanh", "TanhLRScheduler"
    elif name == "poly":  # decay_rate is the polynomial's power
        settings.update(cycles, k_decay=a["k_decay"], power=a["decay_rate"])
        shape, cls = "poly", "PolyLRScheduler"
    elif name == "step":
        settings.update(decay_t=decay_t, decay_rate=a["decay_rate"])
        shape, cls = "step", "StepLRScheduler"
    elif name == "constant":  # a step schedule that never decays
        settings.update(decay_t=1, decay_rate=1.0)
        shape, cls = "step", "StepLRScheduler"
    else:
        settings.update(decay_t=list(milestones), decay_rate=a["decay_rate"])
        shape, cls = "multistep", "MultiStepLRScheduler"
    curve = _curve(cls, shape, settings)
    return _clock(cls, curve, on_epochs, None if not on_epochs else (upe or None), "step_on_epochs")


# -- reading settings --------------------------------------------------------------------------------


def _noise(received: str) -> E.ScheduleError:
    return E.ScheduleError(
        f"{_OWNER}: timm's lr noise draws random perturbations (seeded per step), which no lrkit curve "
        f"reproduces; lrkit ports noise-free schedulers only. Received: {received}"
    )


def _number(owner: str, name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        try:
            is_scalar = tuple(getattr(v, "shape", (None,))) == () and not isinstance(v, bool)
            out = float(v) if is_scalar else None
        except (TypeError, ValueError):
            out = None
        if out is None:
            raise TypeError(
                f"{_OWNER}: {owner} `{name}` must be a real number. Received: {name}={v!r} of type {type(v).__name__}"
            )
    else:
        out = float(v)
    if not math.isfinite(out):
        raise E.ScheduleError(f"{_OWNER}: {owner} `{name}` must be finite. Received: {name}={v!r}")
    return out


def _value(owner: str, name: str, v: Any) -> float:
    out = _number(owner, name, v)
    if out < 0:
        raise E.ScheduleError(f"{_OWNER}: {owner} `{name}` must be a finite non-negative number. Received: {name}={v!r}")
    return out + 0.0


def _whole(owner: str, name: str, v: Any, minimum: int) -> int:
    x = _number(owner, name, v)
    if not x.is_integer():
        raise E.ScheduleError(
            f"{_OWNER}: {owner} `{name}` must be a whole number of steps for an exact port. Received: {name}={v!r}"
        )
    if x < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise E.ScheduleError(f"{_OWNER}: {owner} `{name}` must be {kind}. Received: {name}={v!r}")
    return int(x)


def _flag(owner: str, name: str, v: Any) -> bool:
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return bool(v)
    raise TypeError(f"{_OWNER}: {owner} `{name}` must be True or False. Received: {name}={v!r} of type {type(v).__name__}")


# -- the curve -----------------------------------------------------------------------------------------


def _curve(owner: str, shape: str, a: dict[str, Any]) -> Schedule:
    """``_get_lr(t)`` for every ``t >= 0``, except that ``t = 0`` is the constructor's value."""
    try:
        return _get_lr(owner, shape, a)
    except E.ScheduleError as e:
        if str(e).startswith(_OWNER):
            raise
        raise E.ScheduleError(f"{_OWNER}: cannot port this {owner}: {e}") from None
    except TypeError as e:
        if str(e).startswith(_OWNER):
            raise
        raise TypeError(f"{_OWNER}: cannot port this {owner}: {e}") from None


def _get_lr(owner: str, shape: str, a: dict[str, Any]) -> Schedule:
    v = _value(owner, a["base_name"], a["base"])
    w = _whole(owner, "warmup_t", a["warmup_t"], 0)
    init = _value(owner, "warmup_lr_init", a["warmup_lr_init"])
    prefix = _flag(owner, "warmup_prefix", a["warmup_prefix"])
    main = _main(owner, shape, v, a)
    if w == 0:
        curve = main
        c0 = v  # the constructor leaves the base lr in the group
    else:
        c0 = init
        # timm's warmup target: the base lr; tanh without prefix aims at its curve's value at warmup_t.
        if shape == "tanh" and not prefix:
            curve = warmup(shift(main, w), w, start=init)  # ramp to main(w), then main(t)
        elif _close(main(0), v):
            curve = warmup(main, w, start=init, overlay=not prefix)
        else:
            curve = join([linear(init, v, w), main if prefix else shift(main, w)], [w])
    if not _close(curve(0), c0):
        # update 0 runs with the value the constructor set; _get_lr(0) is never applied.
        curve = warmup(curve, 1, start=c0, overlay=True)
    return curve


def _close(a: float, b: float) -> bool:
    """Equal but for the rounding of one operation (``end + (start - end)`` for ``start``)."""
    return abs(a - b) <= 4.5e-16 * max(abs(a), abs(b))


def _main(owner: str, shape: str, v: float, a: dict[str, Any]) -> Schedule:
    """The curve after the warmup, at ``t - warmup_t`` (prefix) or ``t``."""
    if shape == "step":
        every = _number(owner, "decay_t", a["decay_t"])
        rate = _value(owner, "decay_rate", a["decay_rate"])
        if every <= 0 or not every.is_integer():
            raise E.ScheduleError(
                f"{_OWNER}: {owner} `decay_t` must be a positive whole number of steps (timm computes "
                f"t // decay_t). Received: decay_t={a['decay_t']!r}"
            )
        if rate == 1.0 or v == 0.0:
            return constant(v)
        if rate > 1.0:
            raise E.ScheduleError(
                f"{_OWNER}: {owner} `decay_rate` above 1 grows the lr without bound (timm raises "
                f"OverflowError once decay_rate ** (t // decay_t) overflows); lrkit refuses curves that "
                f"leave finite values. Received: decay_rate={a['decay_rate']!r}"
            )
        if rate == 0.0:
            return piecewise_constant([int(every)], [v, 0.0])
        return step(v, rate, int(every))
    if shape == "multistep":
        rate = _value(owner, "decay_rate", a["decay_rate"])
        ms = [_number(owner, f"decay_t[{i}]", m) for i, m in enumerate(a["decay_t"])]
        if any(b < a_ for a_, b in zip(ms, ms[1:])):
            raise E.ScheduleError(
                f"{_OWNER}: {owner} `decay_t` must be sorted: timm counts the milestones passed with "
                f"bisect, which assumes it. Received: decay_t={a['decay_t']!r}"
            )
        # bisect_right(decay_t, t + 1): milestone m applies from t = ceil(m) - 1 (timm's convention).
        at = [math.ceil(m) - 1 for m in ms]
        early = sum(1 for b in at if b <= 0)
        later = [b for b in at if b > 0]
        first = clean(v * rate**early) if early else v
        if not later or rate == 1.0 or first == 0.0:
            return constant(first)
        if rate == 0.0:
            return piecewise_constant([later[0]], [first, 0.0])
        return multistep(first, later, rate)
    # cosine, tanh, poly: cycles
    T = _whole(owner, "t_initial", a["t_initial"], 1)
    end = _value(owner, "lr_min", a["lr_min"])
    m = _number(owner, "cycle_mul", a["cycle_mul"])
    decay = _value(owner, "cycle_decay", a["cycle_decay"])
    limit = _whole(owner, "cycle_limit", a["cycle_limit"], 0)
    k = _number(owner, "k_decay", a.get("k_decay", 1.0))
    if m < 1.0:
        raise E.ScheduleError(
            f"{_OWNER}: {owner} `cycle_mul` below 1 makes timm raise (math domain error in its cycle "
            f"log) once the shrinking cycles are used up, at t = t_initial / (1 - cycle_mul); lrkit has "
            f"no such curve. Received: cycle_mul={a['cycle_mul']!r}"
        )
    if k <= 0:
        raise E.ScheduleError(f"{_OWNER}: {owner} `k_decay` must be positive. Received: k_decay={a['k_decay']!r}")
    if limit == 0:
        return constant(end)  # i < cycle_limit never holds
    power = 1.0
    if shape == "poly":
        power = _number(owner, "power", a["power"])
        if power <= 0:
            raise E.ScheduleError(
                f"{_OWNER}: {owner} `power` must be positive (timm's poly decay_rate). Received: power={a['power']!r}"
            )
    lb, ub = (-7.0, 3.0)
    if shape == "tanh":
        lb, ub = _number(owner, "lb", a["lb"]), _number(owner, "ub", a["ub"])
    if decay == 0.0:
        # cycles after the first anneal from 0 towards lr_min; 0 ** 0 = 1 keeps the first.
        if limit == 1:
            decay = 1.0
        else:
            raise E.ScheduleError(
                f"{_OWNER}: {owner} `cycle_decay` must be positive when cycle_limit > 1. Received: cycle_decay=0.0"
            )
    if limit == 1:
        m, decay = 1.0, 1.0  # one cycle: its length is t_initial, its top the base lr
        if k == 1.0 and shape == "cosine":
            return cosine(v, end, T)
        if k == 1.0 and shape == "poly":
            return polynomial(v, end, T, power)
    lim = None if limit >= 2**53 else limit
    kind = {"cosine": "cosine", "tanh": "tanh", "poly": "polynomial"}[shape]
    return restarts(v, end, T, kind, m, decay, lim, k, power, lb, ub)


def _clock(owner: str, curve: Schedule, on_epochs: bool, updates_per_epoch: Any, flag: str) -> Schedule:
    if not on_epochs:
        if updates_per_epoch is not None and flag == "t_in_epochs":
            raise TypeError(
                f"{_OWNER}: `updates_per_epoch` applies to a scheduler stepped per epoch; this {owner} has "
                f"t_in_epochs=False (it is stepped per update). Received: updates_per_epoch={updates_per_epoch!r}"
            )
        return curve
    if updates_per_epoch is None:
        raise E.ScheduleError(
            f"{_OWNER}: this {owner} is stepped per epoch ({flag}=True), so the port needs "
            f"`updates_per_epoch`, the number of optimizer updates per epoch, to give the lr of each "
            f"update. Received: updates_per_epoch=None"
        )
    n = updates_per_epoch
    if isinstance(n, bool) or not isinstance(n, numbers.Real):
        raise TypeError(
            f"{_OWNER}: `updates_per_epoch` must be a positive integer. "
            f"Received: updates_per_epoch={n!r} of type {type(n).__name__}"
        )
    if not (float(n).is_integer() and n >= 1):
        raise E.ScheduleError(f"{_OWNER}: `updates_per_epoch` must be a positive integer. Received: updates_per_epoch={n!r}")
    return per_epoch(curve, int(n))


# -- the other way: timm arguments for an lrkit schedule ----------------------------------------------


def to_timm_kwargs(schedule: Schedule) -> dict[str, Any] | None:
    """``create_scheduler_v2`` arguments that make timm apply ``schedule``, or ``None`` if none does.

    The result holds ``sched`` (the name), ``lr`` (the optimizer's lr to build it on) and the
    keyword arguments: ``lk.from_timm(d.pop("sched"), **d)`` gives back the same curve (checked
    before returning, at every step up to twice the schedule's horizon and at its breakpoints), and
    ``create_scheduler_v2(optimizer, **{k: v for k, v in d.items() if k != "lr"})`` on an optimizer
    with that lr applies it under timm's train loop. Recognised: ``cosine``, ``polynomial``,
    ``restarts`` with a ``limit``, ``step``, ``multistep`` and ``constant``, each optionally inside a
    linear ``warmup`` (with or without ``overlay``) and ``per_epoch``.

    Examples:
      >>> import lrkit as lk
      >>> from lrkit._ports.timm import to_timm_kwargs
      >>> to_timm_kwargs(lk.warmup(lk.cosine(0.1, 0.0, 95), 5, start=0.001))
      {'sched': 'cosine', 'lr': 0.1, 'num_epochs': 95, 'min_lr': 0.0, 'warmup_epochs': 5, 'warmup_lr': 0.001, 'warmup_prefix': True, 'step_on_epochs': False, 'updates_per_epoch': 1}
      >>> to_timm_kwargs(lk.linear(0.1, 0.0, 10)) is None
      True
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"to_timm_kwargs: `schedule` must be an lrkit schedule. Received: schedule={schedule!r}")
    s = schedule
    clock: dict[str, Any] = {"step_on_epochs": False, "updates_per_epoch": 1}
    if isinstance(s, PerEpoch):
        clock = {"step_on_epochs": True, "updates_per_epoch": s.steps_per_epoch}
        s = s.schedule
    warm: dict[str, Any] = {}
    if isinstance(s, Warmup):
        if s.shape != "linear":
            return None
        prefix, inner = not s.overlay, s.schedule
        if prefix and isinstance(inner, Shift) and inner.steps == s.steps:
            # warmup(shift(curve, w), w): timm's tanh without prefix ramps to its curve's value at w
            prefix, inner = False, inner.schedule
        warm = {"warmup_epochs": s.steps, "warmup_lr": s.start, "warmup_prefix": prefix}
        s = inner
    main = _timm_main(s)
    if main is None:
        return None
    out = {**main, **warm, **clock}
    try:
        d = dict(out)
        again = from_timm(d.pop("sched"), **d)
    except (ValueError, TypeError):
        return None
    return out if _same(schedule, again) else None


def _timm_main(s: Schedule) -> dict[str, Any] | None:
    if isinstance(s, Cosine):
        return {"sched": "cosine", "lr": s.start, "num_epochs": s.steps, "min_lr": s.end}
    if isinstance(s, Polynomial) and not s.cycle:
        return {"sched": "poly", "lr": s.start, "num_epochs": s.steps, "min_lr": s.end, "decay_rate": s.power}
    if isinstance(s, Restarts) and s.limit is not None:
        if s.shape == "tanh" and (s.k != 1.0 or (s.lb, s.ub) != (-7.0, 3.0)):
            return None  # create_scheduler_v2 passes no k_decay, lb or ub to tanh
        out = {
            "sched": {"cosine": "cosine", "tanh": "tanh", "polynomial": "poly"}[s.shape],
            "lr": s.start,
            "num_epochs": s.period,
            "min_lr": s.end,
            "cycle_mul": s.period_mult,
            "cycle_decay": s.decay,
            "cycle_limit": s.limit,
        }
        if s.k != 1.0:
            out["k_decay"] = s.k
        if s.shape == "polynomial":
            out["decay_rate"] = s.power
        return out
    if isinstance(s, Step):
        return {"sched": "step", "lr": s.start, "decay_epochs": s.every, "decay_rate": s.gamma}
    if isinstance(s, MultiStep):
        # timm applies milestone m from t = m - 1
        return {
            "sched": "multistep",
            "lr": s.start,
            "decay_milestones": [m + 1 for m in s.milestones],
            "decay_rate": s.gamma,
        }
    if isinstance(s, Constant):
        return {"sched": "constant", "lr": s.value}
    return None


def _same(a: Schedule, b: Schedule) -> bool:
    import numpy as np

    d = a.duration
    horizon = min(2 * max(d or 0, 1) + 2, 100_000)
    steps = set(range(min(horizon, 2_000)))
    for x in (a, b):
        for k in x.breakpoints(horizon):
            steps.update((k - 1, k, k + 1))
    t = np.array(sorted(k for k in steps if k >= 0), dtype=np.int64)
    va, vb = a(t), b(t)
    return bool(np.allclose(va, vb, rtol=1e-12, atol=1e-15 * float(np.max(np.abs(va), initial=0.0))))

"""``lrkit.from_keras``: a Keras ``LearningRateSchedule`` in, the same curve as an lrkit schedule out.

Every built-in of ``keras.optimizers.schedules`` is ported to a tree of lrkit's own constructors,
copying the native's conventions (checked against Keras 3 ``learning_rate_schedule.py``):

* ``PiecewiseConstantDecay`` switches *after* each boundary (``step > boundary``), one step later
  than ``lrkit.piecewise_constant``; Keras casts the boundaries to the step's integer type first.
* ``CosineDecay``'s ``decay_steps`` excludes the warmup; after ``warmup_steps + decay_steps`` it holds.
* ``CosineDecayRestarts``'s ``m_mul`` scales the amplitude *above* the ``alpha`` floor, so it becomes
  ``constant(floor) + cosine_restarts(...)``.
* ``PolynomialDecay(cycle=True)`` keeps cycling; the others hold or keep decaying as the native does.

Nothing here imports Keras: an instance is read through its ``get_config()``, and a
``keras.optimizers.schedules.serialize()`` dict is read as data (only the known classes are
accepted; nothing is imported or run).
"""

from __future__ import annotations

import difflib
import inspect
import math
import sys
from collections.abc import Callable, Mapping
from typing import Any

from lrkit._base import Schedule, from_config
from lrkit._errors import ScheduleError
from lrkit._ports import _common as C
from lrkit._schedules import (
    constant,
    cosine,
    cosine_restarts,
    exponential,
    inverse_time,
    piecewise_constant,
    polynomial,
)

# Modules a ``serialize()`` dict may name for the built-in schedules (``None``: the legacy format
# without a module key).
_KERAS_MODULES = (
    None,
    "keras.optimizers.schedules",
    "keras.src.optimizers.schedules",
    "keras.src.optimizers.schedules.learning_rate_schedule",
    "keras.optimizers.schedules.learning_rate_schedule",
    "tf_keras.optimizers.schedules",
    "tensorflow.keras.optimizers.schedules",
)


# -- one builder per Keras class; the signature is the Keras constructor's -------------------------


def _exponential_decay(
    initial_learning_rate: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: Any = False,
    name: Any = "ExponentialDecay",
) -> Schedule:
    o = "from_keras(ExponentialDecay)"
    init = C.value(o, "initial_learning_rate", initial_learning_rate)
    d = _positive(o, "decay_steps", decay_steps)
    rate = C.value(o, "decay_rate", decay_rate)
    stair = C.flag(o, "staircase", staircase)
    n = C.integral(d)
    if rate == 0.0:  # 0 ** 0 == 1 at the start, 0 from the first decay on
        first = math.ceil(d) if stair else 1
        return piecewise_constant([first], [init, 0.0])
    if n is not None:
        return exponential(init, rate, n, staircase=stair)
    if not stair:  # rate ** (t / d) == (rate ** (1 / d)) ** t
        return exponential(init, rate ** (1.0 / d), 1)
    raise _fractional(o, "decay_steps", decay_steps, "with staircase=True")


def _piecewise_constant_decay(
    boundaries: Any, values: Any, name: Any = "PiecewiseConstant"
) -> Schedule:
    o = "from_keras(PiecewiseConstantDecay)"
    bs = _list(o, "boundaries", boundaries)
    vs = [C.value(o, f"values[{i}]", v) for i, v in enumerate(_list(o, "values", values))]
    if len(bs) != len(vs) - 1:
        raise ScheduleError(
            f"{o}: `values` must have one more entry than `boundaries`. "
            f"Received: boundaries={list(bs)!r}, values={list(vs)!r}"
        )
    if not bs:
        raise ScheduleError(
            f"{o}: `boundaries` must have at least one entry (Keras fails on an empty list when "
            f"called). Received: boundaries={list(bs)!r}"
        )
    raw = [C.number(o, f"boundaries[{i}]", b) for i, b in enumerate(bs)]
    for a, b in zip(raw, raw[1:]):
        if b < a:
            raise ScheduleError(f"{o}: `boundaries` must be increasing. Received: boundaries={list(bs)!r}")
    # Keras casts each boundary to the (integer) step's dtype, truncating, and switches when
    # step > boundary, i.e. from step trunc(b) + 1 on. A repeated boundary leaves an empty piece.
    first = vs[0]
    edges: list[int] = []
    out: list[float] = []
    for b, v in zip(raw, vs[1:]):
        e = math.trunc(b) + 1
        if e <= 0:
            first = v
        elif edges and edges[-1] == e:
            out[-1] = v
        else:
            edges.append(e)
            out.append(v)
    if not edges:
        return constant(first)
    return piecewise_constant(edges, [first, *out])


def _polynomial_decay(
    initial_learning_rate: Any,
    decay_steps: Any,
    end_learning_rate: Any = 0.0001,
    power: Any = 1.0,
    cycle: Any = False,
    name: Any = "PolynomialDecay",
) -> Schedule:
    o = "from_keras(PolynomialDecay)"
    init = C.value(o, "initial_learning_rate", initial_learning_rate)
    d = C.whole(o, "decay_steps", decay_steps)
    end = C.value(o, "end_learning_rate", end_learning_rate)
    p = C.value(o, "power", power)
    cyc = C.flag(o, "cycle", cycle)
    if p == 0.0:  # (1 - x) ** 0 == 1 everywhere (also 0 ** 0)
        return constant(init)
    return polynomial(init, end, d, power=p, cycle=cyc)


def _inverse_time_decay(
    initial_learning_rate: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: Any = False,
    name: Any = "InverseTimeDecay",
) -> Schedule:
    o = "from_keras(InverseTimeDecay)"
    init = C.value(o, "initial_learning_rate", initial_learning_rate)
    d = _positive(o, "decay_steps", decay_steps)
    rate = C.value(o, "decay_rate", decay_rate)
    stair = C.flag(o, "staircase", staircase)
    if rate == 0.0:
        return constant(init)
    n = C.integral(d)
    if n is not None:
        return inverse_time(init, rate, n, staircase=stair)
    if not stair:  # rate * t / d == (rate / d) * t / 1
        return inverse_time(init, rate / d, 1)
    raise _fractional(o, "decay_steps", decay_steps, "with staircase=True")


def _cosine_decay(
    initial_learning_rate: Any,
    decay_steps: Any,
    alpha: Any = 0.0,
    name: Any = "CosineDecay",
    warmup_target: Any = None,
    warmup_steps: Any = 0,
) -> Schedule:
    o = "from_keras(CosineDecay)"
    init = C.value(o, "initial_learning_rate", initial_learning_rate)
    d = _positive(o, "decay_steps", decay_steps)  # a fractional d has an exact form too
    a = C.value(o, "alpha", alpha)
    if warmup_target is None:
        return C.cosine_any(init, C.clean(init * a), d)
    target = C.value(o, "warmup_target", warmup_target)
    w = C.whole(o, "warmup_steps", warmup_steps, minimum=0)
    decay = C.cosine_any(target, C.clean(target * a), d)
    if w == 0:
        return decay
    from lrkit._compose import warmup

    return warmup(decay, w, start=init)


def _cosine_decay_restarts(
    initial_learning_rate: Any,
    first_decay_steps: Any,
    t_mul: Any = 2.0,
    m_mul: Any = 1.0,
    alpha: Any = 0.0,
    name: Any = "SGDRDecay",
) -> Schedule:
    o = "from_keras(CosineDecayRestarts)"
    init = C.value(o, "initial_learning_rate", initial_learning_rate)
    p = C.whole(o, "first_decay_steps", first_decay_steps)
    tm = C.number(o, "t_mul", t_mul)
    if tm < 1.0:
        raise ScheduleError(
            f"{o}: `t_mul` must be >= 1 (with t_mul < 1 the cycles shrink and Keras returns NaN "
            f"once they are used up). Received: t_mul={t_mul!r}"
        )
    mm = C.value(o, "m_mul", m_mul)
    a = C.value(o, "alpha", alpha)
    if a > 1.0:
        raise ScheduleError(
            f"{o}: `alpha` must be between 0 and 1 (lrkit cannot express the inverted curve "
            f"alpha > 1 gives). Received: alpha={alpha!r}"
        )
    floor = C.clean(init * a)
    if a == 1.0:
        return constant(init)
    if mm == 0.0:  # every restart has amplitude 0 ** i == 0: one decay, then the floor
        return cosine(init, floor, p)
    # value = init * (alpha + (1 - alpha) * m_mul ** i * (1 + cos(pi * x)) / 2)
    waves = cosine_restarts(C.clean(init * (1.0 - a)), 0.0, p, period_mult=tm, decay=mm)
    return waves if floor == 0.0 else constant(floor) + waves


_BUILDERS: dict[str, Callable[..., Schedule]] = {
    "ExponentialDecay": _exponential_decay,
    "PiecewiseConstantDecay": _piecewise_constant_decay,
    "PolynomialDecay": _polynomial_decay,
    "InverseTimeDecay": _inverse_time_decay,
    "CosineDecay": _cosine_decay,
    "CosineDecayRestarts": _cosine_decay_restarts,
}


def _positive(owner: str, name: str, v: Any) -> float:
    x = C.number(owner, name, v)
    if x <= 0:
        raise ScheduleError(f"{owner}: `{name}` must be > 0. Received: {name}={v!r}")
    return x


def _fractional(owner: str, name: str, v: Any, when: str) -> ScheduleError:
    return ScheduleError(
        f"{owner}: `{name}` must be a whole number of steps {when} (no lrkit schedule reproduces "
        f"a staircase with a fractional period exactly). Received: {name}={v!r}"
    )


def _list(owner: str, name: str, v: Any) -> list[Any]:
    if isinstance(v, (str, bytes, Mapping)) or not hasattr(v, "__iter__"):
        raise TypeError(
            f"{owner}: `{name}` must be a list. Received: {name}={v!r} of type {type(v).__name__}"
        )
    return list(v.tolist() if hasattr(v, "tolist") else v)


def _build(class_name: str, config: Any, where: str) -> Schedule:
    builder = _BUILDERS[class_name]
    if not isinstance(config, Mapping):
        raise TypeError(
            f"from_keras: `{where}` must be a dict of {class_name} arguments. "
            f"Received: {where}={config!r} of type {type(config).__name__}"
        )
    sig = inspect.signature(builder)
    unknown = sorted(str(k) for k in config if k not in sig.parameters)
    if unknown:
        raise ScheduleError(
            f"from_keras({class_name}): unknown argument(s) {unknown}; it takes "
            f"{list(sig.parameters)}. Received: {where}={dict(config)!r}"
        )
    missing = [
        n for n, p in sig.parameters.items() if p.default is inspect.Parameter.empty and n not in config
    ]
    if missing:
        raise ScheduleError(
            f"from_keras({class_name}): missing argument(s) {missing}. Received: {where}={dict(config)!r}"
        )
    return builder(**config)


# -- dispatch ----------------------------------------------------------------------------------


def _keras_class(obj: Any) -> str | None:
    """The name of the Keras built-in ``obj`` is an instance of, if it is one (without importing Keras)."""
    if "keras" not in sys.modules:
        return None
    from keras.optimizers import schedules  # already imported: obj exists

    for name in _BUILDERS:
        cls = getattr(schedules, name, None)
        if cls is not None and isinstance(obj, cls):
            # A subclass that redefines the curve is not the built-in any more.
            if type(obj).__call__ is not cls.__call__:
                raise TypeError(
                    f"from_keras: {type(obj).__name__} subclasses keras {name} but overrides "
                    f"__call__, so its curve is arbitrary code that lrkit cannot port. "
                    f"Received: schedule={obj!r}"
                )
            return name
    return None


def _lrkit_adapter_schedule(obj: Any) -> Schedule | None:
    mod = sys.modules.get("lrkit.backends.keras")
    cls = getattr(mod, "LearningRateSchedule", None) if mod is not None else None
    if cls is not None and isinstance(obj, cls):
        inner = getattr(obj, "schedule", None)
        if isinstance(inner, Schedule):
            return inner
    return None


def _is_plateau_callback(obj: Any) -> bool:
    if "keras" not in sys.modules:
        return False
    import keras

    cls = getattr(getattr(keras, "callbacks", None), "ReduceLROnPlateau", None)
    if cls is not None and isinstance(obj, cls):
        return True
    mod = sys.modules.get("lrkit.backends.keras")
    own = getattr(mod, "ReduceLROnPlateau", None) if mod is not None else None
    return own is not None and isinstance(obj, own)


def _from_dict(d: Mapping[str, Any]) -> Schedule:
    class_name = d.get("class_name")
    module = d.get("module")
    registered = d.get("registered_name")
    config = d.get("config")
    unknown = sorted(set(map(str, d)) - {"class_name", "module", "config", "registered_name", "build_config"})
    if unknown:
        raise ScheduleError(
            "from_keras: a serialized schedule has the keys 'module', 'class_name', 'config' and "
            f"'registered_name'; this one also has {unknown}. Received: schedule={dict(d)!r}"
        )
    # lrkit's own Keras adapter, registered as "lrkit>..." : rebuild its lrkit schedule (data only).
    is_lrkit = (isinstance(registered, str) and registered.startswith("lrkit>")) or (
        isinstance(module, str) and (module == "lrkit" or module.startswith("lrkit."))
    )
    if is_lrkit:
        inner = config.get("schedule") if isinstance(config, Mapping) else None
        if isinstance(inner, Mapping):
            return from_config(dict(inner))
        if isinstance(config, Mapping) and "type" in config:
            return from_config(dict(config))
        raise ScheduleError(
            "from_keras: a serialized lrkit LearningRateSchedule must hold its schedule config "
            f"under config['schedule']. Received: schedule={dict(d)!r}"
        )
    if not isinstance(class_name, str) or class_name not in _BUILDERS:
        close = difflib.get_close_matches(str(class_name), list(_BUILDERS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ScheduleError(
            f"from_keras: `class_name` must be one of the Keras built-in schedules {sorted(_BUILDERS)} "
            f"(or a serialized lrkit LearningRateSchedule); nothing else is imported or run. "
            f"Received: class_name={class_name!r}.{hint}"
        )
    if module not in _KERAS_MODULES or registered not in (None, class_name):
        raise ScheduleError(
            f"from_keras: {class_name} must come from keras.optimizers.schedules. "
            f"Received: module={module!r}, registered_name={registered!r}"
        )
    return _build(class_name, config, "config")


def from_keras(schedule: Any) -> Schedule:
    r"""Port a Keras learning-rate schedule to an lrkit schedule with the same curve.

    Accepts an instance of any built-in of ``keras.optimizers.schedules`` (``ExponentialDecay``,
    ``PiecewiseConstantDecay``, ``PolynomialDecay``, ``InverseTimeDecay``, ``CosineDecay``,
    ``CosineDecayRestarts``) or the dict ``keras.optimizers.schedules.serialize()`` makes of one.
    The result is a tree of lrkit constructors that gives Keras's value at every step, past the end
    too, copying Keras's conventions:

    * ``PiecewiseConstantDecay(boundaries, values)`` is
      ``piecewise_constant([b + 1 for b in boundaries], values)``: Keras switches when
      ``step > boundary``.
    * ``CosineDecay(init, d, alpha, warmup_target=peak, warmup_steps=w)`` is
      ``warmup(cosine(peak, peak * alpha, d), w, start=init)``: ``decay_steps`` excludes the warmup.
    * ``CosineDecayRestarts(init, p, t_mul, m_mul, alpha)`` is
      ``constant(init * alpha) + cosine_restarts(init * (1 - alpha), 0, p, t_mul, m_mul)``:
      ``m_mul`` scales the amplitude above the floor.

    Keras computes in float32; the port computes in float64, so the two agree to float32 precision
    (Keras ``CosineDecayRestarts`` finds the cycle with a float32 log, which can put an exact
    restart step in the previous cycle; lrkit puts it in the new one).

    A serialized lrkit ``LearningRateSchedule`` (or an instance of it) gives back its schedule; a
    Keras ``ReduceLROnPlateau`` callback gives an ``lrkit.ReduceOnPlateau`` with its settings.

    Args:
      schedule: a Keras built-in ``LearningRateSchedule`` instance or its ``serialize()`` dict.
        Step counts (``decay_steps`` and the like) must be whole numbers where no exact lrkit
        schedule exists otherwise (a staircase with a fractional period).

    Returns:
      An lrkit ``Schedule``.

    Raises:
      ValueError: an unknown class, an unknown or missing argument, or a value lrkit cannot
        reproduce exactly (named in the message).
      TypeError: an object that is not a Keras schedule, or an argument of the wrong kind.

    Examples:
      >>> import lrkit as lk
      >>> cfg = {"module": "keras.optimizers.schedules", "class_name": "PiecewiseConstantDecay",
      ...        "config": {"boundaries": [2], "values": [1.0, 0.5], "name": None},
      ...        "registered_name": None}
      >>> s = lk.from_keras(cfg)
      >>> s
      piecewise_constant([3], [1.0, 0.5])
      >>> [s(t) for t in range(5)]
      [1.0, 1.0, 1.0, 0.5, 0.5]
    """
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, Mapping):
        return _from_dict(schedule)
    inner = _lrkit_adapter_schedule(schedule)
    if inner is not None:
        return inner
    if _is_plateau_callback(schedule):
        from lrkit import _plateau

        convert = getattr(_plateau, "_from_keras_plateau", None)
        if convert is None:
            raise NotImplementedError("from_keras: porting a ReduceLROnPlateau callback is not available yet")
        return convert(schedule)  # type: ignore[no-any-return]
    name = _keras_class(schedule)
    if name is None:
        raise TypeError(
            "from_keras: `schedule` must be a Keras built-in LearningRateSchedule "
            f"({', '.join(sorted(_BUILDERS))}) or its keras.optimizers.schedules.serialize() dict. "
            f"Received: schedule={schedule!r} of type {type(schedule).__name__}"
        )
    config = schedule.get_config()
    return _build(name, config, f"{name}.get_config()")

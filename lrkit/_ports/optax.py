"""``lrkit.from_optax``: an optax schedule function's name and arguments in, the same curve out.

Every schedule function of ``optax.schedules`` that takes plain numbers is ported to a tree of
lrkit's own constructors, copying optax's conventions (checked against optax 0.2
``optax/schedules/_schedule.py`` and ``_join.py``):

* ``polynomial_schedule``/``linear_schedule``/``exponential_decay`` give the constant
  ``init_value`` when ``transition_steps <= 0`` (optax logs instead of raising), hold ``init_value``
  until ``transition_begin`` and treat a negative ``transition_begin`` as 0.
* ``exponential_decay``'s ``end_value`` clips every step, the delay included; ``decay_rate == 0``
  gives the constant ``init_value``.
* ``warmup_cosine_decay_schedule``'s ``decay_steps`` *includes* the warmup (Keras ``CosineDecay``'s
  does not).
* ``piecewise_constant_schedule`` applies each scale *at* its boundary (``count >= boundary``).

Arguments bind like the native signature. No jax import.
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

from lrkit._base import Schedule
from lrkit._compose import join
from lrkit._errors import ScheduleError
from lrkit._ports import _common as C
from lrkit._schedules import (
    constant,
    cosine,
    exponential,
    linear,
    piecewise_constant,
    piecewise_linear,
    polynomial,
)

# -- one port per optax function; each signature is optax's ----------------------------------------


def constant_schedule(value: Any) -> Schedule:
    return constant(C.value("from_optax(constant_schedule)", "value", value))


def _delayed(first: float, core: Schedule, begin: int) -> Schedule:
    return core if begin <= 0 else join([constant(first), core], [begin])


def polynomial_schedule(
    init_value: Any,
    end_value: Any,
    power: Any,
    transition_steps: Any,
    transition_begin: Any = 0,
    *,
    _owner: str = "from_optax(polynomial_schedule)",
) -> Schedule:
    o = _owner
    init = C.value(o, "init_value", init_value)
    end = C.value(o, "end_value", end_value)
    p = C.value(o, "power", power)
    if C.number(o, "transition_steps", transition_steps) <= 0:
        return constant(init)  # optax: logging.info(...) and a constant schedule
    steps = C.whole(o, "transition_steps", transition_steps)
    begin = max(C.whole(o, "transition_begin", transition_begin, minimum=-(2**62)), 0)
    if p == 0.0:  # frac ** 0 == 1 (0 ** 0 too)
        return constant(init)
    core = linear(init, end, steps) if p == 1.0 else polynomial(init, end, steps, power=p)
    return _delayed(init, core, begin)


def linear_schedule(
    init_value: Any, end_value: Any, transition_steps: Any, transition_begin: Any = 0
) -> Schedule:
    return polynomial_schedule(
        init_value, end_value, 1.0, transition_steps, transition_begin,
        _owner="from_optax(linear_schedule)",
    )


def piecewise_constant_schedule(init_value: Any, boundaries_and_scales: Any = None) -> Schedule:
    o = "from_optax(piecewise_constant_schedule)"
    v = C.value(o, "init_value", init_value)
    items = _boundaries_and_scales(o, boundaries_and_scales)
    # Scale `s` applies from the first integer count >= boundary on (count == boundary included).
    edges: list[int] = []
    values = [v]
    for b, s in items:
        v = v * s
        e = max(math.ceil(b), 0)
        if e == 0:
            values[0] = v
        elif edges and edges[-1] == e:
            values[-1] = v
        else:
            edges.append(e)
            values.append(v)
    return piecewise_constant(edges, values) if edges else constant(values[0])


def exponential_decay(
    init_value: Any,
    transition_steps: Any,
    decay_rate: Any,
    transition_begin: Any = 0,
    staircase: Any = False,
    end_value: Any = None,
) -> Schedule:
    o = "from_optax(exponential_decay)"
    init = C.value(o, "init_value", init_value)
    rate = C.value(o, "decay_rate", decay_rate)
    stair = C.flag(o, "staircase", staircase)
    end = None if end_value is None else C.value(o, "end_value", end_value)
    if C.number(o, "transition_steps", transition_steps) <= 0 or rate == 0.0:
        return constant(init)  # optax: logging.info(...) and a constant schedule
    steps = C.whole(o, "transition_steps", transition_steps)
    begin = max(C.whole(o, "transition_begin", transition_begin, minimum=-(2**62)), 0)
    if end is None:
        first = init
    else:  # optax clips every step with max (rate < 1) or min (rate >= 1), the delay included
        first = max(init, end) if rate < 1.0 else min(init, end)
    core = constant(first) if rate == 1.0 else exponential(init, rate, steps, staircase=stair, end=end)
    return _delayed(first, core, begin)


def cosine_decay_schedule(
    init_value: Any, decay_steps: Any, alpha: Any = 0.0, exponent: Any = 1.0,
    *, _owner: str = "from_optax(cosine_decay_schedule)",
) -> Schedule:
    o = _owner
    init = C.value(o, "init_value", init_value)
    d = C.number(o, "decay_steps", decay_steps)
    if not d > 0:
        raise ScheduleError(f"{o}: `decay_steps` must be positive (optax raises too). Received: decay_steps={decay_steps!r}")
    a = C.value(o, "alpha", alpha)
    e = C.value(o, "exponent", exponent)
    if e == 1.0:
        return C.cosine_any(init, C.clean(init * a), d)
    if e == 0.0:  # cosine_decay ** 0 == 1
        return constant(init)
    if a > 1.0:
        raise ScheduleError(
            f"{o}: `alpha` must be <= 1 when exponent != 1 (lrkit cannot express the inverted "
            f"curve). Received: alpha={alpha!r}, exponent={exponent!r}"
        )
    # init * ((1 - alpha) * ((1 + cos(pi t / d)) / 2) ** exponent + alpha)
    wave = C.clean(init * (1.0 - a)) * C.cosine_any(1.0, 0.0, d) ** e
    return wave + C.clean(init * a) if a > 0.0 else wave


def piecewise_interpolate_schedule(
    interpolate_type: Any, init_value: Any, boundaries_and_scales: Any = None
) -> Schedule:
    o = "from_optax(piecewise_interpolate_schedule)"
    if interpolate_type not in ("linear", "cosine"):
        raise ScheduleError(
            f"{o}: `interpolate_type` must be 'cosine' or 'linear'. Received: "
            f"interpolate_type={interpolate_type!r}"
        )
    v = C.value(o, "init_value", init_value)
    items = _boundaries_and_scales(o, boundaries_and_scales)
    points = [(0, v)]  # (count, value) knots; optax starts the knots with (0, init_value)
    for b, s in items:
        n = C.integral(b)
        if n is None or n < 0:
            raise ScheduleError(
                f"{o}: the boundaries must be non-negative whole numbers of steps (lrkit has no "
                f"exact curve with knots between or before the steps). Received: boundary={b!r}"
            )
        v = v * s
        if n == points[-1][0]:  # an empty interval: its start value is never used
            points[-1] = (n, v)
        else:
            points.append((n, v))
    if len(points) == 1:
        return constant(points[0][1])
    if interpolate_type == "linear":
        return piecewise_linear([p[0] for p in points], [p[1] for p in points])
    pieces = [cosine(a[1], b[1], b[0] - a[0]) for a, b in zip(points, points[1:])]
    bounds = [p[0] for p in points[1:]]
    return join([*pieces, constant(points[-1][1])], bounds)


def linear_onecycle_schedule(
    transition_steps: Any,
    peak_value: Any,
    pct_start: Any = 0.3,
    pct_final: Any = 0.85,
    div_factor: Any = 25.0,
    final_div_factor: Any = 1e4,
) -> Schedule:
    o = "from_optax(linear_onecycle_schedule)"
    steps = C.number(o, "transition_steps", transition_steps)
    if steps <= 0:
        raise ScheduleError(f"{o}: `transition_steps` must be positive (optax raises too). Received: transition_steps={transition_steps!r}")
    peak = C.value(o, "peak_value", peak_value)
    div = _pos(o, "div_factor", div_factor)
    fdiv = _pos(o, "final_div_factor", final_div_factor)
    ps = C.number(o, "pct_start", pct_start)
    pf = C.number(o, "pct_final", pct_final)
    # optax builds this dict literally (a repeated key keeps the later scale).
    table = {int(ps * steps): div, int(pf * steps): 1.0 / div, _intish(steps): 1.0 / fdiv}
    return piecewise_interpolate_schedule("linear", peak / div, table)


def cosine_onecycle_schedule(
    transition_steps: Any,
    peak_value: Any,
    pct_start: Any = 0.3,
    div_factor: Any = 25.0,
    final_div_factor: Any = 1e4,
) -> Schedule:
    o = "from_optax(cosine_onecycle_schedule)"
    steps = C.number(o, "transition_steps", transition_steps)
    if steps <= 0:
        raise ScheduleError(f"{o}: `transition_steps` must be positive (optax raises too). Received: transition_steps={transition_steps!r}")
    peak = C.value(o, "peak_value", peak_value)
    div = _pos(o, "div_factor", div_factor)
    fdiv = _pos(o, "final_div_factor", final_div_factor)
    ps = C.number(o, "pct_start", pct_start)
    table = {int(ps * steps): div, int(steps): 1.0 / (div * fdiv)}
    return piecewise_interpolate_schedule("cosine", peak / div, table)


def warmup_constant_schedule(init_value: Any, peak_value: Any, warmup_steps: Any) -> Schedule:
    return polynomial_schedule(
        init_value, peak_value, 1.0, warmup_steps, 0, _owner="from_optax(warmup_constant_schedule)"
    )


def warmup_cosine_decay_schedule(
    init_value: Any,
    peak_value: Any,
    warmup_steps: Any,
    decay_steps: Any,
    end_value: Any = 0.0,
    exponent: Any = 1.0,
    *,
    _owner: str = "from_optax(warmup_cosine_decay_schedule)",
) -> Schedule:
    o = _owner
    init = C.value(o, "init_value", init_value)
    peak = C.value(o, "peak_value", peak_value)
    w = C.whole(o, "warmup_steps", warmup_steps, minimum=0)
    d = C.whole(o, "decay_steps", decay_steps, minimum=-(2**62))
    end = C.value(o, "end_value", end_value)
    if d - w <= 0:
        raise ScheduleError(
            f"{o}: `decay_steps` must be greater than `warmup_steps` (it includes the warmup; "
            f"optax raises too). Received: decay_steps={decay_steps!r}, warmup_steps={warmup_steps!r}"
        )
    alpha = 0.0 if peak == 0.0 else end / peak
    decay = cosine_decay_schedule(peak, d - w, alpha, exponent, _owner=o)
    if w == 0:
        return decay
    return join([linear(init, peak, w), decay], [w])


def warmup_exponential_decay_schedule(
    init_value: Any,
    peak_value: Any,
    warmup_steps: Any,
    transition_steps: Any,
    decay_rate: Any,
    transition_begin: Any = 0,
    staircase: Any = False,
    end_value: Any = None,
) -> Schedule:
    o = "from_optax(warmup_exponential_decay_schedule)"
    init = C.value(o, "init_value", init_value)
    peak = C.value(o, "peak_value", peak_value)
    w = C.whole(o, "warmup_steps", warmup_steps, minimum=0)
    decay = exponential_decay(peak, transition_steps, decay_rate, transition_begin, staircase, end_value)
    if w == 0:
        return decay
    return join([linear(init, peak, w), decay], [w])


def sgdr_schedule(cosine_kwargs: Any) -> Schedule:
    o = "from_optax(sgdr_schedule)"
    if isinstance(cosine_kwargs, (str, bytes, Mapping)) or not hasattr(cosine_kwargs, "__iter__"):
        raise TypeError(
            f"{o}: `cosine_kwargs` must be a list of dicts of warmup_cosine_decay_schedule "
            f"arguments. Received: cosine_kwargs={cosine_kwargs!r}"
        )
    schedules: list[Schedule] = []
    boundaries: list[int] = []
    step = 0
    for i, kw in enumerate(cosine_kwargs):
        where = f"cosine_kwargs[{i}]"
        if not isinstance(kw, Mapping):
            raise TypeError(f"{o}: `{where}` must be a dict. Received: {where}={kw!r}")
        bound = _bind(warmup_cosine_decay_schedule, "warmup_cosine_decay_schedule", (), dict(kw), f"{o}: `{where}`")
        schedules.append(warmup_cosine_decay_schedule(*bound.args, **bound.kwargs, _owner=f"{o}[{i}]"))
        step += C.whole(o, f"{where}['decay_steps']", kw["decay_steps"])
        boundaries.append(step)
    if not schedules:
        raise ScheduleError(f"{o}: `cosine_kwargs` must hold at least one dict. Received: cosine_kwargs={cosine_kwargs!r}")
    return join(schedules, boundaries[:-1])


# -- helpers ---------------------------------------------------------------------------------------


def _pos(owner: str, name: str, v: Any) -> float:
    x = C.number(owner, name, v)
    if x <= 0:
        raise ScheduleError(f"{owner}: `{name}` must be a finite positive number. Received: {name}={v!r}")
    return x


def _intish(x: float) -> int | float:
    n = C.integral(x)
    return x if n is None else n


def _boundaries_and_scales(owner: str, table: Any) -> list[tuple[float, float]]:
    if table is None:
        return []
    if not isinstance(table, Mapping):
        raise TypeError(
            f"{owner}: `boundaries_and_scales` must be a dict {{boundary: scale}} or None. "
            f"Received: boundaries_and_scales={table!r} of type {type(table).__name__}"
        )
    items = [
        (C.number(owner, "boundaries_and_scales key", b), C.number(owner, f"boundaries_and_scales[{b!r}]", s))
        for b, s in table.items()
    ]
    if not all(s >= 0.0 for _, s in items):
        raise ScheduleError(
            f"{owner}: the scales must be non-negative (optax raises too). "
            f"Received: boundaries_and_scales={dict(table)!r}"
        )
    return sorted(items)


_PORTS: dict[str, Callable[..., Schedule]] = {
    f.__name__: f
    for f in (
        constant_schedule,
        linear_schedule,
        polynomial_schedule,
        cosine_decay_schedule,
        exponential_decay,
        piecewise_constant_schedule,
        piecewise_interpolate_schedule,
        warmup_cosine_decay_schedule,
        warmup_exponential_decay_schedule,
        warmup_constant_schedule,
        sgdr_schedule,
        cosine_onecycle_schedule,
        linear_onecycle_schedule,
    )
}

# The public signatures (without the private keyword-only ``_owner``).
_SIGNATURES = {
    n: inspect.Signature(
        [
            p.replace(annotation=inspect.Parameter.empty)
            for p in inspect.signature(f).parameters.values()
            if not p.name.startswith("_")
        ]
    )
    for n, f in _PORTS.items()
}


def _bind(fn: Callable[..., Any], name: str, args: tuple[Any, ...], kwargs: dict[str, Any], owner: str) -> inspect.BoundArguments:
    sig = _SIGNATURES[name]
    bad = sorted(k for k in kwargs if k not in sig.parameters)
    if bad:
        raise TypeError(
            f"{owner}: {name} has no argument(s) {bad}; its signature is {name}{sig}. "
            f"Received: {', '.join(f'{k}={kwargs[k]!r}' for k in bad)}"
        )
    try:
        return sig.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{owner}: {e} (signature: {name}{sig}). Received: args={args!r}, kwargs={kwargs!r}") from None


def _resolve(name: Any) -> str:
    if callable(name) and isinstance(getattr(name, "__name__", None), str):
        mod = getattr(name, "__module__", "") or ""
        if mod.split(".")[0] == "optax" and name.__name__ in _PORTS:
            return str(name.__name__)
    if not isinstance(name, str):
        raise TypeError(
            "from_optax: `name` must be the name of an optax schedule function, such as "
            f"'cosine_decay_schedule'. Received: name={name!r} of type {type(name).__name__}"
        )
    short = name
    for prefix in ("optax.schedules.", "optax."):
        if short.startswith(prefix):
            short = short[len(prefix):]
            break
    if short not in _PORTS:
        close = difflib.get_close_matches(short, list(_PORTS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ScheduleError(
            f"from_optax: `name` must be one of {sorted(_PORTS)} (optionally prefixed with "
            f"'optax.' or 'optax.schedules.'). Received: name={name!r}.{hint}"
        )
    return short


def from_optax(name: Any, *args: Any, **kwargs: Any) -> Schedule:
    r"""Port an optax schedule to an lrkit schedule with the same curve.

    ``lk.from_optax("warmup_cosine_decay_schedule", 0.0, 1e-3, 500, 10_000)`` gives the curve of
    ``optax.warmup_cosine_decay_schedule(0.0, 1e-3, 500, 10_000)`` at every step, as a tree of lrkit
    constructors (here ``join([linear(0.0, 0.001, 500), cosine(0.001, 0.0, 9500)], [500])``).

    Every schedule function of ``optax.schedules`` that takes plain numbers is supported:
    ``constant_schedule``, ``linear_schedule``, ``polynomial_schedule``, ``cosine_decay_schedule``,
    ``exponential_decay``, ``piecewise_constant_schedule``, ``piecewise_interpolate_schedule``,
    ``warmup_cosine_decay_schedule``, ``warmup_exponential_decay_schedule``,
    ``warmup_constant_schedule``, ``sgdr_schedule``, ``cosine_onecycle_schedule`` and
    ``linear_onecycle_schedule``. optax's conventions are copied, never fixed: a
    non-positive ``transition_steps`` gives a constant (optax logs), a negative
    ``transition_begin`` counts as 0, ``warmup_cosine_decay_schedule``'s ``decay_steps`` includes
    the warmup, ``exponential_decay``'s ``end_value`` clips from step 0 on.

    optax evaluates in float32 under ``jax.jit``; the port evaluates in float64 (and in float32
    through ``lrkit.backends.optax``), agreeing to float32 precision.

    Args:
      name: the function's name, with or without the ``optax.``/``optax.schedules.`` prefix (the
        optax function object itself is accepted too).
      *args: its positional arguments, bound like optax's signature.
      **kwargs: its keyword arguments.

    Returns:
      An lrkit ``Schedule``.

    Raises:
      ValueError: an unknown name (the message lists the valid ones and a close match), a bad
        value, or a value lrkit cannot reproduce exactly (such as a fractional step count).
      TypeError: arguments that do not bind to the optax signature, or of the wrong kind.

    Examples:
      >>> import lrkit as lk
      >>> lk.from_optax("optax.exponential_decay", 1.0, 10, 0.5, transition_begin=5)
      join([constant(1.0), exponential(1.0, 0.5, 10)], [5])
      >>> s = lk.from_optax("piecewise_constant_schedule", 1.0, {3: 0.5})
      >>> [s(t) for t in range(5)]
      [1.0, 1.0, 1.0, 0.5, 0.5]
    """
    short = _resolve(name)
    bound = _bind(_PORTS[short], short, args, kwargs, f"from_optax({short})")
    return _PORTS[short](*bound.args, **bound.kwargs)

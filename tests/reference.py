"""An independent reference interpreter of ``Schedule.to_config()`` dicts.

``evaluate_config(config, t)`` computes the value of a schedule at step ``t`` in plain Python floats
(float64, ``math`` module only), written straight from SPEC.md section 2 in the textbook form
(``(1 + cos(pi * x)) / 2``, ``if`` on ``t``, loops over pieces and restart cycles) and, for
``cyclic``/``one_cycle``/``cosine_restarts``, from torch's ``CyclicLR``/``OneCycleLR``/
``CosineAnnealingWarmRestarts`` source. It deliberately imports nothing from lrkit, so a test that
compares lrkit with it compares two separate implementations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

__all__ = ["KINDS", "evaluate_config"]

Config = dict[str, Any]


def _floor_div(t: float, k: float) -> float:
    """``floor(t / k)``; exact for integer ``t``."""
    if isinstance(t, int) and isinstance(k, int):
        return t // k
    return math.floor(t / k)


def _pow(base: float, exponent: float) -> float:
    try:
        return float(base**exponent)
    except OverflowError:
        return math.inf
    except ZeroDivisionError:
        return math.inf


def _half_cos(x: float) -> float:
    """``(1 + cos(pi * x)) / 2``: 1 at x=0, 0 at x=1."""
    return (1.0 + math.cos(math.pi * x)) / 2.0


# -- leaves ----------------------------------------------------------------------------------------


def _constant(c: Config, t: float) -> float:
    return float(c["value"])


def _between(v: float, a: float, b: float) -> float:
    """``v`` kept in ``[min(a, b), max(a, b)]``: an identity for an exact interpolation between ``a``
    and ``b``, applied so float rounding cannot take a value below 0 (where a power < 1 would
    magnify it)."""
    return min(max(v, min(a, b)), max(a, b))


def _linear(c: Config, t: float) -> float:
    start, end, steps = c["start"], c["end"], c["steps"]
    return _between(start + (end - start) * min(t, steps) / steps, start, end)


def _cosine(c: Config, t: float) -> float:
    start, end, steps = c["start"], c["end"], c["steps"]
    return _between(end + (start - end) * _half_cos(min(t, steps) / steps), start, end)


def _cosine_wave(c: Config, t: float) -> float:
    start, end, steps = c["start"], c["end"], c["steps"]
    cycles = c.get("cycles", 0.5)
    # The phase t * cycles / steps, exactly (rational arithmetic on the float cycles as given);
    # which cycle a step belongs to is decided by the float phase in transformers' rounding order
    # (cycles * (t / steps)), so a restart lands where transformers puts it.
    k = math.floor(cycles * (t / steps))
    frac = float(Fraction(t) * Fraction(cycles) / Fraction(steps) - k)  # in the cycle, ~[0, 1)
    if c.get("restart", False):
        return end + (start - end) * _half_cos(frac)
    # (1 + cos(2 pi phase)) / 2, with whole turns removed before the cosine.
    return end + (start - end) * (1.0 + math.cos(2.0 * math.pi * frac)) / 2.0


def _exponential(c: Config, t: float) -> float:
    start, rate, every = c["start"], c["rate"], c["every"]
    e = _floor_div(t, every) if c.get("staircase", False) else t / every
    v = 0.0 if start == 0 else start * _pow(rate, e)
    end = c.get("end")
    if end is not None:
        if rate < 1:
            v = max(v, end)
        elif rate > 1:
            v = min(v, end)
    return v


def _polynomial(c: Config, t: float) -> float:
    start, end, steps = c["start"], c["end"], c["steps"]
    p = c.get("power", 1.0)
    if c.get("cycle", False):
        horizon = steps * max(1, math.ceil(t / steps))
        frac = t / horizon
    else:
        frac = min(t, steps) / steps
    return (start - end) * (1.0 - frac) ** p + end


def _step(c: Config, t: float) -> float:
    if c["start"] == 0:
        return 0.0
    return c["start"] * _pow(c["gamma"], _floor_div(t, c["every"]))


def _multistep(c: Config, t: float) -> float:
    n = 0
    for m in c["milestones"]:
        if m <= t:
            n += 1
    return c["start"] * _pow(c["gamma"], n)


def _piecewise_constant(c: Config, t: float) -> float:
    boundaries, values = c["boundaries"], c["values"]
    i = 0
    while i < len(boundaries) and boundaries[i] <= t:
        i += 1
    return float(values[i])


def _piecewise_linear(c: Config, t: float) -> float:
    xs, ys = c["steps"], c["values"]
    if t <= xs[0]:
        return float(ys[0])
    if t >= xs[-1]:
        return float(ys[-1])
    for x0, x1, y0, y1 in zip(xs, xs[1:], ys, ys[1:]):
        if x0 <= t <= x1:
            return _between(y0 + (y1 - y0) * (t - x0) / (x1 - x0), y0, y1)
    raise AssertionError("unreachable")


def _inverse_sqrt(c: Config, t: float) -> float:
    return c["start"] / math.sqrt(1.0 + t / c["timescale"])


def _inverse_time(c: Config, t: float) -> float:
    start, rate, every = c["start"], c["rate"], c["every"]
    q = _floor_div(t, every) if c.get("staircase", False) else t / every
    return start / (1.0 + rate * q)


def _cyclic(c: Config, t: float) -> float:
    # torch.optim.lr_scheduler.CyclicLR: __init__ and get_lr, with last_epoch = t.
    base_lr, max_lr = c["low"], c["high"]
    up = float(c["up"])
    down = float(c["down"]) if c.get("down") is not None else up
    total_size = up + down
    step_ratio = up / total_size
    mode, gamma = c.get("mode", "triangular"), c.get("gamma", 1.0)
    cycle = math.floor(1 + t / total_size)
    x = 1.0 + t / total_size - cycle
    if x <= step_ratio:
        scale_factor = x / step_ratio
    else:
        scale_factor = (x - 1) / (step_ratio - 1)
    base_height = (max_lr - base_lr) * scale_factor
    if mode == "triangular":
        return base_lr + base_height * 1.0
    if mode == "triangular2":
        return base_lr + base_height * (1 / _pow(2.0, cycle - 1))  # torch overflows past cycle 1025
    if mode == "exp_range":
        return base_lr + base_height * _pow(gamma, t)
    raise ValueError(f"reference: unknown cyclic mode {mode!r}")


def _one_cycle(c: Config, t: float) -> float:
    # torch.optim.lr_scheduler.OneCycleLR (total_steps = steps), held past total_steps.
    max_lr, total_steps = c["peak"], c["steps"]
    pct_start = c.get("pct_start", 0.3)
    div_factor = c.get("div_factor", 25.0)
    final_div_factor = c.get("final_div_factor", 1e4)
    anneal = c.get("anneal", "cosine")
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    if c.get("three_phase", False):
        phases = [
            (float(pct_start * total_steps) - 1, initial_lr, max_lr),
            (float(2 * pct_start * total_steps) - 2, max_lr, initial_lr),
            (total_steps - 1, initial_lr, min_lr),
        ]
    else:
        phases = [
            (float(pct_start * total_steps) - 1, initial_lr, max_lr),
            (total_steps - 1, max_lr, min_lr),
        ]

    def anneal_fn(start: float, end: float, pct: float) -> float:
        if anneal == "cosine":
            cos_out = math.cos(math.pi * pct) + 1
            return end + (start - end) / 2.0 * cos_out
        return (end - start) * pct + start

    step_num = min(t, total_steps)
    start_step = 0.0
    for i, (end_step, lr0, lr1) in enumerate(phases):
        if step_num <= end_step or i == len(phases) - 1:
            pct = (step_num - start_step) / (end_step - start_step)
            # torch extrapolates one step past the last phase at step_num == total_steps; a
            # learning rate below 0 there is clipped to 0 (lrkit's documented deviation).
            return max(anneal_fn(lr0, lr1, pct), 0.0)
        start_step = end_step
    raise AssertionError("unreachable")


def _cosine_restarts(c: Config, t: float) -> float:
    # SGDR / torch CosineAnnealingWarmRestarts: cycle i lasts period * period_mult ** i steps.
    start, end, period = c["start"], c["end"], c["period"]
    mult, decay = c.get("period_mult", 1.0), c.get("decay", 1.0)
    if mult == 1:
        i, t_cur = divmod(t, period)
        t_i = period
    else:
        # Exact rational arithmetic on the number as written (1.1 is 11/10): cycle starts are
        # compared with the step without rounding, so period=30, period_mult=1.1 restarts at 63.
        m, tt = Fraction(repr(float(mult))), Fraction(t)
        i, begin, length = 0, Fraction(0), Fraction(period)
        while tt >= begin + length:
            begin += length
            length *= m
            i += 1
        t_cur, t_i = float(tt - begin), float(length)
    top = start * _pow(decay, i) if start != 0 else 0.0
    return end + (top - end) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


def _restarts(c: Config, t: float) -> float:
    # timm's CosineLRScheduler / TanhLRScheduler / PolyLRScheduler._get_lr (k-decay, cycle_limit), with
    # the cycle found in exact rational arithmetic as in _cosine_restarts.
    start, end, period = c["start"], c["end"], c["period"]
    mult, decay, limit = c.get("period_mult", 1.0), c.get("decay", 1.0), c.get("limit")
    k, shape = c.get("k", 1.0), c.get("shape", "cosine")
    if mult == 1:
        i, t_cur = divmod(t, period)
        t_i = period
    else:
        m, tt = Fraction(repr(float(mult))), Fraction(t)
        i, begin, length = 0, Fraction(0), Fraction(period)
        while tt >= begin + length and (limit is None or i < limit):
            begin += length
            length *= m
            i += 1
        t_cur, t_i = float(tt - begin), float(length)
    if limit is not None and i >= limit:
        return float(end)
    top = start * _pow(decay, i) if start != 0 else 0.0
    x = t_cur**k / t_i**k
    if shape == "cosine":
        return end + 0.5 * (top - end) * (1 + math.cos(math.pi * x))
    if shape == "tanh":
        lb, ub = c.get("lb", -7.0), c.get("ub", 3.0)
        return end + 0.5 * (top - end) * (1 - math.tanh(lb * (1.0 - x) + ub * x))
    if shape == "polynomial":
        return end + (top - end) * (1 - x) ** c.get("power", 1.0)
    raise ValueError(f"reference: unknown restarts shape {shape!r}")


def _warmup_stable_decay(c: Config, t: float) -> float:
    peak, w, s, d = c["peak"], c["warmup"], c["stable"], c["decay"]
    end, shape = c.get("end", 0.0), c.get("shape", "linear")
    if t < w:
        return peak * t / w
    if t < w + s:
        return float(peak)
    x = min(t - w - s, d) / d  # fraction of the decay done
    if shape == "linear":
        return peak + (end - peak) * x
    if shape == "cosine":
        return end + (peak - end) * (1 + math.cos(math.pi * x)) / 2
    if shape == "sqrt":
        return end + (peak - end) * (1 - math.sqrt(x))
    if shape == "square":
        return end + (peak - end) * (1 - x * x)
    raise ValueError(f"reference: unknown warmup_stable_decay shape {shape!r}")


# -- composition -----------------------------------------------------------------------------------


def _join(c: Config, t: float) -> float:
    schedules, boundaries = c["schedules"], c["boundaries"]
    i, offset = 0, 0
    for b in boundaries:
        if t >= b:
            i, offset = i + 1, b
    return evaluate_config(schedules[i], t - offset)


def _warmup(c: Config, t: float) -> float:
    child, steps = c["schedule"], c["steps"]
    start, shape = c.get("start", 0.0), c.get("shape", "linear")
    if t >= steps:
        return evaluate_config(child, t if c.get("overlay", False) else t - steps)
    target = evaluate_config(child, 0)
    w = t / steps
    if shape == "linear":
        return start + (target - start) * w
    if shape == "cosine":
        return start + (target - start) * (1 - math.cos(math.pi * w)) / 2
    if shape == "exponential":
        return start * (target / start) ** w
    raise ValueError(f"reference: unknown warmup shape {shape!r}")


def _per_epoch(c: Config, t: float) -> float:
    return evaluate_config(c["schedule"], _floor_div(t, c["steps_per_epoch"]))


def _shift(c: Config, t: float) -> float:
    return evaluate_config(c["schedule"], t + c["steps"])


def _product(c: Config, t: float) -> float:
    out = 1.0
    for child in c["schedules"]:
        out *= evaluate_config(child, t)
    return out


def _sum(c: Config, t: float) -> float:
    return sum(evaluate_config(child, t) for child in c["schedules"])


def _scale(c: Config, t: float) -> float:
    return c["factor"] * evaluate_config(c["schedule"], t)


def _power(c: Config, t: float) -> float:
    return _pow(evaluate_config(c["schedule"], t), c["exponent"])


def _cooldown(c: Config, t: float) -> float:
    at, steps, end, shape = c["at"], c["steps"], c.get("end", 0.0), c.get("shape", "linear")
    if t < at:
        return evaluate_config(c["schedule"], t)
    v0 = evaluate_config(c["schedule"], at)
    x = min(t - at, steps) / steps  # fraction of the cooldown done
    if shape == "linear":
        return v0 + (end - v0) * x
    if shape == "cosine":
        return end + (v0 - end) * (1 + math.cos(math.pi * x)) / 2
    if shape == "sqrt":
        return end + (v0 - end) * (1 - math.sqrt(x))
    if shape == "square":
        return end + (v0 - end) * (1 - x**2)
    raise ValueError(f"reference: unknown cooldown shape {shape!r}")


def _rounded(c: Config, t: float) -> float:
    """Round half to even; a value within 4 ulps of a half counts as the half (lrkit's documented rule,
    so a half computed with a rounding error still rounds to even)."""
    v = evaluate_config(c["schedule"], t)
    r = math.floor(v)
    if abs((v - r) - 0.5) <= 4 * 2.0**-52 * max(v, 1.0):
        return float(r if r % 2 == 0 else r + 1)
    return float(round(v))


def _settles(c: Config) -> int:
    """The step after which a batch-size schedule (constant, linear, piecewise_constant, warmup,
    join, rounded) no longer changes."""
    kind = c["type"]
    if kind == "constant":
        return 0
    if kind == "linear":
        return c["steps"]
    if kind == "piecewise_constant":
        return c["boundaries"][-1] if c["boundaries"] else 0
    if kind == "warmup":
        inner = _settles(c["schedule"])
        return max(c["steps"], inner) if c.get("overlay", False) else c["steps"] + inner
    if kind == "join":
        return (c["boundaries"][-1] if c["boundaries"] else 0) + _settles(c["schedules"][-1])
    if kind == "rounded":
        return _settles(c["schedule"])
    raise ValueError(f"reference: {kind} is not a batch-size schedule")


def tokens_before(batch: Config, t: int) -> int:
    """Brute force: the batch sizes of steps 0 .. t-1 added one by one (then the settled value times
    the remaining steps)."""
    settle = _settles(batch)
    total = 0
    for j in range(min(t, settle + 1)):
        b = evaluate_config(batch, j)
        assert abs(b - round(b)) < 1e-6, f"batch size {b} at step {j} is not whole"
        total += round(b)
    if t > settle + 1:
        total += (t - settle - 1) * round(evaluate_config(batch, settle + 1))
    return total


def _per_tokens(c: Config, t: float) -> float:
    assert float(t).is_integer(), "per_tokens is defined at whole steps"
    return evaluate_config(c["schedule"], tokens_before(c["tokens_per_step"], int(t)))


_KINDS: dict[str, Callable[[Config, float], float]] = {
    "constant": _constant,
    "linear": _linear,
    "cosine": _cosine,
    "cosine_wave": _cosine_wave,
    "exponential": _exponential,
    "polynomial": _polynomial,
    "step": _step,
    "multistep": _multistep,
    "piecewise_constant": _piecewise_constant,
    "piecewise_linear": _piecewise_linear,
    "inverse_sqrt": _inverse_sqrt,
    "inverse_time": _inverse_time,
    "cyclic": _cyclic,
    "one_cycle": _one_cycle,
    "cosine_restarts": _cosine_restarts,
    "restarts": _restarts,
    "warmup_stable_decay": _warmup_stable_decay,
    "join": _join,
    "warmup": _warmup,
    "per_epoch": _per_epoch,
    "shift": _shift,
    "product": _product,
    "sum": _sum,
    "scale": _scale,
    "power": _power,
    "cooldown": _cooldown,
    "rounded": _rounded,
    "per_tokens": _per_tokens,
}

#: Every node type the reference understands (a test checks this equals lrkit's registry).
KINDS = frozenset(_KINDS)


def evaluate_config(config: dict, t: int | float) -> float:
    """The value at step ``t`` of the schedule described by ``config`` (a ``to_config()`` dict)."""
    if t < 0 or t != t:
        raise ValueError(f"reference: step must be non-negative, got {t!r}")
    kind = config["type"]
    if kind not in _KINDS:
        raise ValueError(f"reference: unknown schedule type {kind!r}")
    return float(_KINDS[kind](config, t))

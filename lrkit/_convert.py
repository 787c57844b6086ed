"""``lrkit convert``: the native torch / Keras / optax code that produces the same curve as a schedule.

Each converter returns a :class:`Native` (a self-contained snippet plus the last step up to which it
matches lrkit) or a one-line reason why no native equivalent exists. Snippets define ``optimizer`` and
``scheduler`` (torch: read ``optimizer.param_groups[0]["lr"]``, then ``optimizer.step();
scheduler.step()``), ``schedule`` (Keras and optax: call it with the step) or ``learning_rate`` (a
plain number). Only exact equivalents are offered (up to the native's float precision); a native that
agrees only up to some step says so (``until``). This module never imports a framework.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from lrkit._base import Schedule
from lrkit._compose import Join, Warmup
from lrkit._schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    CosineWave,
    Cyclic,
    Exponential,
    InverseTime,
    Linear,
    MultiStep,
    OneCycle,
    PiecewiseConstant,
    Polynomial,
    Step,
)

FRAMEWORKS = ("torch", "keras", "optax")


@dataclass(frozen=True)
class Native:
    """Native code equal to a schedule.

    Attributes:
      framework: ``"torch"``, ``"keras"`` or ``"optax"``.
      code: a runnable snippet (imports included).
      until: the snippet matches lrkit for every step ``<= until``; ``None`` means every step.
      note: what differs past ``until`` (empty when ``until`` is ``None``).
    """

    framework: str
    code: str
    until: int | None = None
    note: str = ""


def natives(schedule: Schedule) -> dict[str, Native | str]:
    """Map each framework to its native equivalent of ``schedule``, or to why there is none."""
    s = _normalise(schedule)
    out: dict[str, Native | str] = {}
    for fw, fn in (("torch", _torch), ("keras", _keras), ("optax", _optax)):
        got = fn(s)
        out[fw] = got if isinstance(got, Native) else f"no native equivalent in {fw}" + (f": {got}" if got else "")
    return out


def _normalise(s: Schedule) -> Schedule:
    """``warmup(x, w, start)`` with a linear, non-overlaid ramp is ``join([linear(start, x(0), w), x], [w])``."""
    if isinstance(s, Warmup) and s.shape == "linear" and not s.overlay:
        return Join((Linear(s.start, float(s.schedule(0)), s.steps), _normalise(s.schedule)), (s.steps,))
    return s


def _warmup_cosine(s: Schedule) -> tuple[float, float, int, float, int] | None:
    """``(init, peak, warmup, end, decay)`` if ``s`` is ``join([linear(init, peak, w), cosine(peak, end, n)], [w])``."""
    if isinstance(s, Join) and len(s.schedules) == 2:
        a, b = s.schedules
        w = s.boundaries[0]
        # warmup() ramps to schedule(0), which may differ from the cosine's `start` in the last bit.
        if (isinstance(a, Linear) and isinstance(b, Cosine) and a.steps == w
                and abs(a.end - b.start) <= 1e-12 * abs(b.start)):
            return a.start, a.end, w, b.end, b.steps
    return None


def _r(x: float) -> str:
    return repr(float(x))


def _ratio(a: float, b: float) -> str:
    """``a / b`` as code: its value when that prints short (``0.5``), else the division itself
    (``3e-06 / 0.0003`` rather than ``0.010000000000000002``): the same float either way."""
    q = repr(float(a) / float(b))
    return q if len(q) <= 12 else f"{_r(a)} / {_r(b)}"


# -- torch --------------------------------------------------------------------------------------

_TORCH_HEAD = "import torch\n\noptimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr={lr})\n"


def _torch_code(lr: float, sched: str) -> str:
    return _TORCH_HEAD.format(lr=_r(lr)) + f"scheduler = torch.optim.lr_scheduler.{sched}\n"


def _torch(s: Schedule) -> Native | str:
    T = "torch"
    if isinstance(s, Constant):
        return Native(T, _torch_code(s.value, "ConstantLR(optimizer, factor=1.0, total_iters=0)"))
    if isinstance(s, Linear):
        hi = max(s.start, s.end)
        if s.start <= 0.0:
            return "torch LinearLR needs start_factor > 0 (a ramp from 0 is not expressible)"
        return Native(T, _torch_code(hi, (
            f"LinearLR(optimizer, start_factor={_ratio(s.start, hi)}, end_factor={_ratio(s.end, hi)}, "
            f"total_iters={s.steps})"
        )))
    if isinstance(s, Cosine):
        return Native(
            T, _torch_code(s.start, f"CosineAnnealingLR(optimizer, T_max={s.steps}, eta_min={_r(s.end)})"),
            until=s.steps,
            note="CosineAnnealingLR rises again after T_max; lrkit.cosine holds `end` (lrkit.cosine_wave rises)",
        )
    if isinstance(s, CosineWave) and s.cycles == 0.5 and not s.restart:
        return Native(T, _torch_code(s.start, f"CosineAnnealingLR(optimizer, T_max={s.steps}, eta_min={_r(s.end)})"))
    if isinstance(s, Exponential) and s.end is None and (s.every == 1 or s.staircase):
        if s.every == 1:
            return Native(T, _torch_code(s.start, f"ExponentialLR(optimizer, gamma={_r(s.rate)})"))
        return Native(T, _torch_code(s.start, f"StepLR(optimizer, step_size={s.every}, gamma={_r(s.rate)})"))
    if isinstance(s, Polynomial) and s.end == 0.0 and not s.cycle:
        return Native(T, _torch_code(s.start, f"PolynomialLR(optimizer, total_iters={s.steps}, power={_r(s.power)})"))
    if isinstance(s, Step):
        return Native(T, _torch_code(s.start, f"StepLR(optimizer, step_size={s.every}, gamma={_r(s.gamma)})"))
    if isinstance(s, MultiStep):
        return Native(T, _torch_code(s.start, f"MultiStepLR(optimizer, milestones={list(s.milestones)}, gamma={_r(s.gamma)})"))
    if isinstance(s, Cyclic):
        down = "None" if s.down is None else str(s.down)
        return Native(T, _torch_code(s.low, (
            f"CyclicLR(optimizer, base_lr={_r(s.low)}, max_lr={_r(s.high)}, step_size_up={s.up}, "
            f"step_size_down={down}, mode={s.mode!r}, gamma={_r(s.gamma)}, cycle_momentum=False)"
        )))
    if isinstance(s, OneCycle):
        anneal = "cos" if s.anneal == "cosine" else "linear"
        return Native(T, _torch_code(s.peak, (
            f"OneCycleLR(optimizer, max_lr={_r(s.peak)}, total_steps={s.steps}, pct_start={_r(s.pct_start)}, "
            f"anneal_strategy={anneal!r}, div_factor={_r(s.div_factor)}, "
            f"final_div_factor={_r(s.final_div_factor)}, three_phase={s.three_phase}, cycle_momentum=False)"
        )), until=s.steps - 1,
            note="OneCycleLR extrapolates past its last step at step total_steps and raises after it")
    if isinstance(s, CosineRestarts):
        if s.decay != 1.0 or s.period_mult != int(s.period_mult):
            return "CosineAnnealingWarmRestarts has no restart decay and needs an integer T_mult"
        return Native(T, _torch_code(s.start, (
            f"CosineAnnealingWarmRestarts(optimizer, T_0={s.period}, T_mult={int(s.period_mult)}, eta_min={_r(s.end)})"
        )))
    wc = _warmup_cosine(s)
    if wc is not None:
        init, peak, w, end, n = wc
        if init <= 0.0 or peak <= 0.0 or init > peak:
            return "torch LinearLR needs 0 < start_factor <= 1 (a warmup from 0 is not expressible)"
        code = _TORCH_HEAD.format(lr=_r(peak)) + (
            "scheduler = torch.optim.lr_scheduler.SequentialLR(\n"
            "    optimizer,\n"
            "    schedulers=[\n"
            f"        torch.optim.lr_scheduler.LinearLR(optimizer, start_factor={_ratio(init, peak)}, "
            f"end_factor=1.0, total_iters={w}),\n"
            f"        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max={n}, eta_min={_r(end)}),\n"
            "    ],\n"
            f"    milestones=[{w}],\n"
            ")\n"
        )
        return Native(T, code, until=w + n, note="CosineAnnealingLR rises again after T_max; lrkit holds `end`")
    return ""


# -- Keras --------------------------------------------------------------------------------------


def _keras_code(expr: str) -> str:
    return f"import keras\n\nschedule = keras.optimizers.schedules.{expr}\n"


def _keras(s: Schedule) -> Native | str:
    K = "keras"
    if isinstance(s, Constant):
        return Native(K, f"learning_rate = {_r(s.value)}  # a constant needs no schedule object\n")
    if isinstance(s, Linear):
        return Native(K, _keras_code(
            f"PolynomialDecay(initial_learning_rate={_r(s.start)}, decay_steps={s.steps}, "
            f"end_learning_rate={_r(s.end)}, power=1.0)"
        ))
    if isinstance(s, Polynomial):
        return Native(K, _keras_code(
            f"PolynomialDecay(initial_learning_rate={_r(s.start)}, decay_steps={s.steps}, "
            f"end_learning_rate={_r(s.end)}, power={_r(s.power)}, cycle={s.cycle})"
        ))
    if isinstance(s, Cosine):
        if s.start <= 0.0:
            return "CosineDecay expresses the end value as a fraction of a positive start"
        return Native(K, _keras_code(
            f"CosineDecay(initial_learning_rate={_r(s.start)}, decay_steps={s.steps}, alpha={_ratio(s.end, s.start)})"
        ))
    if isinstance(s, (Exponential, Step)):
        if isinstance(s, Exponential) and s.end is not None:
            return "ExponentialDecay has no end value"
        rate, stair = (s.rate, s.staircase) if isinstance(s, Exponential) else (s.gamma, True)
        return Native(K, _keras_code(
            f"ExponentialDecay(initial_learning_rate={_r(s.start)}, decay_steps={s.every}, "
            f"decay_rate={_r(rate)}, staircase={stair})"
        ))
    if isinstance(s, InverseTime):
        return Native(K, _keras_code(
            f"InverseTimeDecay(initial_learning_rate={_r(s.start)}, decay_steps={s.every}, "
            f"decay_rate={_r(s.rate)}, staircase={s.staircase})"
        ))
    if isinstance(s, (MultiStep, PiecewiseConstant)):
        if isinstance(s, MultiStep):
            counts = sorted(Counter(s.milestones).items())
            bounds = [m for m, _ in counts]
            values, k = [s.start], 0
            for _, c in counts:
                k += c
                values.append(s.start * s.gamma**k)
        else:
            bounds, values = list(s.boundaries), list(s.values)
        if not bounds:
            return Native(K, f"learning_rate = {_r(values[0])}  # a constant needs no schedule object\n")
        # Keras keeps values[i] while step <= boundaries[i]: shift each boundary one step earlier.
        return Native(K, _keras_code(
            f"PiecewiseConstantDecay(boundaries={[b - 1 for b in bounds]}, values={[float(v) for v in values]})"
            "  # Keras switches one step after each boundary"
        ))
    if isinstance(s, CosineRestarts):
        if s.start <= 0.0 or (s.decay != 1.0 and s.end != 0.0):
            return "CosineDecayRestarts scales the end value along with the restart decay"
        return Native(K, _keras_code(
            f"CosineDecayRestarts(initial_learning_rate={_r(s.start)}, first_decay_steps={s.period}, "
            f"t_mul={_r(s.period_mult)}, m_mul={_r(s.decay)}, alpha={_ratio(s.end, s.start)})"
        ))
    wc = _warmup_cosine(s)
    if wc is not None:
        init, peak, w, end, n = wc
        if peak <= 0.0:
            return "CosineDecay expresses the end value as a fraction of a positive peak"
        return Native(K, _keras_code(
            f"CosineDecay(initial_learning_rate={_r(init)}, decay_steps={n}, alpha={_ratio(end, peak)}, "
            f"warmup_target={_r(peak)}, warmup_steps={w})  # decay_steps excludes the warmup"
        ))
    return ""


# -- optax --------------------------------------------------------------------------------------


def _optax_expr(s: Schedule) -> tuple[str, int | None] | None:
    """``(expression, until)`` for ``s`` in optax, or ``None``."""
    if isinstance(s, Constant):
        return f"optax.constant_schedule({_r(s.value)})", None
    if isinstance(s, Linear):
        return (f"optax.linear_schedule(init_value={_r(s.start)}, end_value={_r(s.end)}, "
                f"transition_steps={s.steps})"), None
    if isinstance(s, Cosine) and s.start > 0.0:
        return (f"optax.cosine_decay_schedule(init_value={_r(s.start)}, decay_steps={s.steps}, "
                f"alpha={_ratio(s.end, s.start)})"), None
    if isinstance(s, Polynomial) and not s.cycle:
        return (f"optax.polynomial_schedule(init_value={_r(s.start)}, end_value={_r(s.end)}, "
                f"power={_r(s.power)}, transition_steps={s.steps})"), None
    if isinstance(s, Exponential):
        end = f", end_value={_r(s.end)}" if s.end is not None and s.rate != 1.0 else ""
        return (f"optax.exponential_decay(init_value={_r(s.start)}, transition_steps={s.every}, "
                f"decay_rate={_r(s.rate)}, staircase={s.staircase}{end})"), None
    if isinstance(s, Step):
        return (f"optax.exponential_decay(init_value={_r(s.start)}, transition_steps={s.every}, "
                f"decay_rate={_r(s.gamma)}, staircase=True)"), None
    if isinstance(s, MultiStep):
        scales = {m: s.gamma**c for m, c in sorted(Counter(s.milestones).items())}
        return f"optax.piecewise_constant_schedule(init_value={_r(s.start)}, boundaries_and_scales={scales})", None
    if isinstance(s, PiecewiseConstant) and all(v > 0.0 for v in s.values[:-1]):
        scales = {b: s.values[i + 1] / s.values[i] for i, b in enumerate(s.boundaries)}
        return f"optax.piecewise_constant_schedule(init_value={_r(s.values[0])}, boundaries_and_scales={scales})", None
    wc = _warmup_cosine(s)
    if wc is not None:
        init, peak, w, end, n = wc
        return (f"optax.warmup_cosine_decay_schedule(init_value={_r(init)}, peak_value={_r(peak)}, "
                f"warmup_steps={w}, decay_steps={w + n}, end_value={_r(end)})"), None
    if isinstance(s, Join):
        parts, until = [], None
        edges = (0, *s.boundaries)
        for i, child in enumerate(s.schedules):
            got = _optax_expr(_normalise(child))
            if got is None:
                return None
            expr, u = got
            parts.append(expr)
            if u is not None and until is None:
                last = i == len(s.schedules) - 1
                if last or edges[i] + u < edges[i + 1] - 1:
                    until = edges[i] + u
        inner = ",\n        ".join(parts)
        return (f"optax.join_schedules(\n    schedules=[\n        {inner},\n    ],\n"
                f"    boundaries={list(s.boundaries)},\n)"), until
    return None


def _optax(s: Schedule) -> Native | str:
    got = _optax_expr(s)
    if got is None:
        return ""
    expr, until = got
    return Native("optax", f"import optax\n\nschedule = {expr}\n", until=until)


def render(schedule: Schedule, total_steps: int | None = None) -> str:
    """The text ``lrkit convert`` prints: the JSON config, then one section per framework.

    A schedule with percentages of the run keeps them in its config; the torch / Keras / optax code
    is for the schedule bound to ``total_steps`` (or says that it needs it), and the transformers /
    composer / timm sections offer the trainers' own fractions of the run where they exist.
    """
    import json

    from lrkit._convert_run import render_trainers

    lines = [f"# lrkit: {schedule!r}"]
    bound = schedule.bind(total_steps) if total_steps is not None else schedule
    if bound is not schedule:
        lines.append(f"# with total_steps={total_steps}: {bound!r}")
    lines += ["# JSON config (save it to a file to use it as a SPEC; lrkit.from_config reads it):",
              json.dumps(schedule.to_config(), indent=2)]
    if bound.unbound:
        for fw in FRAMEWORKS:
            lines += ["", f"# ---- {fw} ----",
                      f"# {fw} takes durations in steps: pass --total-steps N to resolve the percentages"]
        return "\n".join([*lines, *render_trainers(schedule, total_steps)]) + "\n"
    for fw, got in natives(bound).items():
        lines.append("")
        lines.append(f"# ---- {fw} ----")
        if isinstance(got, str):
            lines.append(f"# {got}")
            continue
        lines.append(got.code.rstrip("\n"))
        if got.until is not None:
            lines.append(f"# identical to lrkit for steps 0..{got.until}; after that: {got.note}")
        else:
            precision = "float64" if fw == "torch" else "float32"
            lines.append(f"# identical to lrkit at every step (up to {precision} rounding)")
    return "\n".join([*lines, *render_trainers(schedule, total_steps)]) + "\n"

"""``lrkit convert`` for recipes written against the run: transformers, composer and timm equivalents.

The torch / Keras / optax natives (``lrkit._convert``) take durations in steps, so a schedule with
percentages of the run is converted once bound (``--total-steps``). Some trainers take the fraction
of the run themselves: transformers' ``warmup_steps=0.05`` (``warmup_ratio`` before transformers 5),
composer's ``"0.05dur"`` time strings. Each rounds the fraction its own way (transformers up,
composer down, lrkit to the nearest step), so the snippet is exact only where the roundings agree;
the text says where, or for the given ``total_steps`` whether they do. timm's schedulers take
updates (``t_in_epochs=False``); they are printed for schedules in steps.

The recipes recognised are the ones these trainers share: a linear warmup (from 0 for
transformers and composer) into a cosine or linear decay that ends with the run, or into a constant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from lrkit._base import Schedule
from lrkit._compose import Join, Warmup
from lrkit._errors import Percent
from lrkit._schedules import Constant, Cosine, Linear
from lrkit._time import round_half_up

#: Trainers whose snippets ``render`` adds after torch / Keras / optax.
TRAINERS = ("transformers", "composer", "timm")


@dataclass(frozen=True)
class _Recipe:
    shape: str  # "cosine", "linear" or "constant"
    lr: float
    end: float
    start: float
    warmup: Any  # int steps or Percent (0 for no warmup)
    decay: Any  # int steps, Percent, or None for a constant


def _recipe(s: Schedule) -> _Recipe | None:
    """``s`` as warmup + (cosine | linear | constant), written with ``warmup`` or ``join``."""
    w: Any = 0
    start = 0.0
    body = s
    if isinstance(s, Warmup) and s.shape == "linear" and not s.overlay:
        w, start, body = s.steps, s.start, s.schedule
    elif isinstance(s, Join) and len(s.schedules) == 2:
        ramp, body = s.schedules
        if not (isinstance(ramp, Linear) and ramp.steps == s.boundaries[0]):
            return None
        w, start = ramp.steps, ramp.start
        if not isinstance(body, (Cosine, Linear, Constant)) or _first(body) != ramp.end:
            return None
    if isinstance(body, Constant):
        return _Recipe("constant", body.value, body.value, start, w, None)
    if isinstance(body, (Cosine, Linear)):
        return _Recipe("cosine" if isinstance(body, Cosine) else "linear", body.start, body.end, start, w, body.steps)
    return None


def _first(s: Schedule) -> float:
    return s.value if isinstance(s, Constant) else s.start  # type: ignore[attr-defined, no-any-return]


def _r(x: float) -> str:
    return repr(float(x))


def _pct(p: Percent) -> str:
    return _r(float(p.fraction / 100))


def _whole_run(r: _Recipe) -> bool:
    """Do the warmup and the decay, in percent, name the whole run?"""
    if r.decay is None:
        return isinstance(r.warmup, Percent)
    return isinstance(r.warmup, Percent) and isinstance(r.decay, Percent) and r.warmup.fraction + r.decay.fraction == 100


def _steps(r: _Recipe, total_steps: int | None) -> tuple[int, int | None] | None:
    """``(warmup, end of the decay)`` in steps, or ``None`` if a percentage needs ``total_steps``.

    Percentages are resolved as ``Schedule.bind`` does: the warmup's end, then the decay's, each
    rounded half up as a position in the run.
    """
    w, d = r.warmup, r.decay
    if isinstance(w, Percent) or isinstance(d, Percent):
        if total_steps is None:
            return None
        x_w = Fraction(w.fraction) * total_steps / 100 if isinstance(w, Percent) else Fraction(w)
        w_steps = round_half_up(x_w)
        if d is None:
            return w_steps, None
        x_d = Fraction(d.fraction) * total_steps / 100 if isinstance(d, Percent) else Fraction(d)
        return w_steps, round_half_up(x_w + x_d)
    return w, (w + d if d is not None else None)


def _agreement(name: str, ours: int | None, theirs: int, n: int, how: str) -> str:
    if ours == theirs:
        return f"# identical to lrkit for total_steps={n} (both warm up for {theirs} steps)"
    return (f"# for total_steps={n} {name} warms up for {theirs} steps ({how}) and lrkit for {ours}: "
            f"pass the warmup as {ours} steps to get lrkit's curve exactly")


# -- transformers -------------------------------------------------------------------------------------


def _transformers(r: _Recipe | None, total_steps: int | None) -> str:
    if r is None:
        return "# no transformers equivalent: it schedules a linear warmup into cosine, linear or constant"
    if r.start != 0.0:
        return "# no transformers equivalent: its warmups start from 0"
    kind = {"cosine": "cosine", "linear": "linear", "constant": "constant_with_warmup"}[r.shape]
    if r.shape != "constant" and r.end != 0.0:
        return f"# no transformers equivalent: its {kind} schedule decays to 0 (lrkit ends at {r.end!r})"
    head = "from transformers import TrainingArguments\n\n"
    if _whole_run(r):
        ratio = float(r.warmup.fraction / 100)
        code = (f"{head}args = TrainingArguments(output_dir=\"out\", learning_rate={_r(r.lr)}, "
                f"lr_scheduler_type={kind!r}, warmup_steps={ratio!r})  # transformers < 5: warmup_ratio={ratio!r}")
        if total_steps is None:
            note = (f"# identical to lrkit wherever math.ceil(N * {ratio!r}) (transformers rounds the warmup up) "
                    f"equals lrkit's warmup ({r.warmup} of N, rounded to nearest)")
        else:
            ours = _steps(r, total_steps)
            note = _agreement("transformers", ours[0] if ours else None, math.ceil(total_steps * ratio), total_steps,
                              f"math.ceil({total_steps} * {ratio!r})")
        return f"{code}\n{note}"
    got = _steps(r, total_steps)
    if got is None:
        return "# transformers: pass --total-steps N (the warmup and decay do not name the whole run in percent)"
    w, n = got
    if n is None:
        code = (f"{head}args = TrainingArguments(output_dir=\"out\", learning_rate={_r(r.lr)}, "
                f"lr_scheduler_type={kind!r}, warmup_steps={w})")
        return f"{code}\n# identical to lrkit at every step"
    if w < 1:
        return "# no transformers equivalent: the warmup rounds to 0 steps"
    code = (f"{head}args = TrainingArguments(output_dir=\"out\", learning_rate={_r(r.lr)}, "
            f"lr_scheduler_type={kind!r}, warmup_steps={w}, max_steps={n})")
    return f"{code}\n# identical to lrkit for steps 0..{n} (the run ends there)"


# -- composer -----------------------------------------------------------------------------------------


def _composer(r: _Recipe | None, total_steps: int | None) -> str:
    if r is None:
        return "# no composer equivalent: it schedules a linear warmup into cosine, linear or constant"
    if r.start != 0.0:
        return "# no composer equivalent: its warmups start from 0"
    if r.lr <= 0.0:
        return "# no composer equivalent: its schedulers multiply a positive learning rate"
    alpha = r.end / r.lr
    whole = _whole_run(r)
    got = _steps(r, total_steps)
    if whole:
        tw, tmax = f"{float(r.warmup.fraction / 100)!r}dur", "1dur"
    elif got is not None:
        tw, tmax = f"{got[0]}ba", f"{got[1]}ba" if got[1] is not None else "1dur"
    else:
        return "# composer: pass --total-steps N (the warmup and decay do not name the whole run in percent)"
    sched = {
        "cosine": f"CosineAnnealingWithWarmupScheduler(t_warmup={tw!r}, t_max={tmax!r}, alpha_f={_r(alpha)})",
        "linear": f"LinearWithWarmupScheduler(t_warmup={tw!r}, alpha_i=1.0, alpha_f={_r(alpha)}, t_max={tmax!r})",
        "constant": f"ConstantWithWarmupScheduler(t_warmup={tw!r})",
    }[r.shape]
    run = f"{total_steps}ba" if total_steps is not None else (tmax if tmax.endswith("ba") else "<N>ba")
    code = (
        "from composer.optim.scheduler import " + sched.split("(")[0] + "\n\n"
        f"scheduler = {sched}\n"
        f"# Trainer(..., max_duration={run!r}, schedulers=[scheduler], optimizers=<optimizer with lr={_r(r.lr)}>)\n"
        "# scale_schedule_ratio=k corresponds to lrkit.stretch(schedule, k), except that composer truncates "
        "and leaves the warmup as it is"
    )
    if whole:
        frac = float(r.warmup.fraction / 100)
        if total_steps is None:
            note = (f"# identical to lrkit wherever int(N * {frac!r}) (composer truncates the warmup) equals "
                    f"lrkit's warmup ({r.warmup} of N, rounded to nearest)")
        else:
            ours = got[0] if got else None
            note = _agreement("composer", ours, int(frac * total_steps), total_steps, f"int({frac!r} * {total_steps})")
        return f"{code}\n{note}"
    return f"{code}\n# identical to lrkit at every step (one batch per step)"


# -- timm -------------------------------------------------------------------------------------------------


def _timm(r: _Recipe | None, total_steps: int | None) -> str:
    if r is None or r.shape == "constant":
        return "# no timm equivalent: timm schedules cosine, tanh, step, multistep and poly decays (with warmups)"
    got = _steps(r, total_steps)
    if got is None:
        return "# timm: pass --total-steps N (timm takes durations in updates, not fractions of the run)"
    w, n = got
    d = n - w  # type: ignore[operator]
    cls = "CosineLRScheduler" if r.shape == "cosine" else "PolyLRScheduler"
    extra = "" if r.shape == "cosine" else ", power=1.0"
    warm = f", warmup_t={w}, warmup_lr_init={_r(r.start)}, warmup_prefix=True" if w else ""
    code = (
        "import torch\n"
        f"from timm.scheduler import {cls}\n\n"
        f"optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr={_r(r.lr)})\n"
        f"scheduler = {cls}(optimizer, t_initial={d}, lr_min={_r(r.end)}{extra}{warm}, t_in_epochs=False)\n"
        f"{_TIMM_LOOP}"
    )
    return f"{code}\n# identical to lrkit at every step"


_TIMM_LOOP = ("# timm's train loop: after update k (0-based) scheduler.step_update(num_updates=k + 1), "
              "and after epoch e scheduler.step(e + 1)")


def _timm_factory(written: Schedule, total_steps: int | None) -> str | None:
    """``create_scheduler_v2`` code from ``lrkit._ports.timm.to_timm_kwargs`` (``None``: not recognised)."""
    from lrkit._ports.timm import to_timm_kwargs

    s = written.bind(total_steps) if total_steps is not None else written
    if s.unbound:
        return None
    kw = to_timm_kwargs(s)
    if kw is None:
        return None
    lr = kw.pop("lr")
    args = ", ".join(f"{k}={v!r}" for k, v in kw.items())
    return (
        "import torch\n"
        "from timm.scheduler import create_scheduler_v2\n\n"
        f"optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr={_r(lr)})\n"
        f"scheduler, _ = create_scheduler_v2(optimizer, {args})\n"
        f"{_TIMM_LOOP}\n"
        "# identical to lrkit at every step"
    )


def render_trainers(written: Schedule, total_steps: int | None) -> list[str]:
    """Lines for the transformers / composer / timm sections of ``lrkit convert``."""
    r = _recipe(written)
    lines: list[str] = []
    for name, fn in (("transformers", _transformers), ("composer", _composer)):
        lines += ["", f"# ---- {name} ----", fn(r, total_steps)]
    timm = _timm_factory(written, total_steps) or _timm(r, total_steps)
    return [*lines, "", "# ---- timm ----", timm]

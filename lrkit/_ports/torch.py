"""Port from ``torch.optim.lr_scheduler``: a scheduler instance in, the same curve as an lrkit tree out.

torch is never imported here: classes are recognised by ``type(obj).__module__``/``__name__`` (and
the MRO), so ``lk.from_torch`` costs nothing unless it is handed a torch object.

How each native is read (``torch/optim/lr_scheduler.py``, torch 2.x):

* *Chainable* schedulers (``StepLR``, ``MultiStepLR``, ``ConstantLR``, ``LinearLR``,
  ``ExponentialLR``, ``PolynomialLR``) multiply the param group's current lr by a factor each step.
  On their own they start from ``base_lrs[group]`` (the group's ``initial_lr``) and the product of
  the factors is their closed form, so each maps to one leaf. ``CosineAnnealingLR`` recurses
  affinely towards ``eta_min`` and, like torch, keeps going past ``T_max`` (``cosine_wave``).
* *Absolute* schedulers (``CyclicLR``, ``OneCycleLR``, ``CosineAnnealingWarmRestarts``) compute the
  lr from the step and their stored bounds.
* ``SequentialLR`` restarts child ``i > 0`` at its milestone through ``_get_closed_form_lr`` (from
  the child's ``base_lrs``) and resets the group lr to ``initial_lr`` for child 0: a ``join``.
* ``ChainedScheduler`` steps every child on the same lr: chainable children multiply (a product of
  their curves relative to their start); an absolute child last overrides the others. Other mixes
  are refused.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from lrkit import _errors as E
from lrkit._base import Schedule
from lrkit._compose import join, per_epoch, shift, warmup
from lrkit._ports._common import clean
from lrkit._schedules import (
    constant,
    cosine,
    cosine_restarts,
    cosine_wave,
    cyclic,
    exponential,
    linear,
    multistep,
    one_cycle,
    piecewise_constant,
    polynomial,
    step,
)

_OWNER = "from_torch"
_LR_MODULE = "torch.optim.lr_scheduler"
_SWA_MODULE = "torch.optim.swa_utils"

#: Schedulers that multiply the current lr by a step-dependent factor.
_MULTIPLICATIVE = ("StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR")
#: Schedulers whose lr is computed from the step alone (they overwrite the group lr).
_ABSOLUTE = ("CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts")
_AFFINE = ("CosineAnnealingLR", "SWALR")
_COMPOSITE = ("SequentialLR", "ChainedScheduler")
_ARBITRARY = ("LambdaLR", "MultiplicativeLR")
_PORTABLE = _MULTIPLICATIVE + _ABSOLUTE + _AFFINE + _COMPOSITE + ("ReduceLROnPlateau",)
_KNOWN = {
    _LR_MODULE: set(_PORTABLE + _ARBITRARY + ("LRScheduler", "_LRScheduler")),
    _SWA_MODULE: {"SWALR"},
}


def from_torch(scheduler: Any, *, group: int = 0, steps_per_epoch: int | None = None) -> Any:
    r"""The curve a torch learning-rate scheduler produces, as an lrkit schedule.

    The result is an ordinary tree of lrkit constructors (``repr`` shows it) whose value at step
    ``t`` equals ``optimizer.param_groups[group]["lr"]`` after ``t`` calls of ``scheduler.step()``,
    for every ``t`` from 0, past the nominal end too where torch keeps changing
    (``CosineAnnealingLR`` rises again after ``T_max``; ``CyclicLR`` keeps cycling). The port
    describes the curve from step 0 regardless of how far the given instance has been stepped: it
    reads the scheduler's settings (``base_lrs``, ``T_max``, milestones, ...), never its position.

    Supported: ``StepLR``, ``MultiStepLR``, ``ConstantLR``, ``LinearLR``, ``ExponentialLR``,
    ``PolynomialLR``, ``CosineAnnealingLR``, ``CosineAnnealingWarmRestarts``, ``CyclicLR`` (built-in
    modes), ``OneCycleLR``, ``SWALR``, ``SequentialLR`` and ``ChainedScheduler`` of these (see
    ``docs/porting.md`` for the mixes that cannot be reproduced and are refused).
    ``ReduceLROnPlateau`` is handed to ``lrkit.ReduceOnPlateau`` (its settings are copied).

    Values are absolute learning rates in float64; torch's chainable schedulers accumulate their
    value by repeated multiplication, so the two agree to rounding (about ``1e-13`` relative).
    ``OneCycleLR`` raises past ``total_steps`` in torch; the port holds its value there.

    Args:
      scheduler: a torch scheduler instance.
      group: index of the param group whose curve to port (non-negative integer).
      steps_per_epoch: if the scheduler is stepped once per epoch, the number of optimizer steps
        per epoch; the result is then a per-step schedule (``per_epoch(curve, steps_per_epoch)``).

    Returns:
      An lrkit ``Schedule`` (a ``ReduceOnPlateau`` settings object for ``ReduceLROnPlateau``).

    Raises:
      TypeError: ``scheduler`` is not a torch scheduler, or is a subclass of one (whose overrides
        cannot be read); ``group``/``steps_per_epoch`` of the wrong type.
      ValueError: ``LambdaLR``/``MultiplicativeLR`` or a custom ``CyclicLR.scale_fn`` (arbitrary
        code), a combination that cannot be reproduced exactly, or a bad ``group``.

    Examples:
      >>> import torch, lrkit as lk
      >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
      >>> lk.from_torch(torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.5))
      step(0.1, 0.5, 30)
    """
    if _is_lrkit(scheduler):
        # lrkit's own torch adapter: its schedules are already the curves.
        own = _lrkit_curve(scheduler, _group(group, scheduler.optimizer), "scheduler")
        if steps_per_epoch is not None:
            own = per_epoch(own, E.positive_int(_OWNER, "steps_per_epoch", steps_per_epoch))
        return own
    kind = _kind(scheduler, "scheduler")
    if kind == "ReduceLROnPlateau":
        from lrkit import _plateau

        port = getattr(_plateau, "_from_torch_plateau", None)
        if port is None:  # pragma: no cover - until lrkit._plateau provides it
            raise NotImplementedError("from_torch: ReduceLROnPlateau is not supported yet")
        if steps_per_epoch is not None:
            raise E.ScheduleError(
                f"{_OWNER}: `steps_per_epoch` does not apply to ReduceLROnPlateau (it reacts to "
                f"reported metrics, not to steps). Received: steps_per_epoch={steps_per_epoch!r}"
            )
        return port(scheduler, group=_group(group, scheduler.optimizer))
    optimizer = scheduler.optimizer
    g = _group(group, optimizer)
    out = _port(scheduler, kind, g, role="alone", base=None)
    if kind in _MULTIPLICATIVE or kind == "CosineAnnealingLR":
        out = _from_current_lr(scheduler, kind, g, out)
    if steps_per_epoch is not None:
        k = E.positive_int(_OWNER, "steps_per_epoch", steps_per_epoch)
        out = per_epoch(out, k)
    return out


# -- recognising schedulers -------------------------------------------------------------------

#: The kind given to lrkit's own ``lrkit.backends.torch.LRScheduler`` (absolute values, like
#: ``_ABSOLUTE``: it overwrites the group lr at every step).
_LRKIT = "lrkit LRScheduler"


def _is_lrkit(obj: Any) -> bool:
    return type(obj).__module__ == "lrkit.backends.torch" and hasattr(obj, "schedules")


def _lrkit_curve(s: Any, g: int, where: str) -> Schedule:
    """The lr curve lrkit's torch ``LRScheduler`` writes into group ``g``.

    Its schedule for the group, times the group's ``lr_scale`` when one schedule drives every
    group (the adapter applies it then). A ``HyperparameterScheduler`` drives another entry.
    """
    if type(s).__name__ != "LRScheduler":
        raise TypeError(
            f"{_OWNER}: `{where}` is lrkit's {type(s).__name__}, which drives "
            f"{getattr(s, 'name', 'another entry')!r}, not the learning rate; its schedules are "
            f"`.schedules`. Received: {where}={s!r}"
        )
    if getattr(s, "plateau", None) is not None:
        # Its rates depend on the metrics reported: no schedule gives them. Silently porting the
        # schedule alone would drop every reduction.
        raise ValueError(
            f"{_OWNER}: `{where}` is lrkit's LRScheduler with a plateau, whose rates follow the "
            "reported metrics, not the steps alone; port its parts instead: `.schedules[group]` "
            f"(the curve) and `.plateau` (the lk.ReduceOnPlateau). Received: {where}={s!r}"
        )
    own = s.schedules[g]
    scale = s.optimizer.param_groups[g].get("lr_scale")
    if s._single and scale is not None:
        factor = _num(_LRKIT, "param_groups[group]['lr_scale']", scale)
        if factor != 1.0:
            own = factor * own
    return own



def _kind(obj: Any, where: str) -> str:
    """The torch class name of ``obj``, or an error saying why it cannot be ported."""
    cls = type(obj)
    name, module = cls.__name__, cls.__module__
    if name in _KNOWN.get(module, ()):
        if name in _ARBITRARY:
            raise _arbitrary(obj, where, name)
        if name in ("LRScheduler", "_LRScheduler"):
            raise _not_scheduler(obj, where)
        return name
    for base in cls.__mro__[1:]:
        if base.__name__ in _KNOWN.get(base.__module__, ()):
            if base.__name__ in _ARBITRARY:
                raise _arbitrary(obj, where, base.__name__)
            raise TypeError(
                f"{_OWNER}: `{where}` is a {name}, a subclass of torch's {base.__name__}; its "
                f"overrides are arbitrary code, so lrkit ports only torch's own classes. Write the "
                f"curve with lrkit constructors. Received: {where}={obj!r} of type {name}"
            )
    raise _not_scheduler(obj, where)


def _arbitrary(obj: Any, where: str, base: str) -> E.ScheduleError:
    what = base if type(obj).__name__ == base else f"{type(obj).__name__} (a torch {base})"
    return E.ScheduleError(
        f"{_OWNER}: `{where}` is a {what}, which runs arbitrary Python code (its lr_lambda), so "
        f"lrkit cannot port it. Write the curve with lrkit constructors instead (e.g. "
        f"lk.warmup(lk.cosine(...), ...)); for a transformers schedule use "
        f"lk.from_transformers(name, lr=...). Received: {where}={obj!r}"
    )


def _not_scheduler(obj: Any, where: str) -> TypeError:
    return TypeError(
        f"{_OWNER}: `{where}` must be a torch learning-rate scheduler instance "
        f"(torch.optim.lr_scheduler.StepLR, CosineAnnealingLR, SequentialLR, ...). "
        f"Received: {where}={obj!r} of type {type(obj).__name__}"
    )


def _group(group: Any, optimizer: Any) -> int:
    if not (isinstance(group, numbers.Integral) and not isinstance(group, bool)):
        raise TypeError(
            f"{_OWNER}: `group` must be a non-negative integer (a param group index). "
            f"Received: group={group!r} of type {type(group).__name__}"
        )
    n = len(optimizer.param_groups)
    if not 0 <= group < n:
        raise E.ScheduleError(
            f"{_OWNER}: `group` must be a param group index in [0, {n}) for this optimizer "
            f"({n} group(s)). Received: group={group!r}"
        )
    return int(group)


# -- reading settings ---------------------------------------------------------------------------


def _num(kind: str, name: str, v: Any) -> float:
    """A finite float from a Python/numpy number or a 0-d tensor."""
    try:
        out = float(v)
    except (TypeError, ValueError):
        raise TypeError(
            f"{_OWNER}: {kind}.{name} must be a real number. Received: {name}={v!r}"
        ) from None
    if isinstance(v, bool) or not math.isfinite(out):
        raise E.ScheduleError(f"{_OWNER}: {kind}.{name} must be a finite number. Received: {name}={v!r}")
    return out


def _int(kind: str, name: str, v: Any) -> int:
    """An integer setting (an integral float is accepted, as torch does)."""
    x = _num(kind, name, v)
    if not x.is_integer():
        raise E.ScheduleError(
            f"{_OWNER}: {kind}.{name} must be a whole number of steps for an exact port. "
            f"Received: {name}={v!r}"
        )
    return int(x)


def _refuse(kind: str, why: str) -> E.ScheduleError:
    return E.ScheduleError(f"{_OWNER}: cannot reproduce this {kind} exactly: {why}")


def _build(kind: str, fn: Callable[[], Schedule]) -> Schedule:
    """Run a constructor; re-raise its argument errors as errors about the torch scheduler."""
    try:
        return fn()
    except E.ScheduleError as e:
        raise E.ScheduleError(f"{_OWNER}: cannot port this {kind}: {e}") from None
    except TypeError as e:
        raise TypeError(f"{_OWNER}: cannot port this {kind}: {e}") from None


# -- one scheduler --------------------------------------------------------------------------------


def _port(s: Any, kind: str, g: int, *, role: str, base: float | None) -> Schedule:
    """The curve of scheduler ``s`` for group ``g``.

    ``role``: ``"alone"`` (constructed on the optimizer, stepped from there), ``"first"`` (child 0
    of a ``SequentialLR``: its chain starts from ``base``) or ``"restart"`` (a later child of a
    ``SequentialLR``, entered at its milestone through ``_get_closed_form_lr``; ``base`` is the
    lr in the group when it is entered, used by ``SWALR``).
    """
    if kind == "SequentialLR":
        if role != "alone":
            raise _refuse(kind, "a SequentialLR nested in another composite scheduler")
        return _sequential(s, g)
    if kind == "ChainedScheduler":
        if role != "alone":
            raise _refuse(kind, "a ChainedScheduler nested in another composite scheduler")
        return _chained(s, g)
    if kind == _LRKIT:
        # Absolute values at every step; a later child of a SequentialLR is entered through its
        # _get_closed_form_lr at local step 0, which is the schedule's value there too.
        return _lrkit_curve(s, g, f"{kind} child")
    own_base = _num(kind, "base_lrs[group]", s.base_lrs[g]) if hasattr(s, "base_lrs") else None
    if kind in _MULTIPLICATIVE:
        start = own_base if role in ("alone", "restart") else base
        return _build(kind, lambda: _multiplicative(s, kind, start, restart=role == "restart"))
    if kind == "CosineAnnealingLR":
        start = own_base if role in ("alone", "restart") else base
        return _build(kind, lambda: _cosine_annealing(s, start, own_base))
    if kind == "SWALR":
        start = own_base if role == "alone" else base
        return _build(kind, lambda: _swalr(s, g, start))
    if kind == "CyclicLR":
        return _build(kind, lambda: _cyclic(s, g, first_step=role == "alone"))
    if kind == "OneCycleLR":
        return _build(kind, lambda: _one_cycle(s, g))
    if kind == "CosineAnnealingWarmRestarts":
        return _build(kind, lambda: _warm_restarts(s, own_base))
    raise _refuse(kind, "this scheduler has no lrkit port")  # pragma: no cover


def _from_current_lr(s: Any, kind: str, g: int, port: Schedule) -> Schedule:
    """The curve of a scheduler built when the group's lr was not its ``initial_lr``.

    torch's chainable schedulers (and ``CosineAnnealingLR``'s recursion) start from the group's lr
    *as it is* when they are constructed, not from ``base_lrs`` (the group's ``initial_lr``): built
    after another scheduler moved the lr (``ExponentialLR`` stepped once, then ``LinearLR``), the
    curve starts from the moved lr. The port from ``base_lrs`` is checked against the lr the
    scheduler last set (``get_last_lr()`` at ``last_epoch``); if they differ, the start is recovered
    from it (the chain is ``start * factors(t)``), or the port is refused naming the cause.
    """
    n = int(s.last_epoch)
    last = getattr(s, "_last_lr", None)
    if n < 0 or last is None or g >= len(last):
        return port
    seen = _num(kind, "get_last_lr()[group]", last[g])
    want = port(n)
    if abs(seen - want) <= 1e-9 * max(abs(seen), abs(want)) + 1e-300:
        return port
    base = _num(kind, "base_lrs[group]", s.base_lrs[g])
    why = (
        f"torch starts a {kind} from the group's lr when it is constructed, and that lr ({{}}) is not "
        f"the group's initial_lr ({base!r}): another scheduler moved it before this one was built"
    )
    if kind in _MULTIPLICATIVE:
        unit = _build(kind, lambda: _multiplicative(s, kind, 1.0, restart=False))
        f = unit(n)
        if f > 0.0:
            start = seen / f
            return _build(kind, lambda: _multiplicative(s, kind, start, restart=False))
    else:
        # CosineAnnealingLR: step 0 leaves the lr as it found it; up to T_max its recursion
        # telescopes to eta_min + (start - eta_min) (1 + cos(pi n / T_max)) / 2.
        t_max = _num(kind, "T_max", s.T_max)
        eta = _num(kind, "eta_min", s.eta_min)
        if n < t_max:
            start = eta + (seen - eta) * (2.0 / (1.0 + math.cos(math.pi * n / t_max)))
            if start >= 0.0:
                return _build(kind, lambda: _cosine_annealing(s, start, base))
    raise _refuse(  # pragma: no cover - defensive: past T_max torch re-anchors on base_lrs
        kind,
        why.format("unknown")
        + f" (at its step {n} it set {seen!r}, where a start from initial_lr gives {want!r}), and the "
        f"start cannot be recovered. Build the schedulers on a fresh optimizer, or compose them with "
        f"SequentialLR/ChainedScheduler or lrkit constructors.",
    )


def _multiplicative(s: Any, kind: str, base: float, *, restart: bool) -> Schedule:
    """A chainable scheduler started from ``base``.

    ``restart`` selects torch's ``_get_closed_form_lr`` entry (a later ``SequentialLR`` child)
    instead of the initial step; the two differ only for degenerate ``total_iters`` and
    milestones at or before 0.
    """
    if kind == "StepLR":
        every = _int(kind, "step_size", s.step_size)
        gamma = _num(kind, "gamma", s.gamma)
        if every <= 0:
            raise _refuse(kind, f"step_size must be positive (torch divides by it). Received: step_size={every}")
        if gamma == 0.0:
            return piecewise_constant([every], [base, 0.0])
        return step(base, gamma, every)
    if kind == "MultiStepLR":
        gamma = _num(kind, "gamma", s.gamma)
        ms = sorted(_int(kind, "milestones[i]", m) for m in s.milestones.elements())
        # The initial step applies milestones equal to 0; the closed form counts all <= 0.
        early = sum(1 for m in ms if (m <= 0 if restart else m == 0))
        later = [m for m in ms if m > 0]
        start = clean(base * gamma**early)
        if not later:
            return constant(start)
        if gamma == 0.0:
            return piecewise_constant([later[0]], [start, 0.0])
        return multistep(start, later, gamma)
    if kind == "ConstantLR":
        factor = _num(kind, "factor", s.factor)
        total = _int(kind, "total_iters", s.total_iters)
        if total <= 0:
            # Never restored: the initial step multiplies by `factor` and nothing undoes it; the
            # closed form gives base * (factor + (1 - factor)).
            return constant(clean(base * (factor + (1 - factor))) if restart else clean(base * factor))
        if factor == 0.0:
            raise _refuse(kind, "factor=0 (torch divides by it at total_iters)")
        return piecewise_constant([total], [clean(base * factor), base])
    if kind == "LinearLR":
        sf = _num(kind, "start_factor", s.start_factor)
        ef = _num(kind, "end_factor", s.end_factor)
        total = _int(kind, "total_iters", s.total_iters)
        if total <= 0:
            if not restart:
                return constant(clean(base * sf))
            if total == 0:
                raise _refuse(kind, "total_iters=0 when entered by SequentialLR (torch divides by zero)")
            return constant(clean(base * (sf + (ef - sf) * min(total, 0) / total)))
        return linear(clean(base * sf), clean(base * ef), total)
    if kind == "ExponentialLR":
        gamma = _num(kind, "gamma", s.gamma)
        if gamma == 0.0:
            return piecewise_constant([1], [base, 0.0])
        return exponential(base, gamma, 1)
    if kind == "PolynomialLR":
        total = _int(kind, "total_iters", s.total_iters)
        power = _num(kind, "power", s.power)
        if total <= 0:
            if restart:
                raise _refuse(kind, f"total_iters={total} when entered by SequentialLR (torch divides by it)")
            return constant(base)
        if power == 0.0:
            return constant(base)
        if power < 0.0:
            raise _refuse(kind, f"power={power} < 0 (torch divides by zero at total_iters)")
        return polynomial(base, 0.0, total, power)
    raise AssertionError(kind)  # pragma: no cover


def _cosine_annealing(s: Any, start: float, base: float | None) -> Schedule:
    kind = "CosineAnnealingLR"
    t_max = _num(kind, "T_max", s.T_max)
    eta_min = _num(kind, "eta_min", s.eta_min)
    if t_max <= 0:
        raise _refuse(kind, f"T_max must be positive (torch divides by it). Received: T_max={s.T_max!r}")

    def wave(top: float) -> Schedule:
        # eta_min + (top - eta_min) (1 + cos(pi t / T_max)) / 2 for every t: period 2 T_max.
        if t_max.is_integer():
            return cosine_wave(top, eta_min, int(t_max))
        return cosine_wave(top, eta_min, 1, cycles=0.5 / t_max)

    if base is None or start == base:
        return wave(start)
    # The recursion starts from `start` but re-enters at T_max + 1 from base_lrs (torch adds
    # (base_lr - eta_min)(1 - cos(pi / T_max)) / 2 there): two pieces.
    if not t_max.is_integer():
        raise _refuse(kind, "the group lr differs from base_lrs and T_max is not a whole number")
    n = int(t_max)
    return join([cosine(start, eta_min, n), shift(wave(base), n)], [n])


def _swalr(s: Any, g: int, start: float) -> Schedule:
    kind = "SWALR"
    swa = _num(kind, "swa_lr", s.optimizer.param_groups[g]["swa_lr"])
    n = _int(kind, "anneal_epochs", s.anneal_epochs)
    strategy = getattr(s, "_anneal_strategy", None)
    if strategy is None:
        strategy = "cos" if getattr(s.anneal_func, "__name__", "") == "_cosine_anneal" else "linear"
    if n <= 0:
        return constant(swa)
    return cosine(start, swa, n) if strategy == "cos" else linear(start, swa, n)


def _cyclic(s: Any, g: int, *, first_step: bool) -> Schedule:
    """``first_step``: the value at step 0 is the one computed inside the constructor."""
    kind = "CyclicLR"
    if getattr(s, "_scale_fn_custom", None) is not None:
        raise E.ScheduleError(
            f"{_OWNER}: this CyclicLR has a custom `scale_fn`, which is arbitrary Python code, so "
            f"lrkit cannot port it. Use mode='triangular', 'triangular2' or 'exp_range', or write "
            f"the curve with lrkit constructors."
        )
    total = _num(kind, "total_size", s.total_size)
    ratio = _num(kind, "step_ratio", s.step_ratio)
    up = round(ratio * total)
    down = round(total) - up
    if not (total.is_integer() and up > 0 and down > 0 and up / (up + down) == ratio):
        raise _refuse(kind, f"step_size_up/step_size_down must be whole numbers of steps (total={total})")
    low = _num(kind, "base_lrs[group]", s.base_lrs[g])
    high = _num(kind, "max_lrs[group]", s.max_lrs[g])
    out = cyclic(low, high, up, down, s.mode, _num(kind, "gamma", s.gamma))
    initial = s.optimizer.param_groups[g].get("initial_lr")
    if first_step and initial is not None and _num(kind, "initial_lr", initial) != low:
        # torch computes the constructor's step with base_lrs = the group's initial_lr (set by an
        # earlier scheduler on the same optimizer) and only then stores base_lr: step 0 is
        # initial_lr, the cycle from base_lr follows.
        out = warmup(out, 1, start=_num(kind, "initial_lr", initial), overlay=True)
    return out


def _one_cycle(s: Any, g: int) -> Schedule:
    kind = "OneCycleLR"
    pg = s.optimizer.param_groups[g]
    peak = _num(kind, "max_lr", pg["max_lr"])
    initial = _num(kind, "initial_lr", pg["initial_lr"])
    low = _num(kind, "min_lr", pg["min_lr"])
    total = _int(kind, "total_steps", s.total_steps)
    phases = s._schedule_phases
    pct = (float(phases[0]["end_step"]) + 1.0) / total
    strategy = getattr(s, "_anneal_func_type", None)
    if strategy is None:  # older pickles keep the function itself
        strategy = "cos" if "cos" in getattr(s.anneal_func, "__name__", "") else "linear"
    if peak == 0.0:
        return constant(0.0)
    if initial <= 0.0 or low <= 0.0:
        raise _refuse(kind, f"initial_lr={initial}, min_lr={low} must be positive")
    return one_cycle(
        peak,
        total,
        pct_start=pct,
        div_factor=clean(peak / initial),
        final_div_factor=clean(initial / low),
        anneal="cosine" if strategy == "cos" else "linear",
        three_phase=len(phases) == 3,
    )


def _warm_restarts(s: Any, base: float | None) -> Schedule:
    kind = "CosineAnnealingWarmRestarts"
    t0 = _int(kind, "T_0", s.T_0)
    mult = _int(kind, "T_mult", s.T_mult)
    eta_min = _num(kind, "eta_min", s.eta_min)
    assert base is not None
    return cosine_restarts(base, eta_min, t0, period_mult=float(mult))


# -- composites -------------------------------------------------------------------------------------


def _children(s: Any, kind: str) -> list[tuple[Any, str]]:
    out, seen = [], set()
    for i, child in enumerate(s._schedulers):
        if id(child) in seen:
            raise _refuse(kind, f"scheduler {i} appears twice (it would be stepped twice)")
        seen.add(id(child))
        where = f"scheduler._schedulers[{i}]"
        out.append((child, _LRKIT if _is_lrkit(child) else _kind(child, where)))
    if not out:
        raise _refuse(kind, "no schedulers")
    return out


def _sequential(s: Any, g: int) -> Schedule:
    kind = "SequentialLR"
    children = _children(s, kind)
    milestones = [_int(kind, "milestones[i]", m) for m in s._milestones]
    if any(m <= 0 for m in milestones) or any(b <= a for a, b in zip(milestones, milestones[1:])):
        raise _refuse(kind, f"milestones must be positive and strictly increasing. Received: milestones={milestones}")
    # SequentialLR resets every group's lr to its initial_lr, then steps child 0 from there.
    first_base = _num(kind, "initial_lr", s.optimizer.param_groups[g]["initial_lr"])
    pieces: list[Schedule] = []
    for i, (child, child_kind) in enumerate(children):
        if child_kind in _COMPOSITE:
            raise _refuse(kind, f"child {i} is a {child_kind}: nested composites are not supported")
        if i == 0:
            pieces.append(_port(child, child_kind, g, role="first", base=first_base))
            continue
        # The lr in the group when child i takes over (SWALR starts from it).
        entering = join(pieces, milestones[: i - 1])(milestones[i - 1] - 1)
        pieces.append(_port(child, child_kind, g, role="restart", base=entering))
    return join(pieces, milestones)


def _chained(s: Any, g: int) -> Schedule:
    kind = "ChainedScheduler"
    children = _children(s, kind)
    if len(children) == 1:
        child, child_kind = children[0]
        return _port(child, child_kind, g, role="alone", base=None)
    for i, (_, child_kind) in enumerate(children):
        if child_kind in _COMPOSITE:
            raise _refuse(kind, f"child {i} is a {child_kind}: nested composites are not supported")
    absolute = [i for i, (_, k) in enumerate(children) if k in _ABSOLUTE or k == _LRKIT]
    if absolute:
        i = absolute[-1]
        if i != len(children) - 1:
            after = [k for _, k in children[i + 1 :]]
            raise _refuse(
                kind,
                f"{children[i][1]} (child {i}) overwrites the lr each step and {after} then multiply "
                f"it by one step's factor only; lrkit has no such node. Put the absolute scheduler last "
                f"or use SequentialLR.",
            )
        # The last child overwrites whatever the others did, at every step including the first.
        child, child_kind = children[i]
        return _port(child, child_kind, g, role="alone", base=None)
    odd = [k for _, k in children if k not in _MULTIPLICATIVE]
    if odd:
        raise _refuse(
            kind,
            f"{odd[0]} moves the lr affinely (towards eta_min / swa_lr), not by a factor, so its "
            f"chain with other schedulers is not a product; torch re-anchors it at each restart. "
            f"Use SequentialLR or write the curve with lrkit constructors.",
        )
    # Every child multiplies the same lr: lr(t) = base * prod_j factor_j(t).
    first, first_kind = children[0]
    base = _num(first_kind, "base_lrs[group]", first.base_lrs[g])
    out = _port(first, first_kind, g, role="first", base=base)
    for child, child_kind in children[1:]:
        out = out * _port(child, child_kind, g, role="first", base=1.0)
    return out

"""``lk.from_timm`` against the real ``timm.scheduler`` schedulers (timm 1.0.31).

Every test builds the native on a real torch optimizer and steps it the way timm's ``train.py`` does:
the lr of update ``k`` is read before the update, then ``step_update(num_updates=k + 1)``; after each
epoch ``step(epoch + 1)``. The port (of the instance, or of the ``create_scheduler_v2`` name with the
same arguments) must give that value at every update, through the numpy path (all steps at once) and
the scalar path, past the nominal end (cycles, ``cycle_limit``, then ``lr_min``), warmup included.

timm computes each value from ``t`` in closed form (float64), so the two agree to rounding:
``rtol=1e-12`` plus ``atol = 1e-14 * lr`` (timm's ``1 + cos`` and ``1 - tanh`` lose relative
precision near the bottom of a cycle; lrkit's half-angle forms do not).

One named difference: with ``cycle_mul != 1`` timm finds the cycle as
``floor(log(1 - t / t_initial * (1 - cycle_mul), cycle_mul))`` in float64, which rounds down at some
steps where a cycle starts exactly (``cycle_mul=1.5, t_initial=16``: step 211), so timm shows the end
of the previous cycle there for one update; lrkit restarts. ``_timm_cycle_rounds_down`` finds those
steps and ``test_cycle_log_rounding_is_the_named_difference`` pins one.
"""

from __future__ import annotations

import importlib
import math
import sys
import types
import warnings
from fractions import Fraction
from typing import Any

import helpers
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit as lk
from lrkit._ports.timm import to_timm_kwargs

torch = helpers.need("torch")
_TIMM_SPEC = helpers.need("timm")

# Each example steps a real optimizer for a few hundred updates; keep every sweep to seconds.
SWEEP = settings(max_examples=min(settings.default.max_examples, 40))


def _load_timm_scheduler() -> types.ModuleType:
    """``timm.scheduler`` without running ``timm/__init__.py``.

    timm's package ``__init__`` imports its model zoo, which needs torchvision (not installed in the
    test envs: the registry's build is CUDA-only and cannot load beside the CPU torch). The
    schedulers need only torch. So a bare ``timm`` package module with timm's ``__path__`` is
    registered for the import of ``timm.scheduler`` alone, and every ``timm*`` entry is taken out of
    ``sys.modules`` again afterwards (the classes keep their module names), so no other test, and no
    library probing for timm, ever sees the bare package.
    """
    saved = {k: v for k, v in sys.modules.items() if k == "timm" or k.startswith("timm.")}
    bare = types.ModuleType("timm")
    bare.__path__ = list(_TIMM_SPEC.submodule_search_locations)
    sys.modules["timm"] = bare
    try:
        module = importlib.import_module("timm.scheduler")
        version = importlib.import_module("timm.version").__version__
    finally:
        for k in [k for k in sys.modules if k == "timm" or k.startswith("timm.")]:
            del sys.modules[k]
        sys.modules.update(saved)
    module.TIMM_VERSION = version  # type: ignore[attr-defined]
    return module


TS = _load_timm_scheduler()


def test_timm_version_is_the_one_read() -> None:
    # The conventions copied here (and in docs/porting.md) are timm 1.0.31's.
    assert TS.TIMM_VERSION == "1.0.31"


def optimizer(lrs: list[float], scales: list[float | None] | None = None) -> Any:
    groups = []
    for i, lr in enumerate(lrs):
        g: dict[str, Any] = {"params": [torch.zeros(2, requires_grad=True)], "lr": lr}
        if scales and scales[i] is not None:
            g["lr_scale"] = scales[i]
        groups.append(g)
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def train_loop(sched: Any, opt: Any, n: int, upe: int, group: int = 0) -> np.ndarray:
    """The lr of ``group`` used by each of ``n`` updates of timm's train loop (real SGD updates)."""
    params = opt.param_groups[group]["params"]
    out: list[float] = []
    num_updates, epoch = 0, 0
    while len(out) < n:
        for _ in range(upe):
            out.append(opt.param_groups[group]["lr"])
            for p in params:
                p.grad = torch.ones_like(p)
            opt.step()
            num_updates += 1
            sched.step_update(num_updates=num_updates)
            if len(out) == n:
                return np.array(out)
        sched.step(epoch + 1)
        epoch += 1
    return np.array(out)


def direct(sched: Any, opt: Any, steps: list[int], upe: int, group: int = 0) -> np.ndarray:
    """The lr of update ``k`` for far ``k``, set the way the train loop would have set it (timm's
    schedulers are stateless functions of ``t``); ``k = 0`` is the constructor's value."""
    out = []
    initial = opt.param_groups[group]["lr"]
    for k in steps:
        if k == 0:
            out.append(initial)
            continue
        try:
            if sched.t_in_epochs:
                e = k // upe
                if e == 0:
                    out.append(initial)
                    continue
                sched.step(e)
            else:
                sched.step_update(num_updates=k)
        except OverflowError:
            # timm computes cycle_decay ** i before testing i < cycle_limit: with cycle_decay > 1 it
            # raises once that overflows (test_cycle_decay_overflow_is_the_named_crash).
            out.append(math.nan)
            continue
        out.append(opt.param_groups[group]["lr"])
    return np.array(out)


def _timm_cycle_rounds_down(sched: Any, k: int, upe: int) -> bool:
    """Update ``k`` is a step where timm's float64 cycle log rounds down at an exact cycle start."""
    m = getattr(sched, "cycle_mul", 1.0)
    if m == 1.0:
        return False
    t = k // upe if sched.t_in_epochs else k
    if t == 0:
        return False
    if t < sched.warmup_t:
        return False
    if sched.warmup_prefix:
        t -= sched.warmup_t
    T = sched.t_initial
    i = math.floor(math.log(1 - t / T * (1 - m), m))
    exact, begin, length = 0, Fraction(0), Fraction(T)
    mm = Fraction(m)
    while t >= begin + length:
        begin, length, exact = begin + length, length * mm, exact + 1
    return i != exact


def compare(sched: Any, opt: Any, port: lk.Schedule, n: int, upe: int, group: int = 0,
            far: tuple[int, ...] = ()) -> None:
    native = train_loop(sched, opt, n, upe, group)
    steps = list(range(n))
    far_steps = [k for k in far if k >= n]
    if far_steps:
        native = np.concatenate([native, direct(sched, opt, far_steps, upe, group)])
        steps += far_steps
    keep = np.array([not _timm_cycle_rounds_down(sched, k, upe) for k in steps]) & np.isfinite(native)
    steps_a = np.asarray(steps, dtype=np.int64)
    peak = max(float(np.nanmax(np.abs(native))), 1e-300)
    vector = port(steps_a)
    scalar = np.array([port(k) for k in steps])
    msg = f"{port!r}"
    np.testing.assert_allclose(vector[keep], native[keep], rtol=1e-12, atol=1e-14 * peak, err_msg="numpy " + msg)
    np.testing.assert_allclose(scalar[keep], native[keep], rtol=1e-12, atol=1e-14 * peak, err_msg="scalar " + msg)


# -- strategies -------------------------------------------------------------------------------------

lrs_st = st.lists(st.floats(1e-4, 2.0), min_size=1, max_size=2)
warmup_st = st.fixed_dictionaries({
    "warmup_t": st.sampled_from([0, 0, 1, 2, 5]),
    "warmup_lr_init": st.sampled_from([0.0, 1e-5, 0.05]),
    "warmup_prefix": st.booleans(),
})
clock_st = st.one_of(
    st.tuples(st.just(False), st.integers(1, 7)),  # stepped per update (upe: only for the loop)
    st.tuples(st.just(True), st.integers(1, 4)),  # stepped per epoch
)
cycle_st = st.fixed_dictionaries({
    "t_initial": st.integers(1, 40),
    "lr_min": st.sampled_from([0.0, 1e-5, 1e-3]),
    "cycle_mul": st.one_of(st.just(1.0), st.sampled_from([1.5, 2.0]), st.floats(1.05, 3.0)),
    "cycle_decay": st.one_of(st.just(1.0), st.floats(0.1, 1.5)),
    "cycle_limit": st.integers(0, 4),
})


def _horizon(kw: dict[str, Any]) -> int:
    """Steps covering the warmup, every cycle and as many again (capped)."""
    T, m, lim = kw["t_initial"], kw.get("cycle_mul", 1.0), max(kw.get("cycle_limit", 1), 1)
    span = T * lim if m == 1.0 else T * (m**lim - 1) / (m - 1)
    return min(int(2 * span) + kw.get("warmup_t", 0) + 5, 600)


def _run(make: Any, lrs: list[float], on_epochs: bool, upe: int, horizon: int, **kw: Any) -> None:
    for group in range(len(lrs)):
        opt = optimizer(lrs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # timm logs/warns for degenerate cosine settings
            sched = make(opt, t_in_epochs=on_epochs, **kw)
        port = lk.from_timm(sched, group=group, updates_per_epoch=upe if on_epochs else None)
        n = horizon * (upe if on_epochs else 1)
        compare(sched, opt, port, min(n, 400), upe, group, far=(n + 1, 10 * n + 3, 10**6 + 1))


@settings(max_examples=min(settings.default.max_examples, 25))
@given(lrs=lrs_st, warm=warmup_st, clock=clock_st, cyc=cycle_st, k=st.one_of(st.just(1.0), st.floats(0.3, 3.0)))
def test_cosine(lrs: list[float], warm: dict, clock: tuple, cyc: dict, k: float) -> None:
    kw = {**warm, **cyc, "k_decay": k}
    _run(TS.CosineLRScheduler, lrs, *clock, _horizon(kw), **kw)


@SWEEP
@given(lrs=lrs_st, warm=warmup_st, clock=clock_st, cyc=cycle_st,
       bounds=st.one_of(st.just((-7.0, 3.0)), st.tuples(st.floats(-8, 2), st.floats(0.5, 6)).map(lambda b: (b[0], b[0] + b[1]))))
def test_tanh(lrs: list[float], warm: dict, clock: tuple, cyc: dict, bounds: tuple) -> None:
    kw = {**warm, **cyc, "lb": bounds[0], "ub": bounds[1]}
    _run(TS.TanhLRScheduler, lrs, *clock, _horizon(kw), **kw)


@SWEEP
@given(lrs=lrs_st, warm=warmup_st, clock=clock_st, cyc=cycle_st, power=st.floats(0.1, 3.0),
       k=st.one_of(st.just(1.0), st.floats(0.3, 3.0)))
def test_poly(lrs: list[float], warm: dict, clock: tuple, cyc: dict, power: float, k: float) -> None:
    kw = {**warm, **cyc, "power": power, "k_decay": k}
    _run(TS.PolyLRScheduler, lrs, *clock, _horizon(kw), **kw)


@SWEEP
@given(lrs=lrs_st, warm=warmup_st, clock=clock_st, decay_t=st.integers(1, 12),
       rate=st.sampled_from([0.0, 0.1, 0.5, 1.0, 1.3]))
def test_step(lrs: list[float], warm: dict, clock: tuple, decay_t: int, rate: float) -> None:
    if rate > 1.0:  # grows without bound: timm overflows (OverflowError), lrkit refuses at construction
        sched = TS.StepLRScheduler(optimizer(lrs), decay_t=decay_t, decay_rate=rate, t_in_epochs=False)
        with pytest.raises(ValueError, match="decay_rate"):
            lk.from_timm(sched)
        with pytest.raises(OverflowError):
            sched.step_update(num_updates=decay_t * 10**4)
        return
    _run(TS.StepLRScheduler, lrs, *clock, 4 * decay_t + 8, decay_t=decay_t, decay_rate=rate, **warm)


@SWEEP
@given(lrs=lrs_st, warm=warmup_st, clock=clock_st,
       ms=st.lists(st.integers(0, 30), min_size=0, max_size=4).map(sorted),
       rate=st.sampled_from([0.0, 0.1, 0.5, 1.3]))
def test_multistep(lrs: list[float], warm: dict, clock: tuple, ms: list[int], rate: float) -> None:
    _run(TS.MultiStepLRScheduler, lrs, *clock, 40, decay_t=ms, decay_rate=rate, **warm)


@pytest.mark.parametrize("m", [9, 10, 11])
def test_multistep_switches_at_b_minus_1(m: int) -> None:
    # timm's convention: milestone m applies at t = m - 1 (torch MultiStepLR: at m).
    opt = optimizer([1.0])
    sched = TS.MultiStepLRScheduler(opt, decay_t=[m], decay_rate=0.5, t_in_epochs=False)
    port = lk.from_timm(sched)
    assert port == lk.multistep(1.0, [m - 1], 0.5)
    native = train_loop(sched, opt, m + 2, upe=5)
    assert native[m - 2] == 1.0 and native[m - 1] == 0.5 and native[m] == 0.5
    assert [port(k) for k in (m - 2, m - 1, m)] == [1.0, 0.5, 0.5]


@pytest.mark.parametrize("prefix", [False, True])
def test_warmup_overlays_unless_prefixed(prefix: bool) -> None:
    # warmup_prefix=False (create_scheduler_v2's default): the warmup replaces the curve's first
    # steps, which then continues from t = warmup_t; with the prefix it starts after the warmup.
    opt = optimizer([1.0])
    sched = TS.CosineLRScheduler(opt, t_initial=20, warmup_t=5, warmup_lr_init=0.1, warmup_prefix=prefix,
                                 t_in_epochs=False)
    port = lk.from_timm(sched)
    expected = lk.warmup(lk.cosine(1.0, 0.0, 20), 5, start=0.1, overlay=not prefix)
    assert port == expected
    native = train_loop(sched, opt, 30, upe=30)
    np.testing.assert_allclose(port(np.arange(30)), native, rtol=1e-13, atol=1e-15)
    # b-1, b, b+1 around the end of the warmup
    assert native[4] == pytest.approx(0.1 + 4 * 0.9 / 5, rel=1e-14)
    cos_at = 5 if not prefix else 0
    assert native[5] == pytest.approx(0.5 * (1 + math.cos(math.pi * cos_at / 20)), rel=1e-14)


def test_tanh_step_zero_is_the_constructor_value() -> None:
    # _get_lr(0) is (1 - tanh(-7)) / 2 = 0.9999992 of the base lr, but update 0 runs with the value the
    # constructor put in the group (the base lr); update 1 follows the curve.
    opt = optimizer([1.0])
    sched = TS.TanhLRScheduler(opt, t_initial=10, t_in_epochs=False)
    native = train_loop(sched, opt, 3, upe=3)
    port = lk.from_timm(sched)
    assert native[0] == 1.0 and port(0) == 1.0
    assert port(1) == pytest.approx(native[1], rel=1e-14)
    assert sched._get_lr(0)[0] == pytest.approx(0.9999991684719722, rel=1e-14)


def test_cycle_log_rounding_is_the_named_difference() -> None:
    # cycle_mul=1.5, t_initial=16: cycle 5 starts at exactly 211. timm's float64 log rounds down and
    # shows the end of cycle 4 (lr_min) for that update; lrkit restarts there, as the exact formula.
    opt = optimizer([1.0])
    sched = TS.CosineLRScheduler(opt, t_initial=16, cycle_mul=1.5, cycle_limit=10, cycle_decay=1.0,
                                 t_in_epochs=False)
    port = lk.from_timm(sched)
    native = direct(sched, opt, [210, 211, 212], upe=1)
    assert _timm_cycle_rounds_down(sched, 211, 1) and not _timm_cycle_rounds_down(sched, 212, 1)
    assert native[1] == 0.0  # timm: the previous cycle's end
    assert port(211) == 1.0  # lrkit: the restart
    assert port(212) == pytest.approx(native[2], rel=1e-12)
    assert port(210) == pytest.approx(native[0], rel=1e-9, abs=1e-15)


def test_cycle_decay_overflow_is_the_named_crash() -> None:
    # timm evaluates cycle_decay ** i before `i < cycle_limit`, so with cycle_decay > 1 it raises
    # OverflowError once i passes log(1.8e308) / log(cycle_decay) (1751 cycles for 1.5), long after
    # the schedule has settled at lr_min. lrkit gives lr_min there.
    opt = optimizer([1.0])
    sched = TS.CosineLRScheduler(opt, t_initial=2, cycle_decay=1.5, cycle_limit=3, lr_min=1e-3, t_in_epochs=False)
    port = lk.from_timm(sched)
    sched.step_update(num_updates=2 * 1750)
    assert opt.param_groups[0]["lr"] == 1e-3 == port(2 * 1750)
    with pytest.raises(OverflowError):
        sched.step_update(num_updates=2 * 1752)
    assert port(2 * 1752) == 1e-3


def test_lr_scale_multiplies_the_group() -> None:
    opt = optimizer([0.1, 0.2], scales=[None, 0.25])
    sched = TS.CosineLRScheduler(opt, t_initial=12, warmup_t=3, warmup_lr_init=1e-3, t_in_epochs=False)
    port = lk.from_timm(sched, group=1)
    native = train_loop(sched, opt, 30, upe=4, group=1)
    np.testing.assert_allclose(port(np.arange(30)), native, rtol=1e-13, atol=1e-16)


def test_ports_of_scaled_groups_drive_the_torch_adapter_as_timm() -> None:
    # One port per group into lrkit's LRScheduler on a layer-decay optimizer: each port already holds
    # its group's lr_scale, and the adapter applies a list as given (not scaled a second time).
    from lrkit.backends.torch import LRScheduler

    scales = [0.5, None, 0.25]
    opt = optimizer([0.1, 0.1, 0.1], scales=scales)
    sched = TS.CosineLRScheduler(opt, t_initial=10, warmup_t=2, warmup_lr_init=1e-4, t_in_epochs=False)
    ports = [lk.from_timm(sched, group=i) for i in range(3)]
    mine_opt = optimizer([0.1, 0.1, 0.1], scales=scales)
    mine = LRScheduler(mine_opt, ports)
    native, applied = [], []
    for k in range(14):  # timm's train loop (per-update scheduler) beside lrkit's torch loop
        native.append([g["lr"] for g in opt.param_groups])
        applied.append([g["lr"] for g in mine_opt.param_groups])
        opt.step()
        sched.step_update(num_updates=k + 1)
        mine_opt.step()
        mine.step()
    assert native[0] == pytest.approx([0.5e-4, 1e-4, 0.25e-4], rel=1e-12)
    np.testing.assert_allclose(np.array(applied), np.array(native), rtol=1e-12, atol=1e-16)


# -- the name form -----------------------------------------------------------------------------------

v2_st = st.fixed_dictionaries(
    {
        "num_epochs": st.integers(1, 25),
        "warmup_epochs": st.sampled_from([0, 0, 1, 3]),
        "warmup_lr": st.sampled_from([1e-5, 0.0, 0.02]),
        "warmup_prefix": st.booleans(),
        "min_lr": st.sampled_from([0.0, 1e-4]),
        "step_on_epochs": st.booleans(),
        "updates_per_epoch": st.integers(1, 4),
    },
    optional={
        "decay_epochs": st.integers(1, 10),
        "decay_milestones": st.lists(st.integers(0, 20), max_size=3).map(sorted),
        "decay_rate": st.sampled_from([0.1, 0.5, 2.0]),
        "cycle_mul": st.sampled_from([1.0, 1.5, 2.0]),
        "cycle_decay": st.floats(0.2, 1.0),
        "cycle_limit": st.integers(1, 3),
        "k_decay": st.sampled_from([1.0, 0.5, 2.0]),
        "cooldown_epochs": st.integers(0, 3),
    },
)


@SWEEP
@given(name=st.sampled_from(["cosine", "tanh", "step", "constant", "multistep", "poly"]), kw=v2_st,
       lr=st.floats(1e-3, 1.0))
def test_create_scheduler_v2(name: str, kw: dict, lr: float) -> None:
    opt = optimizer([lr])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched, _ = TS.create_scheduler_v2(opt, sched=name, **kw)
    if name == "step" and kw.get("decay_rate", 0.1) > 1.0:
        with pytest.raises(ValueError, match="decay_rate"):  # see test_step
            lk.from_timm(name, lr=lr, **kw)
        return
    port = lk.from_timm(name, lr=lr, **kw)
    upe = kw["updates_per_epoch"]
    n = min((kw["num_epochs"] * 3 + kw["warmup_epochs"] + 4) * upe, 600)
    compare(sched, opt, port, n, upe, far=(10**5 + 3,))
    # the instance of the same scheduler ports to the same schedule
    assert lk.from_timm(sched, updates_per_epoch=upe if kw["step_on_epochs"] else None) == port


def test_name_form_does_not_import_timm_or_torch() -> None:
    code = (
        "import sys, lrkit as lk; s = lk.from_timm('cosine', lr=0.1, num_epochs=10, warmup_epochs=2,"
        " updates_per_epoch=5); s(np := 3); print(repr(s));"
        " assert not [m for m in sys.modules if m.split('.')[0] in ('timm', 'torch')]"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "per_epoch(warmup(cosine(0.1, 0.0, 10), 2, start=1e-05, overlay=True), 5)"


# -- refused -------------------------------------------------------------------------------------------


def test_plateau_is_refused_naming_it() -> None:
    opt = optimizer([0.1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        sched = TS.PlateauLRScheduler(opt)
    with pytest.raises(ValueError, match=r"PlateauLRScheduler.*ReduceOnPlateau"):
        lk.from_timm(sched)
    with pytest.raises(ValueError, match=r"plateau.*PlateauLRScheduler"):
        lk.from_timm("plateau", lr=0.1)


def test_noise_is_refused() -> None:
    opt = optimizer([0.1])
    sched = TS.CosineLRScheduler(opt, t_initial=10, noise_range_t=5, t_in_epochs=False)
    with pytest.raises(ValueError, match=r"noise.*noise_range_t=5"):
        lk.from_timm(sched)
    with pytest.raises(ValueError, match=r"noise=0.5"):
        lk.from_timm("cosine", lr=0.1, noise=0.5, updates_per_epoch=3)


def test_epoch_scheduler_needs_updates_per_epoch() -> None:
    opt = optimizer([0.1])
    sched = TS.StepLRScheduler(opt, decay_t=3)
    with pytest.raises(ValueError, match="updates_per_epoch"):
        lk.from_timm(sched)
    with pytest.raises(ValueError, match="updates_per_epoch"):
        lk.from_timm("step", lr=0.1)
    with pytest.raises(ValueError, match="updates_per_epoch"):
        lk.from_timm("step", lr=0.1, step_on_epochs=False)  # timm asserts it too
    per_update = TS.StepLRScheduler(opt, decay_t=3, t_in_epochs=False)
    with pytest.raises(TypeError, match=r"updates_per_epoch.*t_in_epochs=False"):
        lk.from_timm(per_update, updates_per_epoch=10)


def test_bad_arguments_name_themselves() -> None:
    opt = optimizer([0.1])
    sched = TS.CosineLRScheduler(opt, t_initial=10, cycle_mul=0.5, t_in_epochs=False)
    with pytest.raises(ValueError, match="cycle_mul"):
        lk.from_timm(sched)
    with pytest.raises(TypeError, match="from_timm: `scheduler` must be a timm scheduler"):
        lk.from_timm(torch.optim.lr_scheduler.StepLR(opt, 3))
    with pytest.raises(ValueError, match="Did you mean 'cosine'"):
        lk.from_timm("cosin", lr=0.1)
    with pytest.raises(TypeError, match="Did you mean `warmup_epochs`"):
        lk.from_timm("cosine", lr=0.1, warmup_epoch=3)
    with pytest.raises(TypeError, match="`lr`"):
        lk.from_timm("cosine", updates_per_epoch=3)
    with pytest.raises(TypeError, match="`group` applies to a scheduler instance"):
        lk.from_timm("cosine", lr=0.1, group=1, updates_per_epoch=3)
    with pytest.raises(TypeError, match="`lr` applies to the name form"):
        lk.from_timm(TS.CosineLRScheduler(opt, t_initial=10, t_in_epochs=False), lr=0.1)
    with pytest.raises(ValueError, match="group"):
        lk.from_timm(TS.CosineLRScheduler(opt, t_initial=10, t_in_epochs=False), group=3)
    with pytest.raises(ValueError, match=r"decay_t.*sorted"):
        lk.from_timm(TS.MultiStepLRScheduler(opt, decay_t=[5, 2], t_in_epochs=False))
    with pytest.raises(ValueError, match=r"whole number.*warmup_t"):
        lk.from_timm(TS.CosineLRScheduler(opt, t_initial=10, warmup_t=2.5, t_in_epochs=False))

    class Mine(TS.CosineLRScheduler):
        pass

    with pytest.raises(TypeError, match="subclass of timm's CosineLRScheduler"):
        lk.from_timm(Mine(opt, t_initial=10, t_in_epochs=False))


# -- lrkit -> timm (for `lrkit convert`) -----------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        lk.cosine(0.1, 1e-4, 90),
        lk.warmup(lk.cosine(0.1, 0.0, 95), 5, start=0.001),
        lk.warmup(lk.cosine(0.1, 0.0, 95), 5, start=0.001, overlay=True),
        lk.per_epoch(lk.warmup(lk.polynomial(0.1, 0.0, 30, power=2.0), 3, start=1e-5), 7),
        lk.per_epoch(lk.multistep(0.1, [29, 59], 0.1), 10),
        lk.step(0.1, 0.5, 10),
        lk.restarts(0.1, 1e-4, 10, period_mult=2.0, decay=0.5, limit=3),
        lk.warmup(lk.shift(lk.restarts(0.1, 0.0, 10, shape="tanh", limit=2), 2), 2, start=0.0),
        lk.constant(0.1),
    ],
)
def test_to_timm_kwargs_round_trips_through_real_timm(schedule: lk.Schedule) -> None:
    d = to_timm_kwargs(schedule)
    assert d is not None, schedule
    kw = {k: v for k, v in d.items() if k not in ("sched", "lr")}
    opt = optimizer([d["lr"]])
    sched, _ = TS.create_scheduler_v2(opt, sched=d["sched"], **kw)
    n = min(2 * (schedule.duration or 50) + 10, 600)
    native = train_loop(sched, opt, n, kw["updates_per_epoch"])
    np.testing.assert_allclose(schedule(np.arange(n)), native, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "schedule",
    [
        lk.linear(0.1, 0.0, 10),
        lk.cosine_restarts(0.1, 0.0, 10),  # no cycle limit: timm always has one
        lk.restarts(0.1, 0.0, 10, shape="tanh", limit=1),  # timm starts a tanh at the base lr
        lk.warmup(lk.restarts(0.1, 0.0, 10, shape="tanh", limit=2), 2),  # ... and ramps to it
        lk.warmup(lk.cosine(0.1, 0.0, 10), 3, shape="cosine"),
        lk.join([lk.constant(0.1), lk.constant(0.01)], [5]),
    ],
)
def test_to_timm_kwargs_says_none_where_timm_has_no_equivalent(schedule: lk.Schedule) -> None:
    assert to_timm_kwargs(schedule) is None

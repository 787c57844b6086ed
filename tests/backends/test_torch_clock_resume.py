"""torch adapter, SPEC section 8: who moves the clock, ``step(metric)``, what a resume keeps, and
checkpoints that must be refused without touching the scheduler.

References are written here from the definitions (a linear ramp, a step decay, torch's own
``ReduceLROnPlateau``), never taken from lrkit itself.
"""

from __future__ import annotations

import copy
import math
import pickle
import warnings
from typing import Any

import pytest
from helpers import need

torch = need("torch")

import lrkit as lk  # noqa: E402
from lrkit.backends.torch import HyperparameterScheduler, LRScheduler  # noqa: E402

F64 = torch.float64


def _param() -> Any:
    return torch.nn.Parameter(torch.zeros((), dtype=F64))


def _sgd(lr: Any = 1.0, **kw: Any) -> Any:
    return torch.optim.SGD([_param()], lr=lr, **kw)


def _update(opt: Any) -> float:
    """One real SGD update with gradient 1 from a parameter reset to 0: returns ``-param``, exactly
    the lr the update applied."""
    (p,) = opt.param_groups[0]["params"]
    with torch.no_grad():
        p.zero_()
    p.grad = torch.ones_like(p)
    opt.step()
    return -float(p.detach())


def linear_ref(start: float, end: float, steps: int, t: int) -> float:
    return start + (end - start) * min(t, steps) / steps


# -- clock="optimizer" ----------------------------------------------------------------------------


def test_optimizer_clock_follows_real_updates_and_step_only_resyncs() -> None:
    opt = _sgd()
    sched = LRScheduler(opt, lk.linear(0.5, 0.1, 8), clock="optimizer")
    applied = []
    for k in range(12):
        applied.append(_update(opt))
        for _ in range(k % 3):  # 0, 1 or 2 scheduler steps per update: the schedule does not care
            sched.step()
    assert applied == pytest.approx([linear_ref(0.5, 0.1, 8, t) for t in range(12)], rel=1e-12)
    assert sched.last_epoch == 12 and sched.get_last_lr() == pytest.approx([0.1], rel=1e-12)


def test_optimizer_clock_without_any_scheduler_step_and_for_hyperparameters() -> None:
    opt = torch.optim.SGD([_param()], lr=0.1, momentum=0.0)
    mom = HyperparameterScheduler(opt, "momentum", lk.linear(0.9, 0.5, 4), clock="optimizer")
    seen = []
    for _ in range(6):
        seen.append(opt.param_groups[0]["momentum"])
        _update(opt)
    assert seen == pytest.approx([linear_ref(0.9, 0.5, 4, t) for t in range(6)], rel=1e-12)
    assert mom.get_last_value() == pytest.approx([0.5])


def test_default_clock_counts_scheduler_steps() -> None:
    opt = _sgd()
    sched = LRScheduler(opt, lk.linear(0.5, 0.1, 8))
    _update(opt)
    sched.step()
    sched.step()
    assert sched.last_epoch == 2 and opt.param_groups[0]["lr"] == pytest.approx(linear_ref(0.5, 0.1, 8, 2))


def test_optimizer_clock_state_resumes_exactly(tmp_path: Any) -> None:
    s = lk.warmup(lk.cosine(0.3, 0.01, 20), 4)

    def run(opt: Any, sched: Any, n: int) -> list[float]:
        out = []
        for _ in range(n):
            out.append(_update(opt))
            sched.step()
        return out

    opt = _sgd()
    full = run(opt, LRScheduler(opt, s, clock="optimizer"), 30)
    opt = _sgd()
    first_sched = LRScheduler(opt, s, clock="optimizer")
    first = run(opt, first_sched, 11)
    torch.save(first_sched.state_dict(), tmp_path / "s.pt")
    opt = _sgd()
    second_sched = LRScheduler(opt, s, clock="optimizer")
    second_sched.load_state_dict(torch.load(tmp_path / "s.pt", weights_only=True))
    assert first + run(opt, second_sched, 19) == full
    # A checkpoint of either clock resumes under the other: the step means the same.
    opt = _sgd()
    other = LRScheduler(opt, s)
    other.load_state_dict(first_sched.state_dict())
    assert run(opt, other, 19) == full[11:]


def test_optimizer_clock_survives_copy_deepcopy_and_pickle() -> None:
    opt = _sgd()
    sched = LRScheduler(opt, lk.step(0.1, 0.5, 2), clock="optimizer", plateau=lk.ReduceOnPlateau(patience=0))
    _update(opt)
    for clone in (copy.deepcopy(sched), pickle.loads(pickle.dumps(sched))):
        assert clone.optimizer is not opt
        _update(clone.optimizer)  # the copy's hook is on the copied optimizer
        assert clone.last_epoch == 2 and clone.optimizer.param_groups[0]["lr"] == 0.05
    assert sched.last_epoch == 1 and opt.param_groups[0]["lr"] == 0.1
    shallow = copy.copy(sched.plateau)
    assert shallow == sched.plateau and copy.deepcopy(sched.plateau) == sched.plateau


def test_reduce_on_plateau_pickles() -> None:
    p = lk.ReduceOnPlateau(mode="max", factor=0.5, patience=3, cooldown=2, convention="keras")
    for clone in (pickle.loads(pickle.dumps(p)), copy.copy(p), copy.deepcopy(p)):
        assert clone == p and clone.get_config() == p.get_config()


def test_a_dropped_scheduler_leaves_no_hook_behind() -> None:
    import gc

    opt = _sgd()
    LRScheduler(opt, lk.constant(0.3), clock="optimizer")
    gc.collect()
    assert not opt._optimizer_step_post_hooks and not opt._optimizer_step_pre_hooks
    _update(opt)


# -- step(metric) -----------------------------------------------------------------------------------


def _native_lrs(metrics: list[float], **kw: Any) -> list[float]:
    opt = _sgd(lr=1.0)
    native = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    out = []
    for m in metrics:
        native.step(m)
        out.append(opt.param_groups[0]["lr"])
    return out


@pytest.mark.parametrize("wrap", [float, lambda m: torch.tensor(m), lambda m: torch.tensor(m, dtype=torch.float32)])
def test_step_with_a_metric_reports_it(wrap: Any) -> None:
    metrics = [1.0, 0.9, 0.9, 0.9, 0.95, 0.5, 0.7, 0.7, 0.7, 0.7]
    scales = _native_lrs(metrics, patience=1, factor=0.5)  # native on lr 1.0: product of reductions
    for clock in ("scheduler", "optimizer"):
        opt = _sgd()
        sched = LRScheduler(opt, lk.linear(0.4, 0.2, 10), plateau=lk.ReduceOnPlateau(patience=1, factor=0.5), clock=clock)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for k, m in enumerate(metrics):
                _update(opt)
                sched.step(wrap(m))  # Lightning's "reduce_on_plateau": True calls exactly this
                assert sched.last_epoch == k + 1  # the scheduler clock advanced; the optimizer's ran
                want = linear_ref(0.4, 0.2, 10, k + 1) * scales[k]
                assert opt.param_groups[0]["lr"] == pytest.approx(want, rel=1e-12)
        assert sched.state_dict()["plateau_state"]["num_reductions"] >= 2


def test_an_int_stays_the_deprecated_epoch_and_bad_metrics_are_refused() -> None:
    opt = _sgd()
    sched = LRScheduler(opt, lk.multistep(1.0, [5], 0.5), plateau=lk.ReduceOnPlateau())
    _update(opt)
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(7)
    assert sched.last_epoch == 7 and opt.param_groups[0]["lr"] == 0.5
    sched.report(1.0)
    before = sched.state_dict()
    with pytest.raises(TypeError, match=r"`epoch`.*Received: epoch='1.0'"):
        sched.step("1.0")
    with pytest.raises(TypeError, match=r"`epoch`.*Received: epoch=<object"):
        sched.step(object())
    with pytest.raises(ValueError, match=r"`metric` must be a single number"):
        sched.report(torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"`metric` must be a real number within the float range"):
        sched.report(10**400)
    with pytest.raises(TypeError, match=r"`metric` must be a real number"):
        sched.report("0.5")
    after = sched.state_dict()
    after["_step_count"] = before["_step_count"]  # the refused calls counted a step call each
    assert after == before
    plain = LRScheduler(opt, lk.constant(0.1))
    with pytest.raises(ValueError, match=r"`epoch` must be an integer epoch; a float is a metric.*plateau"):
        plain.step(0.25)
    hp = HyperparameterScheduler(torch.optim.SGD([_param()], lr=0.1, momentum=0.9), "momentum", lk.constant(0.9))
    with pytest.raises(ValueError, match=r"`epoch`.*Received: epoch=tensor\(0.2500\)"):
        hp.step(torch.tensor(0.25))


def test_zero_eps_reductions_never_reach_zero() -> None:
    opt = _sgd()
    sched = LRScheduler(opt, lk.constant(1.0), plateau=lk.ReduceOnPlateau(patience=0, factor=0.5, eps=0.0))
    sched.report(1.0)
    for _ in range(1200):
        sched.report(2.0)
    lr = opt.param_groups[0]["lr"]
    assert lr > 0.0 and lr == 0.5**1074  # the smallest subnormal: one more halving would give 0
    sched.load_state_dict(sched.state_dict())  # and the state stays loadable


# -- resume -----------------------------------------------------------------------------------------


def _saved(schedule: Any, step: int, **kw: Any) -> dict[str, Any]:
    opt = _sgd()
    sched = LRScheduler(opt, schedule, **kw)
    for _ in range(step):
        _update(opt)
        sched.step()
    if sched.plateau is not None:
        sched.report(1.0)
    return sched.state_dict()


def test_strict_refuses_another_curve_naming_both_and_the_first_step() -> None:
    saved = _saved(lk.cosine(0.1, 0.0, 100), 30)
    opt = _sgd(lr=0.7)
    sched = LRScheduler(opt, lk.cosine(0.1, 0.0, 101))
    before = sched.state_dict()
    msg = r"different schedule.*first difference at step 1: checkpoint cosine\(0.1, 0.0, 100\) gives .* this scheduler's cosine\(0.1, 0.0, 101\)"
    with pytest.raises(ValueError, match=msg):
        sched.load_state_dict(saved)
    assert sched.state_dict() == before and opt.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize(
    ("saved", "mine"),
    [
        (lk.multistep(0.8, [5, 9], 0.5), lk.piecewise_constant([5, 9], [0.8, 0.4, 0.2])),
        (lk.constant(0.1), lk.join([lk.constant(0.1), lk.constant(0.1)], [50])),
        (lk.linear(0.2, 0.2, 7), lk.constant(0.2)),
    ],
)
def test_strict_accepts_the_same_curve_written_differently(saved: Any, mine: Any) -> None:
    state = _saved(saved, 6)
    opt = _sgd()
    sched = LRScheduler(opt, mine)
    sched.load_state_dict(state)
    assert sched.schedules == (mine,) and sched.last_epoch == 6
    for t in range(6, 60):
        assert _update(opt) == saved(t)
        sched.step()


@pytest.mark.parametrize(
    ("b", "d"),
    [(1, 1), (2, -1), (64, 2), (2**22 - 1, 1), (2**22, -1), (2**22 + 1, 1), (10**9, -1), (10**9, 2)],
)
def test_strict_finds_a_single_differing_boundary_anywhere(b: int, d: int) -> None:
    """Two curves that differ only between two boundaries: found at every scale, dense or probed."""
    a_s, b_s = lk.piecewise_constant([b], [0.3, 0.1]), lk.piecewise_constant([b + d], [0.3, 0.1])
    state = _saved(a_s, 0)
    with pytest.raises(ValueError, match=rf"first difference at step {min(b, b + d)}:"):
        LRScheduler(_sgd(), b_s).load_state_dict(state)


def test_checkpoint_and_override_modes() -> None:
    old = lk.cosine(0.2, 0.0, 40)
    longer = lk.cosine(0.2, 0.0, 80)
    cool = lk.join([old, lk.linear(old(10), 0.0, 5)], [10])  # a cooldown branched at the checkpoint
    state = _saved(old, 10, plateau=lk.ReduceOnPlateau(patience=0, factor=0.5))
    state["plateau_state"] = dict(state["plateau_state"], scale=0.25, num_reductions=2, best=0.3)
    # "checkpoint": the stored schedule and plateau settings replace the constructor's.
    opt = _sgd()
    sched = LRScheduler(opt, longer, resume="checkpoint")
    sched.load_state_dict(state)
    assert sched.schedules == (old,) and sched.plateau == lk.ReduceOnPlateau(patience=0, factor=0.5)
    assert [_update(opt) for _ in range(1)] == [pytest.approx(old(10) * 0.25, rel=1e-15)]
    # "override": the constructor's schedule continues from the stored step, plateau state kept.
    for mine in (longer, cool):
        opt = _sgd()
        sched = LRScheduler(opt, mine, plateau=lk.ReduceOnPlateau(patience=0, factor=0.5), resume="override")
        sched.load_state_dict(state)
        assert sched.schedules == (mine,) and sched.last_epoch == 10
        got = []
        for _ in range(8):
            got.append(_update(opt))
            sched.step()
        assert got == pytest.approx([mine(t) * 0.25 for t in range(10, 18)], rel=1e-15)
    # "override" without a plateau in the constructor: the stored plateau state is not used.
    opt = _sgd()
    sched = LRScheduler(opt, longer, resume="override")
    sched.load_state_dict(state)
    assert sched.plateau is None and opt.param_groups[0]["lr"] == longer(10)


def test_strict_refuses_other_plateau_settings_and_checkpoint_adopts_them() -> None:
    state = _saved(lk.constant(0.1), 3, plateau=lk.ReduceOnPlateau(patience=1))
    with pytest.raises(ValueError, match="different plateau settings"):
        LRScheduler(_sgd(), lk.constant(0.1), plateau=lk.ReduceOnPlateau(patience=2)).load_state_dict(state)
    with pytest.raises(ValueError, match="saved with a plateau rule but this scheduler has none"):
        LRScheduler(_sgd(), lk.constant(0.1)).load_state_dict(state)
    sched = LRScheduler(_sgd(), lk.constant(0.1), plateau=lk.ReduceOnPlateau(patience=2), resume="checkpoint")
    sched.load_state_dict(state)
    assert sched.plateau == lk.ReduceOnPlateau(patience=1)


# -- refused input, state unchanged -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"clock": "opt"}, ValueError, r"LRScheduler: `clock` must be one of \['scheduler', 'optimizer'\]. Received: clock='opt'"),
        ({"clock": None}, TypeError, r"`clock` must be one of .*Received: clock=None"),
        ({"resume": "latest"}, ValueError, r"`resume` must be one of \['strict', 'checkpoint', 'override'\]. Received: resume='latest'"),
        ({"resume": 1}, TypeError, r"`resume`.*Received: resume=1"),
    ],
)
def test_bad_clock_and_resume_are_refused(kw: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        LRScheduler(_sgd(), lk.constant(0.1), **kw)
    with pytest.raises(error, match=match.replace("LRScheduler", "HyperparameterScheduler")):
        HyperparameterScheduler(_sgd(momentum=0.9), "momentum", lk.constant(0.9), **kw)


def _good_state() -> dict[str, Any]:
    return _saved(lk.linear(0.4, 0.0, 20), 5, plateau=lk.ReduceOnPlateau(patience=0, factor=0.5))


def _edit(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    state = copy.deepcopy(_good_state())
    d = state
    for k in path[:-1]:
        d = d[k]
    if value is _DROP:
        del d[path[-1]]
    else:
        d[path[-1]] = value
    return state


_DROP = object()


@pytest.mark.parametrize(
    ("path", "value", "error", "match"),
    [
        (("format",), 1, ValueError, r"format 2.*Received: format=1"),
        (("format",), _DROP, ValueError, r"format 2.*Received: format=None"),
        (("kind",), "HyperparameterScheduler", ValueError, r"`kind` must be 'LRScheduler'.*Received: kind='HyperparameterScheduler'"),
        (("extra",), 1, ValueError, r"has unknown keys \['extra'\]"),
        (("plateau_state",), _DROP, ValueError, r"missing \['plateau_state'\]"),
        (("plateau",), _DROP, ValueError, r"missing \['plateau'\]"),
        (("plateau", "patience"), _DROP, ValueError, r"`plateau` lacks setting\(s\) \['patience'\]"),
        (("clock",), "both", ValueError, r"`clock` must be one of.*Received: clock='both'"),
        (("last_epoch",), -1, ValueError, r"`last_epoch` must be a non-negative integer. Received: last_epoch=-1"),
        (("last_epoch",), 2.0, TypeError, r"`last_epoch`.*Received: last_epoch=2.0"),
        (("_step_count",), True, TypeError, r"`_step_count`.*Received: _step_count=True"),
        (("schedules",), "cosine", TypeError, r"`schedules` must be a list"),
        (("plateau",), {"patience": -1}, ValueError, r"`plateau` is not a valid plateau config.*patience"),
        (("plateau_state", "scale"), -1.0, ValueError, r"`plateau_state\['scale'\]` must be in \(0, 1\]. Received: plateau_state\['scale'\]=-1.0"),
        (("plateau_state", "scale"), math.nan, ValueError, r"`plateau_state\['scale'\]` must be in \(0, 1\]"),
        (("plateau_state", "scale"), 0.0, ValueError, r"`plateau_state\['scale'\]` must be in \(0, 1\]"),
        (("plateau_state", "scale"), "0.5", TypeError, r"`plateau_state\['scale'\]` must be a real number. Received: plateau_state\['scale'\]='0.5'"),
        (("plateau_state", "best"), math.nan, ValueError, r"`plateau_state\['best'\]` must be a number or \+-inf"),
        (("plateau_state", "best"), None, TypeError, r"`plateau_state\['best'\]` must be a real number"),
        (("plateau_state", "num_bad_epochs"), -2, ValueError, r"`plateau_state\['num_bad_epochs'\]` must be a non-negative integer"),
        (("plateau_state", "cooldown_counter"), 1.5, TypeError, r"`plateau_state\['cooldown_counter'\]` must be a non-negative integer"),
        (("plateau_state", "num_reductions"), "2", TypeError, r"`plateau_state\['num_reductions'\]`"),
        (("plateau_state", "scale"), _DROP, ValueError, r"`plateau_state` lacks key\(s\) \['scale'\]"),
        (("plateau_state", "patience"), 3, ValueError, r"`plateau_state` has unknown key\(s\) \['patience'\]"),
    ],
)
def test_a_refused_checkpoint_leaves_the_scheduler_as_it_was(path: tuple[str, ...], value: Any, error: type, match: str) -> None:
    opt = _sgd()
    sched = LRScheduler(opt, lk.linear(0.4, 0.0, 20), plateau=lk.ReduceOnPlateau(patience=0, factor=0.5))
    _update(opt)
    sched.step()
    sched.report(1.0)
    before, lr = sched.state_dict(), opt.param_groups[0]["lr"]
    with pytest.raises(error, match=match):
        sched.load_state_dict(_edit(path, value))
    assert sched.state_dict() == before and opt.param_groups[0]["lr"] == lr
    _update(opt)
    sched.step()  # and it keeps working
    assert sched.last_epoch == 2


def test_hyperparameter_checkpoint_is_not_an_lr_checkpoint() -> None:
    opt = _sgd(momentum=0.9)
    h = HyperparameterScheduler(opt, "momentum", lk.constant(0.9))
    with pytest.raises(ValueError, match=r"`kind` must be 'LRScheduler'.*Received: kind='HyperparameterScheduler'"):
        LRScheduler(opt, lk.constant(0.1)).load_state_dict(h.state_dict())
    with pytest.raises(ValueError, match=r"`kind` must be 'HyperparameterScheduler'"):
        h.load_state_dict(LRScheduler(_sgd(), lk.constant(0.1)).state_dict())


def test_a_native_torch_checkpoint_is_refused_with_the_way_to_continue_it() -> None:
    native_opt = _sgd()
    native = torch.optim.lr_scheduler.CosineAnnealingLR(native_opt, T_max=10, eta_min=0.01)
    for _ in range(3):
        native_opt.step()
        native.step()
    opt = _sgd()
    sched = LRScheduler(opt, lk.from_torch(native))
    with pytest.raises(ValueError, match=r"a torch scheduler's state .*last_epoch=state\['last_epoch'\] - 1\)"):
        sched.load_state_dict(native.state_dict())
    assert sched.last_epoch == 0 and opt.param_groups[0]["lr"] == 1.0
    # ... and the way it names continues the native run.
    opt = _sgd()
    sched = LRScheduler(opt, lk.from_torch(native), last_epoch=native.state_dict()["last_epoch"] - 1)
    for _ in range(12):
        assert opt.param_groups[0]["lr"] == pytest.approx(native_opt.param_groups[0]["lr"], rel=1e-12)
        opt.step()
        sched.step()
        native_opt.step()
        native.step()


# -- a plateau that never hears a metric ------------------------------------------------------------


def test_a_plateau_scheduler_checkpointed_without_any_metric_warns_once() -> None:
    opt = _sgd()
    sched = LRScheduler(opt, lk.constant(0.1), plateau=lk.ReduceOnPlateau(patience=0))
    for _ in range(3):
        _update(opt)
        sched.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.state_dict()  # a first checkpoint may come before the first evaluation
        sched.state_dict()  # and the same step again says nothing new
    _update(opt)
    sched.step()
    with pytest.warns(UserWarning, match=r'without receiving a metric.*"reduce_on_plateau": True'):
        sched.state_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.state_dict()  # once
        reported = LRScheduler(opt, lk.constant(0.1), plateau=lk.ReduceOnPlateau(patience=0))
        for m in (1.0, 1.0, 1.0):
            _update(opt)
            reported.step(m)
        reported.state_dict()


def test_a_checkpoint_of_lrkit_0_1_0_still_resumes() -> None:
    """lrkit 0.1.0 wrote no `format`/`kind`/`clock`: its layout reads as the default clock."""
    old = {"last_epoch": 6, "_step_count": 7, "schedules": [lk.linear(0.4, 0.0, 20).to_config()],
           "plateau": lk.ReduceOnPlateau(patience=0).get_config(),
           "plateau_state": {"scale": 0.1, "best": 0.5, "num_bad_epochs": 0, "cooldown_counter": 0, "num_reductions": 1}}
    opt = _sgd()
    sched = LRScheduler(opt, lk.linear(0.4, 0.0, 20), plateau=lk.ReduceOnPlateau(patience=0))
    sched.load_state_dict(old)
    assert sched.last_epoch == 6 and opt.param_groups[0]["lr"] == pytest.approx(linear_ref(0.4, 0.0, 20, 6) * 0.1)
    hopt = _sgd(momentum=0.9)
    h = HyperparameterScheduler(hopt, "momentum", lk.constant(0.9))
    h.load_state_dict({"last_epoch": 3, "_step_count": 4, "schedules": [lk.constant(0.9).to_config()], "name": "momentum"})
    assert h.last_epoch == 3
    with pytest.raises(ValueError, match=r"`kind` must be 'LRScheduler'"):
        LRScheduler(hopt, lk.constant(0.9)).load_state_dict(
            {"last_epoch": 3, "_step_count": 4, "schedules": [lk.constant(0.9).to_config()], "name": "momentum"})


def test_hyperparameter_scheduler_resume_modes_and_optimizer_clock() -> None:
    def make(schedule: Any, **kw: Any) -> tuple[Any, Any]:
        opt = torch.optim.SGD([_param()], lr=0.1, momentum=0.0)
        return opt, HyperparameterScheduler(opt, "momentum", schedule, clock="optimizer", **kw)

    opt, h = make(lk.linear(0.9, 0.5, 10))
    for _ in range(4):
        _update(opt)
    state = h.state_dict()
    assert state["last_epoch"] == 4 and state["clock"] == "optimizer"
    with pytest.raises(ValueError, match=r"first difference at step 1: checkpoint linear\(0.9, 0.5, 10\)"):
        make(lk.linear(0.9, 0.5, 20))[1].load_state_dict(state)
    opt, h = make(lk.linear(0.9, 0.5, 20), resume="checkpoint")
    h.load_state_dict(state)
    assert opt.param_groups[0]["momentum"] == pytest.approx(linear_ref(0.9, 0.5, 10, 4))
    _update(opt)
    assert opt.param_groups[0]["momentum"] == pytest.approx(linear_ref(0.9, 0.5, 10, 5))
    opt, h = make(lk.linear(0.9, 0.5, 20), resume="override")
    h.load_state_dict(state)
    _update(opt)
    assert opt.param_groups[0]["momentum"] == pytest.approx(linear_ref(0.9, 0.5, 20, 5))


def test_strict_names_the_param_group_that_differs() -> None:
    params = [_param(), _param()]
    opt = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=1.0)
    state = LRScheduler(opt, [lk.constant(0.1), lk.step(0.2, 0.5, 10)]).state_dict()
    opt2 = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=1.0)
    with pytest.raises(ValueError, match=r"different schedule \(param group 1\).*first difference at step 10:"):
        LRScheduler(opt2, [lk.constant(0.1), lk.step(0.2, 0.5, 11)]).load_state_dict(state)

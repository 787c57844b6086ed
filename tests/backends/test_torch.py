"""The PyTorch backend: ``LRScheduler``/``HyperparameterScheduler`` in real optimizers and loops,
and schedules evaluated at torch tensors.

Expected values come from formulas written in this file or from the independent reference
interpreter (``tests/reference.py``), never from lrkit evaluating itself; the applied learning rate
is recovered from the parameter update of plain SGD with a unit gradient.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from helpers import need, probe_steps
from hypothesis import assume, given, settings
from hypothesis import strategies as st

torch = need("torch")

from reference import evaluate_config  # noqa: E402
from schedule_strategies import trees  # noqa: E402

import lrkit as lk  # noqa: E402
from lrkit.backends.torch import HyperparameterScheduler, LRScheduler  # noqa: E402

F64 = torch.float64


# -- helpers --------------------------------------------------------------------------------------


def _scalar_params(n: int) -> list[Any]:
    return [torch.zeros((), dtype=F64, requires_grad=True) for _ in range(n)]


def _applied_update(opt: Any, params: list[Any]) -> list[float]:
    """One SGD update from 0 with gradient 1: returns ``-param`` = the lr applied per param."""
    with torch.no_grad():
        for p in params:
            p.zero_()
    for p in params:
        p.grad = torch.ones((), dtype=F64)
    opt.step()
    return [-p.item() for p in params]


def _applied_lrs(schedule: Any, steps: list[int]) -> list[float]:
    """Applied lr at each sorted step; far steps are reached by loading a state dict."""
    (param,) = _scalar_params(1)
    opt = torch.optim.SGD([param], lr=5.0)
    sched = LRScheduler(opt, schedule)
    out, done = [], 0
    for t in steps:
        if t - done > 5_000:
            state = sched.state_dict()
            state["last_epoch"] = t
            sched.load_state_dict(state)
            done = t
        while done < t:
            if done == 0:
                opt.step()
            sched.step()
            done += 1
        out.append(_applied_update(opt, [param])[0])
        sched.step()
        done += 1
    return out


def _warmup_cosine(t: int, n: int, peak: float, end: float, T: int) -> float:
    """Linear warmup from 0 over ``n`` steps, then cosine from ``peak`` to ``end`` over ``T``."""
    if t < n:
        return peak * t / n
    u = min(t - n, T)
    return end + (peak - end) * (1 + math.cos(math.pi * u / T)) / 2


def _reference(schedule: Any, steps: list[int]) -> list[float]:
    """The reference values; drawn trees whose reference value is not a real number are skipped.

    (``one_cycle`` with a phase shorter than one step extrapolates below 0 at its end, as torch's
    ``OneCycleLR`` does, and a fractional ``power`` of that is complex: a core question, not the
    adapter's.)
    """
    try:
        out = [evaluate_config(schedule.to_config(), t) for t in steps]
    except (TypeError, ValueError, OverflowError):
        out = [math.nan]
    assume(all(math.isfinite(v) and v >= 0 for v in out))
    return out


def _is_primitive(v: Any) -> bool:
    if isinstance(v, dict):
        return all(isinstance(k, str) and _is_primitive(x) for k, x in v.items())
    if isinstance(v, list):
        return all(_is_primitive(x) for x in v)
    return v is None or type(v) in (bool, int, float, str)


# -- the scheduler in real optimizers -------------------------------------------------------------


def test_is_a_torch_lr_scheduler() -> None:
    (p,) = _scalar_params(1)
    opt = torch.optim.SGD([p], lr=1.0)
    assert isinstance(LRScheduler(opt, lk.constant(0.1)), torch.optim.lr_scheduler.LRScheduler)
    assert isinstance(
        HyperparameterScheduler(opt, "momentum", lk.constant(0.9)), torch.optim.lr_scheduler.LRScheduler
    )


@given(
    n=st.integers(1, 40),
    peak=st.floats(1e-5, 2.0),
    end=st.floats(0.0, 1e-3),
    T=st.integers(1, 60),
    base=st.floats(0.0, 10.0),
)
@settings(max_examples=40)
def test_applied_lr_is_the_schedule_value(n: int, peak: float, end: float, T: int, base: float) -> None:
    """SGD, unit gradient, param reset: the update equals the hand-written warmup+cosine."""
    (param,) = _scalar_params(1)
    opt = torch.optim.SGD([param], lr=base)  # absolute values: the optimizer's own lr is ignored
    sched = LRScheduler(opt, lk.warmup(lk.cosine(peak, end, T), n))
    for k in range(n + T + 3):
        expected = _warmup_cosine(k, n, peak, end, T)
        applied = _applied_update(opt, [param])[0]
        assert applied == pytest.approx(expected, rel=1e-12, abs=1e-15 * peak)
        assert sched.get_last_lr() == [opt.param_groups[0]["lr"]]
        sched.step()
        assert sched.last_epoch == k + 1


@given(drawn=trees(max_leaves=4), data=st.data())
@settings(max_examples=30)
def test_random_schedules_applied_through_sgd_match_reference(drawn: Any, data: Any) -> None:
    schedule, horizon = drawn
    horizon = min(horizon, 3_000)
    steps = probe_steps(schedule, horizon)
    if len(steps) > 150:
        steps = sorted(set(steps[:75]) | set(data.draw(st.lists(st.sampled_from(steps), max_size=75))))
    steps = sorted(set(steps) | set(data.draw(st.lists(st.integers(0, 10**8), max_size=3))))
    expected = _reference(schedule, steps)
    np.testing.assert_allclose(_applied_lrs(schedule, steps), expected, rtol=1e-10, atol=1e-14)


def test_training_loop_with_per_group_schedules() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    opt = torch.optim.AdamW(
        [{"params": model[0].parameters()}, {"params": model[2].parameters(), "weight_decay": 0.0}],
        lr=1e-3,
    )
    body = lk.warmup(lk.cosine(3e-3, 1e-5, 40), 5)
    head = lk.multistep(1e-2, [10, 30], 0.1)
    sched = LRScheduler(opt, [body, head])
    x, y = torch.randn(32, 4), torch.randn(32, 1)
    losses = []
    for k in range(50):
        expected = [
            _warmup_cosine(k, 5, 3e-3, 1e-5, 40),
            1e-2 * 0.1 ** sum(k >= m for m in (10, 30)),
        ]
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(expected, rel=1e-12, abs=1e-18)
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_per_group_applied_lrs_recovered_from_updates() -> None:
    params = _scalar_params(3)
    opt = torch.optim.SGD([{"params": [p]} for p in params], lr=0.0)
    shapes = [lk.linear(0.0, 0.3, 7), lk.step(0.2, 0.5, 3), lk.constant(0.05)]
    sched = LRScheduler(opt, shapes)
    for k in range(15):
        expected = [0.3 * min(k, 7) / 7, 0.2 * 0.5 ** (k // 3), 0.05]
        assert _applied_update(opt, params) == pytest.approx(expected, rel=1e-12, abs=1e-18)
        sched.step()


def test_one_schedule_drives_every_group_and_added_groups() -> None:
    params = _scalar_params(3)
    opt = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 7.0}], lr=1.0)
    with pytest.warns(UserWarning, match=r"different values .*'lr'\]=1.0.*'lr'\]=7.0"):
        sched = LRScheduler(opt, lk.exponential(0.1, 0.5, 1))
    opt.step()
    sched.step()
    opt.add_param_group({"params": [params[2]], "lr": 3.0})
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == [0.025, 0.025, 0.025]


def test_lr_scale_of_a_group_multiplies_the_value() -> None:
    params = _scalar_params(2)
    opt = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr_scale": 0.25}], lr=1.0)
    sched = LRScheduler(opt, lk.linear(0.4, 0.0, 4))
    for k in range(6):
        v = 0.4 * (1 - min(k, 4) / 4)
        assert _applied_update(opt, params) == pytest.approx([v, 0.25 * v], rel=1e-12, abs=1e-18)
        assert sched.get_last_lr() == pytest.approx([v, 0.25 * v], rel=1e-12, abs=1e-18)
        sched.step()


def test_a_list_of_schedules_is_applied_as_given_over_lr_scale() -> None:
    # Each schedule of a list is its group's own curve (lk.from_timm(..., group=i) already holds
    # the group's lr_scale): scaling it again would apply the scale twice.
    params = _scalar_params(2)
    opt = torch.optim.SGD([{"params": [params[0]], "lr_scale": 0.5}, {"params": [params[1]], "lr_scale": 0.25}], lr=1.0)
    sched = LRScheduler(opt, [lk.linear(0.4, 0.0, 4), lk.constant(0.03)])
    for k in range(6):
        expected = [0.4 * (1 - min(k, 4) / 4), 0.03]
        assert _applied_update(opt, params) == pytest.approx(expected, rel=1e-12, abs=1e-18)
        assert sched.get_last_lr() == pytest.approx(expected, rel=1e-12, abs=1e-18)
        sched.step()


def test_one_schedule_over_groups_set_differently_warns() -> None:
    def opt(**second: Any) -> Any:
        params = _scalar_params(2)
        return torch.optim.AdamW([{"params": [params[0]]}, {"params": [params[1]], **second}], lr=1e-3, weight_decay=0.01)

    s = lk.cosine(1e-3, 0.0, 10)
    with pytest.warns(UserWarning, match=r"LRScheduler: .*different values \(param_groups\[0\]\['lr'\]=0.001, "
                      r"param_groups\[1\]\['lr'\]=0.0001\).*one schedule per group"):
        LRScheduler(opt(lr=1e-4), s)
    with pytest.warns(UserWarning, match=r"HyperparameterScheduler: .*\['weight_decay'\]=0.0\)"):
        HyperparameterScheduler(opt(weight_decay=0.0), "weight_decay", lk.constant(0.05))
    with pytest.warns(UserWarning, match=r"\['betas'\]\[0\]=0.8"):
        HyperparameterScheduler(opt(betas=(0.8, 0.999)), "beta1", lk.constant(0.9))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LRScheduler(opt(), s)  # the same lr everywhere
        LRScheduler(opt(lr=1e-4), [s, 0.1 * s])  # one schedule per group
        HyperparameterScheduler(opt(weight_decay=0.0), "weight_decay", [lk.constant(0.05), lk.constant(0.0)])
        HyperparameterScheduler(opt(weight_decay=0.0), "beta1", lk.constant(0.9))  # betas alike
        LRScheduler(opt(lr=1e-3 * 0.3, lr_scale=0.3), s)  # the difference lives in lr_scale (BEiT)
        LRScheduler(opt(lr_scale=0.3), s)  # ... and the same lr everywhere (timm)
        moved = opt()
        LRScheduler(moved, [s, lk.constant(0.5)])  # moves group 1's lr; initial_lr is still 1e-3
        LRScheduler(moved, s)
        tensors = _scalar_params(2)
        LRScheduler(torch.optim.SGD([{"params": [p], "lr": torch.tensor(0.1)} for p in tensors]), s)
    with pytest.warns(UserWarning, match="different values"):
        tensors = _scalar_params(2)
        LRScheduler(torch.optim.SGD([{"params": [p], "lr": torch.tensor(0.1 * (i + 1))} for i, p in enumerate(tensors)]), s)


def test_a_hyperparameter_scheduler_entered_by_sequential_lr_leaves_the_lr() -> None:
    # torch's SequentialLR enters a later child through _update_lr(0), writing the child's
    # _get_closed_form_lr into "lr": for a HyperparameterScheduler that must stay the lr.
    (param,) = _scalar_params(1)
    opt = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    L = torch.optim.lr_scheduler
    seq = L.SequentialLR(opt, [L.ConstantLR(opt, 0.5, 2), HyperparameterScheduler(opt, "momentum", lk.linear(0.8, 0.9, 4))], [2])
    seen = []
    for _ in range(6):
        seen += [opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]]
        opt.step()
        seq.step()
    assert seen == pytest.approx([0.05, 0.8, 0.05, 0.8, 0.05, 0.8, 0.05, 0.825, 0.05, 0.85, 0.05, 0.875], rel=1e-12)


def test_tensor_lr_is_filled_in_place() -> None:
    (param,) = _scalar_params(1)
    lr = torch.tensor(0.5, dtype=F64)
    opt = torch.optim.Adam([param], lr=lr, foreach=False)  # capturable needs an accelerator
    sched = LRScheduler(opt, lk.step(0.1, 0.5, 2))
    for k in range(6):
        assert opt.param_groups[0]["lr"] is lr
        assert lr.item() == 0.1 * 0.5 ** (k // 2)
        last = sched.get_last_lr()[0]
        assert isinstance(last, torch.Tensor) and last is not lr and last.item() == lr.item()
        param.grad = torch.ones((), dtype=F64)
        opt.step()
        sched.step()


def test_schedule_to_torch_builds_the_adapter() -> None:
    (param,) = _scalar_params(1)
    opt = torch.optim.SGD([param], lr=1.0)
    sched = lk.cosine(0.2, 0.0, 10).to_torch(opt, last_epoch=3)
    assert type(sched) is LRScheduler
    # torch's convention: last_epoch=3 means steps 0..3 are done; the constructor steps to 4.
    assert sched.last_epoch == 4
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * (1 + math.cos(math.pi * 0.4)), rel=1e-12)


def test_no_order_warning_in_the_documented_loop_and_torchs_warning_when_reversed() -> None:
    (param,) = _scalar_params(1)
    opt = torch.optim.SGD([param], lr=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched = LRScheduler(opt, lk.constant(0.1))
        for _ in range(3):
            param.grad = torch.ones((), dtype=F64)
            opt.step()
            sched.step()
    # Reversed order: the same warning torch's own schedulers give.
    for make in (lambda o: LRScheduler(o, lk.constant(0.1)), lambda o: torch.optim.lr_scheduler.StepLR(o, 1)):
        o = torch.optim.SGD(_scalar_params(1), lr=1.0)
        s = make(o)
        with pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):
            s.step()


def test_step_with_epoch_is_deprecated_but_exact() -> None:
    (param,) = _scalar_params(1)
    opt = torch.optim.SGD([param], lr=1.0)
    sched = LRScheduler(opt, lk.multistep(1.0, [5, 9], 0.5))
    opt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(9)
    assert sched.last_epoch == 9 and opt.param_groups[0]["lr"] == 0.25
    with pytest.raises(ValueError, match="`epoch`"):  # refused before the deprecation warning
        sched.step(-2)
    assert sched.last_epoch == 9


# -- checkpoints ----------------------------------------------------------------------------------


def _make_run(seed: int = 0) -> tuple[Any, Any, Any, Any]:
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 2).double()
    opt = torch.optim.AdamW(model.parameters(), lr=0.0, betas=(0.9, 0.99))
    lr = LRScheduler(opt, lk.warmup(lk.cosine(1e-2, 1e-4, 30), 5))
    beta1 = HyperparameterScheduler(opt, "beta1", lk.join([lk.cosine(0.95, 0.85, 15), lk.cosine(0.85, 0.95, 20)], [15]))
    return model, opt, lr, beta1


def _train(model: Any, opt: Any, scheds: tuple[Any, ...], ks: range) -> list[float]:
    lrs = []
    for k in ks:
        g = torch.Generator().manual_seed(k)
        x, y = torch.randn(8, 3, generator=g, dtype=F64), torch.randn(8, 2, generator=g, dtype=F64)
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        lrs.append(opt.param_groups[0]["lr"])
        for s in scheds:
            s.step()
    return lrs


def test_checkpoint_with_weights_only_resumes_exactly(tmp_path: Any) -> None:
    model, opt, lr, beta1 = _make_run()
    full = _train(model, opt, (lr, beta1), range(40))
    final = [p.detach().clone() for p in model.parameters()]

    model, opt, lr, beta1 = _make_run()
    first = _train(model, opt, (lr, beta1), range(17))
    state = {"model": model.state_dict(), "opt": opt.state_dict(), "lr": lr.state_dict(), "beta1": beta1.state_dict()}
    assert _is_primitive(state["lr"]) and _is_primitive(state["beta1"])
    torch.save(state, tmp_path / "ckpt.pt")
    del model, opt, lr, beta1

    ckpt = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    model, opt, lr, beta1 = _make_run(seed=1)  # different init: everything must come from the checkpoint
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["opt"])
    lr.load_state_dict(ckpt["lr"])
    beta1.load_state_dict(ckpt["beta1"])
    assert lr.last_epoch == 17 and lr.get_last_lr() == [full[17]]
    rest = _train(model, opt, (lr, beta1), range(17, 40))
    assert first + rest == full
    for a, b in zip(model.parameters(), final):
        assert torch.equal(a, b)


def test_load_state_dict_writes_the_groups_even_without_the_optimizer_state() -> None:
    params = _scalar_params(2)
    opt = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=1.0, momentum=0.5)
    s1, s2 = lk.linear(0.5, 0.0, 10), lk.constant(0.3)
    m = lk.linear(0.9, 0.0, 100)
    state, mstate = LRScheduler(opt, [s1, s2]).state_dict(), HyperparameterScheduler(opt, "momentum", m).state_dict()
    state["last_epoch"], mstate["last_epoch"] = 6, 50
    fresh = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=1.0, momentum=0.5)
    sched, msched = LRScheduler(fresh, [s1, s2]), HyperparameterScheduler(fresh, "momentum", m)
    sched.load_state_dict(state)
    msched.load_state_dict(mstate)
    assert [g["lr"] for g in fresh.param_groups] == pytest.approx([0.2, 0.3], rel=1e-12)
    assert sched.get_last_lr() == pytest.approx([0.2, 0.3], rel=1e-12)
    assert [g["momentum"] for g in fresh.param_groups] == pytest.approx([0.45, 0.45], rel=1e-12)


def test_load_state_dict_refuses_a_different_schedule() -> None:
    (param,) = _scalar_params(1)
    opt = torch.optim.SGD([param], lr=1.0, momentum=0.9)
    saved = LRScheduler(opt, lk.cosine(0.1, 0.0, 100)).state_dict()
    with pytest.raises(ValueError, match="different schedule"):
        LRScheduler(opt, lk.cosine(0.1, 0.0, 101)).load_state_dict(saved)
    with pytest.raises(ValueError, match="format"):
        LRScheduler(opt, lk.cosine(0.1, 0.0, 100)).load_state_dict({"last_epoch": 3})
    with pytest.raises(ValueError, match=r"missing \['_step_count'\]"):
        LRScheduler(opt, lk.cosine(0.1, 0.0, 100)).load_state_dict({k: v for k, v in saved.items() if k != "_step_count"})
    with pytest.raises(TypeError, match="state_dict"):
        LRScheduler(opt, lk.cosine(0.1, 0.0, 100)).load_state_dict([1, 2])
    bad = dict(saved, last_epoch="7")
    with pytest.raises(TypeError, match="last_epoch"):
        LRScheduler(opt, lk.cosine(0.1, 0.0, 100)).load_state_dict(bad)
    hsaved = HyperparameterScheduler(opt, "momentum", lk.constant(0.9)).state_dict()
    with pytest.raises(ValueError, match="drives 'momentum'"):
        HyperparameterScheduler(opt, "dampening", lk.constant(0.9)).load_state_dict(hsaved)
    with pytest.raises(ValueError, match="plateau"):
        LRScheduler(opt, lk.cosine(0.1, 0.0, 100), plateau=lk.ReduceOnPlateau()).load_state_dict(saved)


def test_per_group_checkpoint_refuses_another_group_count() -> None:
    params = _scalar_params(2)
    opt2 = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=1.0)
    saved = LRScheduler(opt2, lk.constant(0.1)).state_dict()
    opt1 = torch.optim.SGD([params[0]], lr=1.0)
    with pytest.raises(ValueError, match="different schedule"):
        LRScheduler(opt1, lk.constant(0.1)).load_state_dict(saved)


# -- plateau ----------------------------------------------------------------------------------------


def test_plateau_report_reduces_immediately_and_checkpoints() -> None:
    (param,) = _scalar_params(1)
    opt = torch.optim.SGD([param], lr=1.0)
    plateau = lk.ReduceOnPlateau(patience=1, factor=0.5)
    sched = LRScheduler(opt, lk.linear(0.4, 0.2, 10), plateau=plateau)
    native_opt = torch.optim.SGD(_scalar_params(1), lr=1.0)
    native = torch.optim.lr_scheduler.ReduceLROnPlateau(native_opt, patience=1, factor=0.5)
    for k, metric in enumerate([1.0, 0.9, 0.9, 0.9, 0.95, 0.5, 0.7, 0.7, 0.7]):
        opt.step()
        sched.step()
        sched.report(torch.tensor(metric))
        native.step(metric)
        scale = native_opt.param_groups[0]["lr"]  # native on lr 1.0: the product of reductions
        assert opt.param_groups[0]["lr"] == pytest.approx((0.4 - 0.02 * (k + 1)) * scale, rel=1e-12)
    state = sched.state_dict()
    assert _is_primitive(state) and state["plateau_state"]["num_reductions"] >= 2
    other = LRScheduler(torch.optim.SGD(_scalar_params(1), lr=1.0), lk.linear(0.4, 0.2, 10), plateau=plateau)
    other.load_state_dict(state)
    assert other.get_last_lr() == sched.get_last_lr()
    with pytest.raises(ValueError, match="plateau"):
        LRScheduler(opt, lk.linear(0.4, 0.2, 10), plateau=lk.ReduceOnPlateau(patience=2)).load_state_dict(state)
    with pytest.raises(ValueError, match="plateau"):
        LRScheduler(opt, lk.constant(0.1)).report(1.0)


# -- hyperparameters other than the lr ---------------------------------------------------------------


def test_momentum_schedule_inside_sgd() -> None:
    """SGD with a scheduled momentum: the trajectory matches a hand-written heavy-ball recurrence."""
    (param,) = _scalar_params(1)
    opt = torch.optim.SGD([param], lr=0.1, momentum=0.0)
    mom = HyperparameterScheduler(opt, "momentum", lk.linear(0.95, 0.5, 10))
    p, buf = 0.0, None
    for k in range(15):
        mu = 0.95 + (0.5 - 0.95) * min(k, 10) / 10
        assert opt.param_groups[0]["momentum"] == pytest.approx(mu, rel=1e-12)
        g = math.sin(k) + 2.0
        param.grad = torch.tensor(g, dtype=F64)
        opt.step()
        buf = g if buf is None else mu * buf + g
        p -= 0.1 * buf
        assert param.item() == pytest.approx(p, rel=1e-12)
        assert mom.get_last_value() == pytest.approx([mu], rel=1e-12)
        mom.step()


@given(lo=st.floats(0.8, 0.9), hi=st.floats(0.9, 0.99), up=st.integers(1, 10), wd=st.floats(0.0, 0.1))
@settings(max_examples=25)
def test_adamw_beta1_cycled_like_one_cycle(lo: float, hi: float, up: int, wd: float) -> None:
    """AdamW with lr and beta1 scheduled together matches a hand-written AdamW (float64)."""
    (param,) = _scalar_params(1)
    with torch.no_grad():
        param.fill_(1.0)
    opt = torch.optim.AdamW([param], lr=1.0, betas=(0.5, 0.999), weight_decay=wd, eps=1e-8, foreach=False)
    lr_sched = LRScheduler(opt, lk.linear(1e-3, 1e-2, up))
    b1_sched = HyperparameterScheduler(opt, "beta1", lk.join([lk.linear(hi, lo, up), lk.linear(lo, hi, up)], [up]))
    p, m, v = 1.0, 0.0, 0.0
    for k in range(3 * up + 2):
        lr = 1e-3 + (1e-2 - 1e-3) * min(k, up) / up
        b1 = hi + (lo - hi) * k / up if k < up else lo + (hi - lo) * min(k - up, up) / up
        b2 = 0.999
        assert opt.param_groups[0]["betas"] == pytest.approx((b1, b2), rel=1e-12)
        g = math.cos(0.7 * k) + 0.1 * k
        param.grad = torch.tensor(g, dtype=F64)
        opt.step()
        p *= 1 - lr * wd
        m += (g - m) * (1 - b1)
        v = v * b2 + (1 - b2) * g * g
        n = k + 1
        p -= lr / (1 - b1**n) * m / (math.sqrt(v) / math.sqrt(1 - b2**n) + 1e-8)
        assert param.item() == pytest.approx(p, rel=1e-9)
        lr_sched.step()
        b1_sched.step()


def test_beta2_and_weight_decay_and_tensor_entries() -> None:
    (param,) = _scalar_params(1)
    opt = torch.optim.Adam([param], lr=1e-3, betas=(0.9, 0.999), weight_decay=0.1)
    b2 = HyperparameterScheduler(opt, "beta2", lk.constant(0.95))
    wd = HyperparameterScheduler(opt, "weight_decay", lk.step(0.1, 0.5, 1))
    assert opt.param_groups[0]["betas"] == (0.9, 0.95)
    opt.step()
    b2.step()
    wd.step()
    assert opt.param_groups[0]["weight_decay"] == 0.05
    (q,) = _scalar_params(1)
    t = torch.tensor(0.9, dtype=F64)
    topt = torch.optim.SGD([q], lr=0.1, momentum=t)
    HyperparameterScheduler(topt, "momentum", lk.constant(0.5))
    assert topt.param_groups[0]["momentum"] is t and t.item() == 0.5


# -- bad input ---------------------------------------------------------------------------------------


def _opt(n: int = 1) -> Any:
    return torch.optim.SGD([{"params": [p]} for p in _scalar_params(n)], lr=1.0, momentum=0.9)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: LRScheduler("sgd", lk.constant(0.1)), TypeError, r"`optimizer` must be a torch.optim.Optimizer. Received: optimizer='sgd'"),
        (lambda: LRScheduler(_opt(), 0.1), TypeError, r"`schedule` must be an lrkit schedule.*Received: schedule=0.1"),
        (lambda: LRScheduler(_opt(2), [lk.constant(0.1)]), ValueError, r"`schedule` must be one schedule, or a list with one schedule per param group \(2\). Received: a list of 1"),
        (lambda: LRScheduler(_opt(2), [lk.constant(0.1), "x"]), TypeError, r"`schedule\[1\]` must be an lrkit schedule. Received: schedule\[1\]='x'"),
        (lambda: LRScheduler(_opt(), lk.constant(0.1), last_epoch=-2), ValueError, r"`last_epoch` must be an integer >= -1. Received: last_epoch=-2"),
        (lambda: LRScheduler(_opt(), lk.constant(0.1), last_epoch=1.5), TypeError, r"`last_epoch`.*Received: last_epoch=1.5"),
        (lambda: LRScheduler(_opt(), lk.constant(0.1), plateau="min"), TypeError, r"`plateau` must be an lrkit.ReduceOnPlateau.*Received: plateau='min'"),
        (lambda: LRScheduler(_opt(), 0.1), TypeError, r"lrkit.constant\(0.1\)"),
        (lambda: LRScheduler(_opt(), lk.constant(0.1).to_config()), TypeError, r"lrkit.from_config\(config\)"),
        (lambda: (o := _opt(), LRScheduler(o, torch.optim.lr_scheduler.StepLR(o, 3)))[1], TypeError,
         r"lrkit.from_torch\(scheduler\).*Received: schedule=<torch.optim.lr_scheduler.StepLR"),
        (lambda: (o := _opt(), LRScheduler(o, lk.constant(0.1), plateau=torch.optim.lr_scheduler.ReduceLROnPlateau(o)))[1],
         TypeError, r"settings with lrkit.from_torch\(plateau\)"),
        (lambda: LRScheduler(_opt(), lk.constant(0.1), 3), TypeError, r"positional"),
        (lambda: HyperparameterScheduler(_opt(), 3, lk.constant(0.1)), TypeError, r"`name` must be.*Received: name=3"),
        (lambda: HyperparameterScheduler(_opt(), "betas1", lk.constant(0.1)), ValueError, r"has no 'betas1'.*'momentum'.*Received: name='betas1'"),
        (lambda: HyperparameterScheduler(_opt(), "beta1", lk.constant(0.1)), ValueError, r"has no 'betas'.*Received: name='beta1'"),
        (lambda: HyperparameterScheduler(_opt(), "nesterov", lk.constant(0.1)), ValueError, r"numeric.*Received: name='nesterov'"),
        (lambda: HyperparameterScheduler(_opt(), "momentum", [lk.constant(0.1)] * 2), ValueError, r"`schedule`.*Received: a list of 2"),
    ],
)
def test_bad_input_is_refused_at_construction(build: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()


def test_groups_added_to_a_per_group_scheduler_are_an_error() -> None:
    opt = _opt(1)
    sched = LRScheduler(opt, [lk.constant(0.1)])
    opt.add_param_group({"params": _scalar_params(1)})
    opt.step()
    with pytest.raises(ValueError, match="2 param groups"):
        sched.step()


# -- evaluation at torch tensors ---------------------------------------------------------------------


@given(
    drawn=trees(max_leaves=5),
    dtype=st.sampled_from([torch.int64, torch.int32, torch.float64]),
    data=st.data(),
)
@settings(max_examples=60)
def test_tensor_evaluation_matches_numpy_and_reference(drawn: Any, dtype: Any, data: Any) -> None:
    schedule, horizon = drawn
    steps = probe_steps(schedule, min(horizon, 5_000))
    steps += data.draw(st.lists(st.integers(0, 2**31 - 1), max_size=4))
    t = torch.tensor(steps, dtype=dtype)
    out = schedule(t)
    assert out.dtype == F64 and out.shape == t.shape and out.device == t.device
    np.testing.assert_allclose(out.numpy(), schedule(np.asarray(steps)), rtol=1e-12, atol=1e-15)
    sample = data.draw(st.lists(st.sampled_from(steps), min_size=1, max_size=20))
    ref = _reference(schedule, sample)
    np.testing.assert_allclose(schedule(torch.tensor(sample, dtype=dtype)).numpy(), ref, rtol=1e-10, atol=1e-14)


def test_tensor_evaluation_shapes_and_bad_steps() -> None:
    s = lk.piecewise_constant([3, 10], [0.4, 0.2, 0.1])
    grid = torch.arange(12).reshape(3, 4)
    out = s(grid)
    assert out.shape == (3, 4) and out.dtype == F64
    assert out.flatten().tolist() == [0.4] * 3 + [0.2] * 7 + [0.1] * 2
    assert s(torch.tensor(10)).item() == 0.1 and s(torch.tensor(10)).shape == ()
    assert lk.constant(0.3)(torch.zeros(2, 0)).shape == (2, 0)
    with pytest.raises(ValueError, match="`step` must be finite and non-negative"):
        s(torch.tensor([1, -1]))
    with pytest.raises(ValueError, match="`step`"):
        s(torch.tensor([float("nan")]))
    with pytest.raises(ValueError, match="`step`"):
        s(torch.tensor([3.0, float("inf")]))
    with pytest.raises(TypeError, match="`step`"):
        s(torch.tensor([True]))


def test_narrow_step_dtypes_are_widened_before_shifting() -> None:
    """int32 near its limit plus a shift must not wrap; float32 steps are exact in float64."""
    from lrkit._compose import shift

    s = shift(lk.warmup(lk.constant(0.5), 1, start=1.0), 1)  # 1.0 at t + 1 < 1, then 0.5
    t32 = torch.tensor([0, 2**31 - 1], dtype=torch.int32)
    assert s(t32).tolist() == [0.5, 0.5]
    c = lk.cosine(1.0, 0.0, 2**25)
    t = torch.tensor([2**24, 2**25 - 2], dtype=torch.float32)
    # (1 + cos(pi k / T)) / 2 == sin^2(pi (T - k) / 2T), the form that keeps precision near T
    expected = [math.sin(math.pi * (2**25 - k) / 2**26) ** 2 for k in (2**24, 2**25 - 2)]
    np.testing.assert_allclose(c(t).numpy(), expected, rtol=1e-12, atol=1e-18)


def test_tensor_evaluation_traces_under_torch_compile() -> None:
    s = lk.warmup(lk.join([lk.cosine(0.3, 0.01, 40), lk.multistep(0.01, [5, 9], 0.5)], [40]), 6)
    compiled = torch.compile(lambda t: s(t), backend="eager", fullgraph=True)
    t = torch.arange(120)
    expected = [evaluate_config(s.to_config(), k) for k in range(120)]
    np.testing.assert_allclose(compiled(t).numpy(), expected, rtol=1e-12, atol=1e-15)


def test_a_compiled_function_may_be_the_first_to_meet_a_tensor() -> None:
    """In a fresh process, nothing has loaded lrkit's torch table yet: the compiled function loads
    it while torch.compile traces (fullgraph: no graph break allowed)."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, torch, lrkit as lk\n"
        "assert 'lrkit.backends._torch_ops' not in sys.modules\n"
        "s = lk.warmup(lk.cosine(0.3, 0.01, 40), 6)\n"
        "f = torch.compile(lambda t: s(t), backend='eager', fullgraph=True)\n"
        "print(repr(float(f(torch.tensor(3.0)))))\n"
    )
    root = os.path.dirname(os.path.dirname(lk.__file__))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.strip()) == pytest.approx(0.3 * 3 / 6, rel=1e-12)


def test_scheduler_survives_deepcopy_and_pickle() -> None:
    import copy
    import pickle

    (param,) = _scalar_params(1)
    opt = torch.optim.SGD([param], lr=1.0)
    sched = LRScheduler(opt, lk.step(0.1, 0.5, 2))
    opt.step()
    sched.step()
    clone = copy.deepcopy(sched)
    clone.step()
    assert clone.optimizer.param_groups[0]["lr"] == 0.05 and opt.param_groups[0]["lr"] == 0.1
    again = pickle.loads(pickle.dumps(sched))
    again.step()
    assert again.get_last_lr() == [0.05] and again.state_dict()["last_epoch"] == 2


def test_missing_torch_raises_backend_unavailable() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import lrkit\n"
        "try:\n"
        "    import lrkit.backends.torch\n"
        "except lrkit.BackendUnavailableError as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    root = str(__import__("pathlib").Path(lk.__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert "BackendUnavailableError" in out.stdout and "pip install 'lrkit[torch]'" in out.stdout

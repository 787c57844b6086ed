"""Updates that do not happen, and updates that are compiled.

* A ``GradScaler`` skips ``optimizer.step()`` when the scaled gradients overflow; a training loop
  still calls ``scheduler.step()``. With ``clock="optimizer"`` the schedule counts only the
  updates that ran.
* A ``torch.compile``-d ``optimizer.step`` over tensor hyperparameters (lr, Adam's betas, weight
  decay) does not recompile in 100 steps of lrkit schedulers and plateau reductions (dynamo's own
  counters say so); a float hyperparameter that would recompile gets one warning naming the fix.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest
from helpers import need

torch = need("torch")

import lrkit as lk  # noqa: E402
from lrkit.backends.torch import HyperparameterScheduler, LRScheduler  # noqa: E402


def cosine_ref(start: float, end: float, steps: int, t: int) -> float:
    return end + (start - end) * (1 + math.cos(math.pi * min(t, steps) / steps)) / 2


# -- GradScaler ------------------------------------------------------------------------------------


@pytest.mark.parametrize("clock", ["scheduler", "optimizer"])
def test_grad_scaler_skipped_updates_do_not_move_the_optimizer_clock(clock: str) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    applied: list[float] = []
    opt.register_step_pre_hook(lambda o, a, k: applied.append(o.param_groups[0]["lr"]))
    sched = LRScheduler(opt, lk.cosine(0.1, 0.01, 12), clock=clock)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**4)
    overflow = {2, 3, 7}  # batches whose loss is inf: their scaled gradients overflow
    for i in range(12):
        x = torch.randn(4, 3)
        loss = model(x).pow(2).mean() * (math.inf if i in overflow else 1.0)
        scaler.scale(loss).backward()
        scaler.step(opt)  # skips optimizer.step() when a gradient is inf
        scaler.update()
        opt.zero_grad()
        sched.step()  # the usual loop: called after every batch
    assert len(applied) == 12 - len(overflow)  # the scaler really skipped 3 updates
    if clock == "optimizer":
        assert applied == pytest.approx([cosine_ref(0.1, 0.01, 12, t) for t in range(9)], rel=1e-12)
        assert sched.last_epoch == 9
    else:  # the default clock counted the skipped batches too: the schedule ran ahead
        batches = [i for i in range(12) if i not in overflow]
        assert applied == pytest.approx([cosine_ref(0.1, 0.01, 12, b) for b in batches], rel=1e-12)


# -- torch.compile -----------------------------------------------------------------------------------


def _compiled_run(backend: str, tensors: bool, clock: str, n: int = 100) -> tuple[Any, list[int], Any]:
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    t = torch.tensor if tensors else float
    opt = torch.optim.AdamW(model.parameters(), lr=torch.tensor(0.01), betas=(t(0.9), t(0.999)), weight_decay=t(0.01))
    lr = LRScheduler(opt, lk.warmup(lk.cosine(0.01, 0.001, n), 5), clock=clock,
                     plateau=lk.ReduceOnPlateau(patience=2, factor=0.5, eps=0.0))
    beta1 = HyperparameterScheduler(opt, "beta1", lk.cosine(0.95, 0.85, n), clock=clock)
    wd = HyperparameterScheduler(opt, "weight_decay", lk.linear(0.01, 0.1, n), clock=clock)
    step = torch.compile(opt.step, backend=backend)
    graphs = []
    x = torch.randn(8, 4)
    for _ in range(n):
        model(x).pow(2).mean().backward()
        step()
        opt.zero_grad()
        for s in (lr, beta1, wd):
            s.step()
        lr.report(1.0)  # a flat metric: after the first, a reduction every third evaluation
        graphs.append(counters["stats"]["unique_graphs"])
    return opt, graphs, lr


# torch's inductor itself warns about torch.jit.script_method while compiling: not lrkit's.
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_compiled_adamw_step_never_recompiles_with_tensor_hyperparameters() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*is a Python float")
        opt, graphs, lr = _compiled_run("inductor", tensors=True, clock="scheduler")
    assert graphs[0] >= 1 and graphs[-1] == graphs[0]  # compiled once, zero recompiles in 100 steps
    reductions = lr.state_dict()["plateau_state"]["num_reductions"]
    assert reductions == (100 - 1) // 3  # plateau reductions happened all along
    g = opt.param_groups[0]
    assert float(g["lr"]) == pytest.approx(0.5**reductions * cosine_ref(0.01, 0.001, 100, 95), rel=1e-6)
    assert float(g["betas"][0]) == pytest.approx(0.85, rel=1e-6) and float(g["weight_decay"]) == pytest.approx(0.1)


def test_optimizer_clock_under_compile_and_the_float_warning() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*is a Python float")
        opt, graphs, lr = _compiled_run("eager", tensors=True, clock="optimizer")
    assert graphs[-1] == graphs[0] and lr.last_epoch == 100  # the hook ran eagerly after each compiled update
    assert float(opt.param_groups[0]["betas"][0]) == pytest.approx(0.85, rel=1e-6)
    # Float betas/weight decay with a tensor lr: one warning per scheduler, naming the fix.
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _compiled_run("eager", tensors=False, clock="optimizer", n=5)
    ours = [str(w.message) for w in record if "Python float" in str(w.message)]
    assert len(ours) == 2  # beta1 and weight_decay, once each
    assert "param_groups[0]['betas'][0] is a Python float" in ours[0] and "betas=(torch.tensor(0.9)" in ours[0]
    assert "param_groups[0]['weight_decay'] is a Python float" in ours[1]


def test_a_compiled_step_with_float_hyperparameters_is_detected_at_run_time() -> None:
    """No tensor anywhere at construction: the warning comes when the compiled step is seen."""
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched = HyperparameterScheduler(opt, "beta1", lk.cosine(0.95, 0.85, 10))
        model(torch.randn(2, 4)).sum().backward()
        opt.step()  # eager: nothing to say
        sched.step()
    torch._dynamo.reset()
    step = torch.compile(opt.step, backend="eager")
    with pytest.warns(UserWarning, match=r"HyperparameterScheduler: param_groups\[0\]\['betas'\]\[0\] is a Python float"):
        step()
        sched.step()

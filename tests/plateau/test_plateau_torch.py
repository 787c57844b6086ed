"""Reduce-on-plateau and the range test in torch, against torch's own ReduceLROnPlateau."""

from __future__ import annotations

import math
import os
import socket

import helpers
import numpy as np
import plateau_reference as ref
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit as lk
from lrkit._plateau import PlateauMetricWarning, _from_torch_plateau

torch = helpers.need("torch")
from lrkit.backends.torch import LRScheduler, lr_range_test  # noqa: E402

SETTINGS = st.fixed_dictionaries({
    "mode": st.sampled_from(["min", "max"]),
    "factor": st.sampled_from([0.1, 0.5, 0.3, 0.9]),
    "patience": st.integers(0, 4),
    "threshold": st.sampled_from([0.0, 1e-4, 0.1]),
    "threshold_mode": st.sampled_from(["rel", "abs"]),
    "cooldown": st.integers(0, 3),
    "min_lr": st.sampled_from([0.0, 1e-4, 1e-3]),
    "eps": st.sampled_from([1e-8, 1e-3]),
})
METRICS = st.lists(st.one_of(st.floats(-2.0, 2.0), st.integers(0, 3).map(float)), min_size=1, max_size=30)


def _opt(lr, groups=1):
    ps = [torch.nn.Parameter(torch.zeros(1)) for _ in range(groups)]
    return torch.optim.SGD([{"params": [p]} for p in ps], lr=lr)


@settings(max_examples=60)
@given(kw=SETTINGS, metrics=METRICS, lr0=st.sampled_from([0.1, 1.0, 1e-3, 0.05]))
def test_same_lrs_as_native(kw, metrics, lr0):
    nat_opt = _opt(lr0)
    native = torch.optim.lr_scheduler.ReduceLROnPlateau(nat_opt, **kw)
    opt = _opt(0.0)
    sched = LRScheduler(opt, lk.constant(lr0), plateau=lk.from_torch(native))
    for m in metrics:
        native.step(m)
        sched.report(m)
        # SPEC section 5: with a constant schedule, exactly torch's rates (one rounding per reduction).
        assert opt.param_groups[0]["lr"] == nat_opt.param_groups[0]["lr"]
        assert sched.get_last_lr()[0] == native.get_last_lr()[0]


@pytest.mark.parametrize("lrs", [[0.0, 1e-3], [0.0, 0.1, 1e-3], [1e-3, 0.0], [5e-9, 0.1]])
def test_groups_reduce_as_native_when_a_group_cannot(lrs):
    # torch applies the eps rule per group: a frozen group (lr 0) or one whose change is below eps
    # stays, the others are reduced. One shared scale must not be blocked by such a group.
    nat_opt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs])
    native = torch.optim.lr_scheduler.ReduceLROnPlateau(nat_opt, patience=0, factor=0.5)
    opt = _opt(1.0, groups=len(lrs))
    sched = LRScheduler(opt, [lk.constant(lr) for lr in lrs], plateau=lk.from_torch(native))
    for m in [1.0, 1.0, 0.5, 0.7, 0.7, 0.7, 0.7]:
        native.step(m)
        sched.report(m)
        want = [g["lr"] for g in nat_opt.param_groups]
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(want, rel=1e-12, abs=1e-8)
    assert max(want) < max(lrs) / 16


def test_from_torch_copies_every_setting():
    native = torch.optim.lr_scheduler.ReduceLROnPlateau(
        _opt(0.1), mode="max", factor=0.3, patience=4, threshold=0.01, threshold_mode="abs",
        cooldown=2, min_lr=1e-5, eps=1e-6,
    )
    p = lk.from_torch(native)
    assert p == lk.ReduceOnPlateau(mode="max", factor=0.3, patience=4, threshold=0.01,
                                   threshold_mode="abs", cooldown=2, min_lr=1e-5, eps=1e-6)
    assert p == _from_torch_plateau(native)


def test_composition_with_cosine_in_a_training_loop():
    """Per-step cosine schedule, plateau decided per epoch; lr checked against a separate formula."""
    torch.manual_seed(0)
    steps_per_epoch, epochs, lr0 = 5, 12, 0.1
    p = lk.ReduceOnPlateau(patience=1, factor=0.5, min_lr=2e-3)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = LRScheduler(opt, lk.cosine(lr0, 0.0, steps_per_epoch * epochs), plateau=p)
    metrics = [1.0, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7]
    x, y = torch.randn(20, 3), torch.randn(20, 1)
    scale, seen = 1.0, []

    def cos(t):
        n = steps_per_epoch * epochs
        return 0.0 + (lr0 - 0.0) * (1 + math.cos(math.pi * min(t, n) / n)) / 2

    step = 0
    for epoch in range(epochs):
        for _ in range(steps_per_epoch):
            want = min(cos(step), max(cos(step) * scale, 2e-3))
            assert opt.param_groups[0]["lr"] == pytest.approx(want, rel=1e-12, abs=1e-15)
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()
            sched.step()
            step += 1
        sched.report(metrics[epoch])
        seen.append(metrics[epoch])
        # scale from the independent transcription of torch's rule (lr passed = composed lr)
        values = [cos(steps_per_epoch * (e + 1)) for e in range(len(seen))]
        scale = ref.torch_scales(seen, values, patience=1, factor=0.5, min_lr=2e-3)[-1]
    assert scale < 1.0


def test_twin_training_runs_are_identical():
    """A real model trained with native ReduceLROnPlateau and with lrkit: same lrs, same weights."""
    torch.manual_seed(0)
    x, y = torch.randn(64, 4), torch.randn(64, 1)
    vx, vy = torch.randn(32, 4), torch.randn(32, 1)
    base = torch.nn.Linear(4, 1)
    runs = []
    for use_lrkit in (False, True):
        model = torch.nn.Linear(4, 1)
        model.load_state_dict(base.state_dict())
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        kw = {"patience": 1, "factor": 0.5, "threshold": 1e-3, "cooldown": 1}
        if use_lrkit:
            sched = LRScheduler(opt, lk.constant(0.05), plateau=lk.ReduceOnPlateau(**kw))
            report = sched.report
        else:
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
            report = sched.step
        lrs = []
        for _ in range(25):
            for i in range(0, 64, 16):
                opt.zero_grad()
                torch.nn.functional.mse_loss(model(x[i:i + 16]), y[i:i + 16]).backward()
                opt.step()
                if use_lrkit:
                    sched.step()
            with torch.no_grad():
                report(torch.nn.functional.mse_loss(model(vx), vy))
            lrs.append(opt.param_groups[0]["lr"])
        runs.append((lrs, [p.detach().clone() for p in model.parameters()]))
    (lrs_a, w_a), (lrs_b, w_b) = runs
    assert min(lrs_a) < 0.05  # the plateau rule did act
    np.testing.assert_allclose(lrs_b, lrs_a, rtol=1e-12)
    for a, b in zip(w_a, w_b):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_state_dict_save_and_resume(tmp_path):
    metrics = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4]
    p = lk.ReduceOnPlateau(patience=1, factor=0.5, cooldown=1)
    s = lk.linear(0.1, 0.01, 40)

    def make():
        opt = _opt(0.0)
        return opt, LRScheduler(opt, s, plateau=p)

    opt, full = make()
    want = []
    for m in metrics:
        opt.step()
        full.step()
        full.report(m)
        want.append(opt.param_groups[0]["lr"])

    opt, first = make()
    got = []
    for m in metrics[:5]:
        opt.step()
        first.step()
        first.report(m)
        got.append(opt.param_groups[0]["lr"])
    torch.save(first.state_dict(), tmp_path / "sched.pt")
    opt, second = make()
    second.load_state_dict(torch.load(tmp_path / "sched.pt", weights_only=True))
    assert second._plateau_state == first._plateau_state
    for m in metrics[5:]:
        opt.step()
        second.step()
        second.report(m)
        got.append(opt.param_groups[0]["lr"])
    assert got == want


def test_bad_metrics():
    opt = _opt(0.0)
    sched = LRScheduler(opt, lk.constant(0.1), plateau=lk.ReduceOnPlateau(patience=0))
    sched.report(1.0)
    for bad in (math.nan, torch.tensor(math.inf)):
        with pytest.warns(PlateauMetricWarning):
            sched.report(bad)
    assert opt.param_groups[0]["lr"] == 0.1
    with pytest.raises(TypeError, match="`metric` must be"):
        sched.report(None)
    with pytest.raises(ValueError, match="`reduce` must be one of"):
        sched.report(1.0, reduce="sum")
    sched.report(torch.tensor(2.0), reduce="mean")  # no process group: used as is
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="no `plateau`"):
        LRScheduler(_opt(0.0), lk.constant(0.1)).report(1.0)


# -- DDP: every rank takes the same decision ----------------------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world, port, out_dir):
    import torch.distributed as dist

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        for reduce in ("mean", None):
            torch.manual_seed(0)
            model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 1))
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            sched = LRScheduler(opt, lk.constant(0.1), plateau=lk.ReduceOnPlateau(patience=0, factor=0.5))
            lrs = []
            for epoch in range(6):
                opt.zero_grad()
                model(torch.ones(4, 2)).sum().backward()
                opt.step()
                sched.step()
                # Rank 0 sees a metric improving for 3 epochs, rank 1 a flat one.
                local = 1.0 - 0.2 * min(epoch, 2) if rank == 0 else 1.0
                sched.report(torch.tensor(local), reduce=reduce)
                lrs.append(opt.param_groups[0]["lr"])
            torch.save(lrs, os.path.join(out_dir, f"lrs{rank}_{reduce}.pt"))
        dist.barrier()  # no rank tears gloo down while its peer still talks to it
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_ddp_ranks_take_the_same_decision(tmp_path):
    """gloo, 2 real processes: with reduce="mean" both ranks follow the mean metric."""
    import torch.multiprocessing as mp

    # spawn, not fork: forking a process whose torch thread pools are running can deadlock.
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    lrs0 = torch.load(tmp_path / "lrs0_mean.pt", weights_only=True)
    lrs1 = torch.load(tmp_path / "lrs1_mean.pt", weights_only=True)
    assert lrs0 == lrs1
    mean = [(1.0 - 0.2 * min(e, 2) + 1.0) / 2 for e in range(6)]
    want = ref.torch_lrs(mean, 0.1, patience=0, factor=0.5)
    np.testing.assert_allclose(lrs0, want, rtol=1e-12)
    assert min(want) < 0.1  # the mean metric plateaus: a reduction is part of the check
    # Without reduce the local metrics differ, and so do the ranks' decisions.
    local0 = torch.load(tmp_path / "lrs0_None.pt", weights_only=True)
    local1 = torch.load(tmp_path / "lrs1_None.pt", weights_only=True)
    assert local0 != local1


# -- range test -----------------------------------------------------------------------------------


def _regression(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(512, 4, generator=g)
    y = x @ torch.ones(4, 1) + 0.3 * torch.randn(512, 1, generator=g)
    xb = torch.cat([x, torch.ones(512, 1)], 1)
    L = float(torch.linalg.eigvalsh(2 * xb.T @ xb / 512).max())  # smoothness of the MSE
    return [(x[i:i + 32], y[i:i + 32]) for i in range(0, 512, 32)], L


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_range_test_on_linear_regression(seed):
    batches, L = _regression(seed)
    torch.manual_seed(seed)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    # Give the optimizer a state (momentum buffers) that must survive the test.
    torch.nn.functional.mse_loss(model(batches[0][0]), batches[0][1]).backward()
    opt.step()
    before_model = {k: v.clone() for k, v in model.state_dict().items()}
    before_opt = {k: v["momentum_buffer"].clone() for k, v in opt.state_dict()["state"].items()}
    res = lr_range_test(model, opt, torch.nn.functional.mse_loss, batches, start=1e-5, end=10.0, steps=150)
    assert res.diverged_at is not None and res.suggested < res.diverged_at
    assert (1 / L) / 100 <= res.suggested <= 1 / L * (1 - 0.5) * 2, (res.suggested, 1 / L)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before_model[k])
    state = opt.state_dict()
    assert state["param_groups"][0]["lr"] == 0.01
    for k, v in state["state"].items():
        assert torch.equal(v["momentum_buffer"], before_opt[k])

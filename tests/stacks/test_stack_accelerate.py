"""lrkit's torch adapter under accelerate: ``prepare`` + ``accumulate`` on one process, a
``save_state``/``load_state`` resume, and a real 2-process gloo run.

accelerate's ``AcceleratedScheduler`` steps a prepared scheduler once per process per real update
(unless ``split_batches``), so on 2 processes the default clock runs twice as fast as the updates;
``clock="optimizer"`` counts the updates themselves. The lr of each real update is read by an
optimizer step pre-hook registered here (torch's public API), and compared with the schedule
written from its definition.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest
from helpers import need

torch = need("torch")
accelerate = need("accelerate")

import lrkit as lk  # noqa: E402
from lrkit.backends.torch import LRScheduler  # noqa: E402

PEAK, WARM, TOTAL = 0.1, 3, 10


def expected(t: int) -> float:
    """Linear warmup from 0 over WARM updates, then linear decay to 0 at TOTAL."""
    if t < WARM:
        return PEAK * t / WARM
    return PEAK * (1 - min(t - WARM, TOTAL - WARM) / (TOTAL - WARM))


SCHEDULE = lk.warmup(lk.linear(PEAK, 0.0, TOTAL - WARM), WARM)


def _record_updates(opt: Any) -> list[float]:
    lrs: list[float] = []
    opt.register_step_pre_hook(lambda o, args, kwargs: lrs.append(float(o.param_groups[0]["lr"])))
    return lrs


def _run(accelerator: Any, clock: str, n_batches: int, *, state_dir: Any = None, resume_from: Any = None,
         save_at: int | None = None, skip: int = 0, after_prepare: bool = False) -> list[float]:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    lrs = _record_updates(opt)
    g = torch.Generator().manual_seed(1)
    data = torch.utils.data.TensorDataset(torch.randn(n_batches * 2, 3, generator=g), torch.randn(n_batches * 2, 1, generator=g))
    loader = torch.utils.data.DataLoader(data, batch_size=2)
    if after_prepare:  # the scheduler built on accelerate's AcceleratedOptimizer, then prepared
        model, opt, loader = accelerator.prepare(model, opt, loader)
        sched = accelerator.prepare(LRScheduler(opt, SCHEDULE, clock=clock))
    else:
        sched = LRScheduler(opt, SCHEDULE, clock=clock)
        model, opt, loader, sched = accelerator.prepare(model, opt, loader, sched)
    if resume_from is not None:
        accelerator.load_state(str(resume_from))
        loader = accelerator.skip_first_batches(loader, skip)  # the batches the first run consumed
    for x, y in loader:
        with accelerator.accumulate(model):
            loss = torch.nn.functional.mse_loss(model(x), y)
            accelerator.backward(loss)
            opt.step()
            sched.step()
            opt.zero_grad()
        if save_at is not None and len(lrs) == save_at and accelerator.sync_gradients:
            accelerator.save_state(str(state_dir))
            break
    return lrs


@pytest.fixture(autouse=True)
def _fresh_accelerate_state() -> Any:
    from accelerate.state import AcceleratorState, GradientState, PartialState

    yield
    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    PartialState._reset_state()


@pytest.mark.parametrize("clock", ["scheduler", "optimizer"])
def test_accelerate_prepare_and_accumulate_follow_real_updates(tmp_path: Any, clock: str) -> None:
    acc = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=3)
    lrs = _run(acc, clock, n_batches=3 * 8)
    assert lrs == pytest.approx([expected(t) for t in range(8)], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("clock", ["scheduler", "optimizer"])
def test_a_scheduler_built_on_the_prepared_optimizer(tmp_path: Any, clock: str) -> None:
    # accelerate's AcceleratedOptimizer (also what HF Trainer callbacks receive) wraps the optimizer
    # without torch's step-hook tables: the hooks go on the optimizer it wraps, which really steps.
    acc = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2)
    lrs = _run(acc, clock, n_batches=2 * 8, after_prepare=True)
    assert lrs == pytest.approx([expected(t) for t in range(8)], rel=1e-12, abs=1e-15)


def test_accelerate_save_state_and_load_state_resume_exactly(tmp_path: Any) -> None:
    full = _run(accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2), "optimizer", n_batches=2 * TOTAL)
    first = _run(accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2), "optimizer", n_batches=2 * TOTAL,
                 state_dir=tmp_path / "state", save_at=4)
    assert first == full[:4]
    resumed = _run(accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2), "optimizer", n_batches=2 * TOTAL,
                   resume_from=tmp_path / "state", skip=4 * 2)
    assert resumed == full[4:]  # every update after the resume, exactly


# -- 2 processes (gloo) ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, world: int, port: int, out_dir: str) -> None:
    os.environ.update({
        "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_WORLD_SIZE": str(world),
        "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1",
    })
    torch.set_num_threads(1)
    acc = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2)
    assert acc.num_processes == world and str(acc.distributed_type) == "DistributedType.MULTI_CPU"
    try:
        out = {}
        for clock in ("scheduler", "optimizer"):
            out[clock] = _run(acc, clock, n_batches=2 * 2 * 6)  # 2 processes x 2 accumulated x 6 updates
        torch.save(out, os.path.join(out_dir, f"rank{rank}.pt"))
        acc.wait_for_everyone()
    finally:
        acc.end_training()
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_two_processes_optimizer_clock_follows_the_updates(tmp_path: Any) -> None:
    import torch.multiprocessing as mp

    # spawn, not fork: forking a process whose torch thread pools are running can deadlock.
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    for rank in (0, 1):
        got = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        n = len(got["optimizer"])
        assert n == 6
        # clock="optimizer": update k uses schedule(k) on every rank.
        assert got["optimizer"] == pytest.approx([expected(t) for t in range(n)], rel=1e-12, abs=1e-15)
        # The default clock: accelerate stepped the scheduler twice per update (its convention for
        # schedules counted in single-process batches), so update k used schedule(2k).
        assert got["scheduler"] == pytest.approx([expected(2 * t) for t in range(n)], rel=1e-12, abs=1e-15)

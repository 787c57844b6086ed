"""``LRScheduler`` under real ``torch.distributed`` (gloo, 2 processes on localhost) with DDP.

Every rank must apply the same learning rate at every step, and a checkpoint written by rank 0 and
read back (``weights_only=True``) by both ranks must continue exactly like an uninterrupted run.
"""

from __future__ import annotations

import json
import math
import os
import socket
from typing import Any

import pytest
from helpers import need

torch = need("torch")

import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

import lrkit as lk  # noqa: E402
from lrkit.backends.torch import HyperparameterScheduler, LRScheduler  # noqa: E402

WORLD = 2
TOTAL, CUT = 30, 13
WARMUP, PEAK, END, DECAY = 5, 0.05, 0.001, 20


def _expected_lr(k: int) -> float:
    """Hand-written warmup + cosine (independent of lrkit)."""
    if k < WARMUP:
        return PEAK * k / WARMUP
    u = min(k - WARMUP, DECAY)
    return END + (PEAK - END) * (1 + math.cos(math.pi * u / DECAY)) / 2


def _build(rank: int) -> tuple[Any, Any, Any, Any]:
    torch.manual_seed(0)  # same init everywhere (DDP also broadcasts rank 0's parameters)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1).double())
    opt = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.0)
    lr = LRScheduler(opt, lk.warmup(lk.cosine(PEAK, END, DECAY), WARMUP))
    mom = HyperparameterScheduler(opt, "momentum", lk.linear(0.5, 0.9, 10))
    return model, opt, lr, mom


def _train(rank: int, model: Any, opt: Any, scheds: tuple[Any, ...], ks: range) -> list[list[float]]:
    """Train on rank-specific data; returns, per step, the lr each rank applied (all-gathered)."""
    out = []
    for k in ks:
        g = torch.Generator().manual_seed(1000 * rank + k)
        x, y = torch.randn(16, 4, generator=g, dtype=torch.float64), torch.randn(16, 1, generator=g, dtype=torch.float64)
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        first = next(iter(model.parameters()))
        before = first.detach().clone()
        opt.step()
        # With momentum, the update is lr * buffer; recover lr from the first parameter's buffer.
        buf = opt.state[first]["momentum_buffer"]
        delta = (before - first.detach()).flatten()
        applied = float(delta[0] / buf.flatten()[0]) if float(buf.flatten()[0]) != 0.0 else math.nan
        gathered = [torch.zeros(2, dtype=torch.float64) for _ in range(WORLD)]
        dist.all_gather(gathered, torch.tensor([opt.param_groups[0]["lr"], applied], dtype=torch.float64))
        out.append([float(v) for t in gathered for v in t])
        for s in scheds:
            s.step()
    return out


def _worker(rank: int, port: int, tmp: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        model, opt, lr, mom = _build(rank)
        full = _train(rank, model, opt, (lr, mom), range(TOTAL))
        final_full = [p.detach().flatten().tolist() for p in model.parameters()]

        model, opt, lr, mom = _build(rank)
        first = _train(rank, model, opt, (lr, mom), range(CUT))
        path = os.path.join(tmp, "ckpt.pt")
        if rank == 0:
            torch.save(
                {"model": model.module.state_dict(), "opt": opt.state_dict(), "lr": lr.state_dict(), "mom": mom.state_dict()},
                path,
            )
        dist.barrier()
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        model, opt, lr, mom = _build(rank)
        model.module.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        lr.load_state_dict(ckpt["lr"])
        mom.load_state_dict(ckpt["mom"])
        rest = _train(rank, model, opt, (lr, mom), range(CUT, TOTAL))
        final_resumed = [p.detach().flatten().tolist() for p in model.parameters()]
        with open(os.path.join(tmp, f"rank{rank}.json"), "w") as f:
            json.dump({"full": full, "resumed": first + rest, "final_full": final_full, "final_resumed": final_resumed}, f)
        dist.barrier()  # no rank tears gloo down while its peer still talks to it (SIGABRT otherwise)
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_ddp_ranks_apply_the_same_lr_and_resume_identically(tmp_path: Any) -> None:
    if not dist.is_available() or not dist.is_gloo_available():
        pytest.fail("torch.distributed with the gloo backend is required by the torch test env")
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=WORLD, join=True)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(WORLD)]
    for r in ranks:
        assert len(r["full"]) == TOTAL
        for k, row in enumerate(r["full"]):
            lrs, applied = row[0::2], row[1::2]
            assert lrs == [lrs[0]] * WORLD, f"ranks disagree on the lr at step {k}: {lrs}"
            assert lrs[0] == pytest.approx(_expected_lr(k), rel=1e-12, abs=1e-18)
            if k > 0:  # step 0 has lr 0 (warmup from 0): nothing to recover
                assert applied == pytest.approx([lrs[0]] * WORLD, rel=1e-9)
        # the resumed run continues exactly: same lrs, bitwise same parameters
        assert r["resumed"] == r["full"]
        assert r["final_resumed"] == r["final_full"]
    assert ranks[0]["final_full"] == ranks[1]["final_full"]

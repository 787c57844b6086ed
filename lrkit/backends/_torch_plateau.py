"""Distributed helpers for ``LRScheduler.report``: one plateau decision on every DDP rank."""

from __future__ import annotations

import numbers
from typing import Any

import torch

_REDUCTIONS = ("mean", "min", "max")


def all_reduce_metric(metric: Any, reduce: str) -> float:
    """All-reduce a scalar metric over the default process group; every rank gets the same float.

    The reduction is done in float64 on the device of the process group's backend (CPU for gloo,
    the current CUDA device for nccl). Without an initialised process group the metric is returned
    unchanged (single-process runs keep working).

    Args:
      metric: a number or a one-element tensor.
      reduce: ``"mean"``, ``"min"`` or ``"max"``.

    Returns:
      The reduced metric as a Python float.

    Raises:
      ValueError: ``reduce`` is not one of the above.
      TypeError: ``metric`` is ``None`` or not a number.
    """
    if reduce not in _REDUCTIONS:
        raise ValueError(
            f"LRScheduler.report: `reduce` must be one of {list(_REDUCTIONS)} or None. "
            f"Received: reduce={reduce!r}"
        )
    if isinstance(metric, torch.Tensor):
        if metric.numel() != 1:
            raise ValueError(
                "LRScheduler.report: `metric` must be a single number. "
                f"Received: a tensor of shape {tuple(metric.shape)}"
            )
        value = metric.detach().reshape(()).to(torch.float64)
    elif isinstance(metric, numbers.Real) and not isinstance(metric, bool):
        value = torch.tensor(float(metric), dtype=torch.float64)
    else:
        raise TypeError(
            "LRScheduler.report: `metric` must be a real number or a one-element tensor. "
            f"Received: metric={metric!r} of type {type(metric).__name__}"
        )
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        return float(value)
    backend = dist.get_backend()
    device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")
    buf = value.to(device).clone()
    op = {"mean": dist.ReduceOp.SUM, "min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX}[reduce]
    dist.all_reduce(buf, op=op)
    if reduce == "mean":
        buf = buf / dist.get_world_size()
    return float(buf.cpu())

"""Shared test helpers: which frameworks this run requested, and probe steps.

``LRKIT_TEST_BACKENDS`` (comma-separated) names the frameworks the environment was built with.
A requested framework that fails to import is a *failure*, never a skip (einops'
``test_backends_installed`` rule); an unrequested one skips with a reason.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import Any

import pytest

# "core" = the framework-free core suite (run once, in the bare env); "cross" = tests that need torch,
# Keras and optax together (the porting round trips).
KNOWN = (
    "core", "python", "numpy", "torch", "jax", "optax", "keras", "tensorflow", "transformers",
    "matplotlib", "cross", "lightning", "accelerate", "timm", "flax", "orbax", "mpmath",
)
REQUESTED = tuple(b for b in os.environ.get("LRKIT_TEST_BACKENDS", "python,numpy").split(",") if b)
_unknown = sorted(set(REQUESTED) - set(KNOWN))
if _unknown:
    raise RuntimeError(f"LRKIT_TEST_BACKENDS names unknown backends {_unknown}; known: {KNOWN}")


def requested(name: str) -> bool:
    return name in REQUESTED


def need(name: str) -> Any:
    """Import and return framework ``name``; skip if this run did not request it."""
    if name not in REQUESTED:
        pytest.skip(f"{name} not in LRKIT_TEST_BACKENDS={','.join(REQUESTED)}", allow_module_level=True)
    if name in ("core", "python", "cross"):
        return None
    if name == "timm":
        # timm/__init__.py imports its model zoo, which needs torchvision (not installed: the registry's
        # build is CUDA-only and cannot load beside the CPU torch). Only timm.scheduler is used.
        spec = importlib.util.find_spec("timm")
        if spec is None:
            raise ImportError("timm is requested in LRKIT_TEST_BACKENDS but not installed")
        return spec
    if name == "orbax":
        return importlib.import_module("orbax.checkpoint")
    return importlib.import_module(name)  # ImportError propagates: requested means required


def probe_steps(schedule: Any, until: int, extra: tuple[int, ...] = ()) -> list[int]:
    """0..min(until, 64), every breakpoint b-1, b, b+1, the end, and ``extra``."""
    steps = set(range(min(until, 64)))
    for b in schedule.breakpoints(until):
        steps.update((b - 1, b, b + 1))
    d = schedule.duration
    if d is not None:
        steps.update((d - 1, d, d + 1, 2 * d))
    steps.update((until - 1, until), extra)
    return sorted(s for s in steps if s >= 0)

"""ONE conformance suite x every requested backend.

Each harness (``harness_<name>.py`` beside this file) drives the backend's *real* optimizer: plain
SGD with a unit gradient and the parameter reset to 0 before each update, so ``-param`` is the
learning rate actually applied. It steps contiguously through the probe steps (so a stepping
off-by-one fails, not only a formula error) and seeks to far steps. Expected values come from the
independent reference interpreter in ``tests/reference.py``, never from lrkit itself.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from cases import CASES, Case
from helpers import KNOWN, need, probe_steps
from reference import evaluate_config

HARNESSES = ("python", "numpy", "torch", "optax", "keras")


def _harness(name: str):  # type: ignore[no-untyped-def]
    need(name if name != "optax" else "optax")
    return importlib.import_module(f"harness_{name}").HARNESS


assert set(HARNESSES) <= set(KNOWN)


@pytest.mark.parametrize("backend", HARNESSES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_applied_lr_matches_reference(backend: str, case: Case) -> None:
    harness = _harness(backend)
    steps = probe_steps(case.schedule, case.horizon)
    config = case.schedule.to_config()
    expected = np.array([evaluate_config(config, t) for t in steps])
    applied = np.asarray(harness.applied_lrs(case.schedule, steps), dtype=np.float64)
    np.testing.assert_allclose(
        applied, expected, rtol=harness.rtol, atol=harness.atol, err_msg=f"{backend}/{case.id} at steps {steps}"
    )

"""ONE conformance suite x every requested backend.

Each harness (``harness_<name>.py`` beside this file) drives the backend's *real* optimizer: plain
SGD with a unit gradient and the parameter reset to 0 before each update, so ``-param`` is the
learning rate actually applied. It steps contiguously through the probe steps (so a stepping
off-by-one fails, not only a formula error) and seeks to far steps. Expected values come from the
independent reference interpreter in ``tests/reference.py``, never from lrkit itself.

float64 paths (Python floats, numpy, torch with a float64 parameter) are compared with a relative
tolerance of 1e-12. float32 paths (optax under ``jit`` with and without ``jax_enable_x64``, Keras,
torch with a float32 tensor lr) are measured in float32 ulps against ``float32`` of the reference
(SPEC section 10): at most one ulp at every probed step, exactly 0 where the reference is 0, at
boundaries and at far steps alike (the step counter is exact there, so periodic curves keep their
phase). ``test_ulps.py`` measures the exact-match fraction over long horizons.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from cases import CASES, FAR_STEPS, Case
from helpers import KNOWN, need, probe_steps
from reference import evaluate_config
from ulps import MAX_ULPS, Tally

#: harness module -> the framework it needs.
HARNESSES = {
    "python": "python",
    "numpy": "numpy",
    "torch": "torch",
    "torch_f32": "torch",
    "optax": "optax",
    "optax_x64": "optax",
    "keras": "keras",
}


def _harness(name: str):  # type: ignore[no-untyped-def]
    need(HARNESSES[name])
    return importlib.import_module(f"harness_{name}").HARNESS


assert set(HARNESSES.values()) <= set(KNOWN)


def _compare(harness, backend: str, case: Case, steps: list[int], expected: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    applied = np.asarray(harness.applied_lrs(case.schedule, steps), dtype=np.float64)
    if getattr(harness, "float32", False):
        tally = Tally(backend)
        tally.add(case.id, steps, applied, expected)
        assert tally.max_ulps <= MAX_ULPS, tally.report()
    else:
        np.testing.assert_allclose(
            applied, expected, rtol=harness.rtol, atol=harness.atol, err_msg=f"{backend}/{case.id} at steps {steps}"
        )


@pytest.mark.parametrize("backend", HARNESSES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_applied_lr_matches_reference(backend: str, case: Case) -> None:
    harness = _harness(backend)
    steps = probe_steps(case.schedule, case.horizon)
    config = case.schedule.to_config()
    expected = np.array([evaluate_config(config, t) for t in steps])
    _compare(harness, backend, case, steps, expected)


@pytest.mark.parametrize("backend", HARNESSES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_far_steps_match_reference(backend: str, case: Case) -> None:
    harness = _harness(backend)
    steps = list(FAR_STEPS)
    config = case.schedule.to_config()
    expected = np.array([evaluate_config(config, t) for t in steps])
    _compare(harness, backend, case, steps, expected)

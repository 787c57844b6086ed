"""Every framework this environment requested must import: a broken env fails, it never skips."""

import importlib

import helpers
import pytest
from helpers import REQUESTED


@pytest.mark.parametrize("name", REQUESTED)
def test_requested_backend_imports(name: str) -> None:
    if name in ("core", "python"):
        return
    if name == "cross":
        for module in ("torch", "keras", "jax", "optax"):
            importlib.import_module(module)
    else:
        assert helpers.need(name) is not None


def test_tests_run_against_the_installed_package() -> None:
    import os

    import lrkit

    if os.environ.get("TOX_ENV_NAME"):
        assert "site-packages" in lrkit.__file__, lrkit.__file__

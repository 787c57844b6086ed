"""Every module's docstring Examples run and give what they show, in the env that has what they need."""

from __future__ import annotations

import doctest
import importlib

import pytest
from helpers import need

# module -> the LRKIT_TEST_BACKENDS token its examples need
MODULES = {
    "lrkit": "core",
    "lrkit._base": "core",
    "lrkit._schedules": "core",
    "lrkit._compose": "core",
    "lrkit._ops": "core",
    "lrkit._errors": "core",
    "lrkit._plateau": "core",
    "lrkit._range_test": "core",
    "lrkit._expr": "core",
    "lrkit._ports.optax": "core",
    "lrkit._ports.transformers": "core",
    "lrkit._ports.timm": "core",
    "lrkit._ports.torch": "torch",
    "lrkit._ports.keras": "keras",
    "lrkit._plot": "matplotlib",
    "lrkit.backends.torch": "torch",
    "lrkit.backends._torch_range": "torch",
    "lrkit.backends.keras": "keras",
    "lrkit.backends._keras_plateau": "keras",
    "lrkit.backends._keras_range": "keras",
    "lrkit.backends.optax": "optax",
    "lrkit.backends._optax_plateau": "optax",
    "lrkit.backends._optax_range": "optax",
}
MUST_HAVE_EXAMPLES = {"lrkit", "lrkit._schedules", "lrkit._compose", "lrkit.backends.torch", "lrkit.backends.optax"}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_doctests(name: str) -> None:
    need(MODULES[name])
    if name.startswith("lrkit.backends._keras"):
        importlib.import_module("lrkit.backends.keras")  # the callbacks import the adapter first
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
    if name in MUST_HAVE_EXAMPLES:
        assert result.attempted > 0, f"{name} has no doctests"

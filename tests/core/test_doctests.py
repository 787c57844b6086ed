"""The Examples in the core modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest
from helpers import need

need("core")

MODULES = ["lrkit", "lrkit._base", "lrkit._schedules", "lrkit._compose", "lrkit._ops", "lrkit._errors"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
    if name in ("lrkit", "lrkit._schedules", "lrkit._compose"):
        assert result.attempted > 0, f"{name} has no doctests"

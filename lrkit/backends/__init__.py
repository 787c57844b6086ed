"""Framework adapters, each imported only when asked for.

``lrkit.backends.torch``, ``lrkit.backends.keras`` and ``lrkit.backends.optax`` import their
framework at module top; ``import lrkit.backends`` itself imports nothing.
"""

import importlib
from typing import Any

_BACKENDS = ("torch", "keras", "optax")


def __getattr__(name: str) -> Any:
    if name in _BACKENDS:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

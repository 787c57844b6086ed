"""Port from optax (not implemented yet)."""

from __future__ import annotations

from typing import Any


def from_optax(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("lrkit.from_optax is not implemented yet")

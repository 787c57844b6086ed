"""Port from torch (not implemented yet)."""

from __future__ import annotations

from typing import Any


def from_torch(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("lrkit.from_torch is not implemented yet")

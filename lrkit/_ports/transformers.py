"""Port from transformers (not implemented yet)."""

from __future__ import annotations

from typing import Any


def from_transformers(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("lrkit.from_transformers is not implemented yet")

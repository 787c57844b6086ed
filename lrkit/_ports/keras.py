"""Port from keras (not implemented yet)."""

from __future__ import annotations

from typing import Any


def from_keras(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("lrkit.from_keras is not implemented yet")

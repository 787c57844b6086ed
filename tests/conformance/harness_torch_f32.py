"""torch harness with a float32 parameter and a float32 tensor lr (see ``harness_torch``)."""

from harness_torch import HARNESS_FLOAT32 as HARNESS

__all__ = ["HARNESS"]

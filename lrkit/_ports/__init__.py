"""Ports: native recipes in, identical lrkit curves out (SPEC section 4).

Each port copies the native's conventions exactly (boundaries, chainable forms, what happens past
the end). None of them imports a framework unless handed a framework object.
"""

from lrkit._ports.keras import from_keras
from lrkit._ports.optax import from_optax
from lrkit._ports.torch import from_torch
from lrkit._ports.transformers import from_transformers

__all__ = ["from_keras", "from_optax", "from_torch", "from_transformers"]

"""lrkit: framework-neutral learning-rate (and hyperparameter) schedules.

Write a schedule once; run it unchanged as a PyTorch ``LRScheduler``
(``lrkit.backends.torch``), a Keras 3 ``LearningRateSchedule`` (``lrkit.backends.keras``) or an
optax schedule (``lrkit.backends.optax``), with identical curves. ``import lrkit`` loads numpy and
nothing heavier.

>>> import lrkit as lk
>>> s = lk.warmup(lk.cosine(3e-4, 3e-5, 10_000), 500)
>>> f"{s(250):.2e} {s(500):.2e} {s(10_500):.2e}"
'1.50e-04 3.00e-04 3.00e-05'
"""

from typing import TYPE_CHECKING, Any

from lrkit._base import Schedule, from_config
from lrkit._compose import join, per_epoch, shift, warmup
from lrkit._errors import BackendUnavailableError, ScheduleError
from lrkit._recipes import cooldown, per_tokens, rounded, stretch
from lrkit._schedules import (
    constant,
    cosine,
    cosine_restarts,
    cosine_wave,
    cyclic,
    exponential,
    inverse_sqrt,
    inverse_time,
    linear,
    multistep,
    one_cycle,
    piecewise_constant,
    piecewise_linear,
    polynomial,
    restarts,
    step,
    warmup_stable_decay,
)

# Loaded on first use (PEP 562), so ``import lrkit`` costs little more than ``import numpy``:
# public name -> module that defines it.
_LAZY = {
    "from_keras": "lrkit._ports.keras",
    "from_optax": "lrkit._ports.optax",
    "from_timm": "lrkit._ports.timm",
    "from_torch": "lrkit._ports.torch",
    "from_transformers": "lrkit._ports.transformers",
    "PlateauMetricWarning": "lrkit._plateau",
    "ReduceOnPlateau": "lrkit._plateau",
    "RangeTestResult": "lrkit._range_test",
    "lr_range_test": "lrkit._range_test",
    "range_test_ramp": "lrkit._range_test",
}

if TYPE_CHECKING:
    from lrkit._plateau import PlateauMetricWarning, ReduceOnPlateau
    from lrkit._ports.keras import from_keras
    from lrkit._ports.optax import from_optax
    from lrkit._ports.timm import from_timm
    from lrkit._ports.torch import from_torch
    from lrkit._ports.transformers import from_transformers
    from lrkit._range_test import RangeTestResult, lr_range_test, range_test_ramp


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lrkit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "BackendUnavailableError",
    "PlateauMetricWarning",
    "RangeTestResult",
    "ReduceOnPlateau",
    "Schedule",
    "ScheduleError",
    "constant",
    "cooldown",
    "cosine",
    "cosine_restarts",
    "cosine_wave",
    "cyclic",
    "exponential",
    "from_config",
    "from_keras",
    "from_optax",
    "from_timm",
    "from_torch",
    "from_transformers",
    "inverse_sqrt",
    "inverse_time",
    "join",
    "linear",
    "lr_range_test",
    "multistep",
    "one_cycle",
    "per_epoch",
    "per_tokens",
    "piecewise_constant",
    "piecewise_linear",
    "polynomial",
    "range_test_ramp",
    "restarts",
    "rounded",
    "shift",
    "step",
    "stretch",
    "warmup",
    "warmup_stable_decay",
]

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

from lrkit._base import Schedule, from_config
from lrkit._compose import join, per_epoch, shift, warmup
from lrkit._errors import BackendUnavailableError, ScheduleError
from lrkit._plateau import PlateauMetricWarning, ReduceOnPlateau
from lrkit._ports import from_keras, from_optax, from_torch, from_transformers
from lrkit._range_test import RangeTestResult, lr_range_test, range_test_ramp
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
    step,
    warmup_stable_decay,
)

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailableError",
    "PlateauMetricWarning",
    "RangeTestResult",
    "ReduceOnPlateau",
    "Schedule",
    "ScheduleError",
    "constant",
    "cosine",
    "cosine_restarts",
    "cosine_wave",
    "cyclic",
    "exponential",
    "from_config",
    "from_keras",
    "from_optax",
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
    "piecewise_constant",
    "piecewise_linear",
    "polynomial",
    "range_test_ramp",
    "shift",
    "step",
    "warmup",
    "warmup_stable_decay",
]

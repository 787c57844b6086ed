"""optax harness with ``jax_enable_x64`` on: the schedule gives float64, the float32 parameter
applies its float32 (see ``harness_optax``)."""

import jax
from harness_optax import HARNESS as _PLAIN


class _OptaxX64:
    float32 = True

    def applied_lrs(self, schedule, steps):  # type: ignore[no-untyped-def]
        with jax.enable_x64(True):
            return _PLAIN.applied_lrs(schedule, steps)


HARNESS = _OptaxX64()

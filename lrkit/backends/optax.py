"""optax adapter: an lrkit schedule as an optax schedule (``count -> value``).

>>> import lrkit as lk, optax
>>> from lrkit.backends import optax as lko
>>> opt = optax.adamw(learning_rate=lko.schedule(lk.warmup(lk.cosine(3e-4, 3e-5, 10_000), 500)))

The function is pure and branch-free on the step, so it works under ``jax.jit`` and ``jax.vmap``,
never retraces as the count changes, and fits anywhere optax takes a learning rate *or any other
hyperparameter* (``optax.inject_hyperparams(optax.adamw)(learning_rate=..., b1=..., weight_decay=...)``).
Inside ``optax.MultiSteps`` the wrapped optimizer's count advances once per real update, so the
schedule advances once per real update too.

The value is computed in float64 (a scoped ``jax.enable_x64`` inside the traced function) and
cast once: the update at count ``k`` applies ``float32(s(k))`` (float64 with ``jax_enable_x64``),
up to the last bit at a vanishing fraction of steps, at every count up to optax's ``int32`` limit
(``2**31 - 1``; see ``lrkit.backends._jax_ops``). A negative or wrapped count reads as step 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lrkit._base import Schedule
from lrkit._errors import BackendUnavailableError

try:
    import jax
    import jax.numpy as jnp
    import optax as _optax  # noqa: F401  (imported so a missing optax fails here, not later)
except ImportError as exc:  # pragma: no cover - exercised in the bare env
    raise BackendUnavailableError(
        "lrkit.backends.optax needs jax and optax, which are not installed. "
        "Install them with: pip install 'lrkit[jax]'"
    ) from exc

from lrkit.backends._jax_ops import OPS

__all__ = ["schedule"]

_INT32_MAX = 2**31 - 1


def _as_step(count: Any) -> Any:
    """A jax array for ``count``; a Python int too large for int32 becomes a float (optax's rule)."""
    if isinstance(count, bool):
        raise TypeError(f"schedule: `count` must be a number, not a bool. Received: count={count!r}")
    if isinstance(count, int) and not isinstance(count, jax.Array) and count > _INT32_MAX:
        return jnp.asarray(float(count))
    if isinstance(count, (np.ndarray, np.generic)) and np.issubdtype(count.dtype, np.integer):
        # Without x64 JAX would wrap an int64 past int32 around; read such counts as floats.
        if not jax.config.jax_enable_x64 and count.size and int(np.max(count)) > _INT32_MAX:
            return jnp.asarray(count.astype(np.float64))
    return jnp.asarray(count)


def schedule(s: Schedule, *, total_steps: int | None = None) -> Callable[[Any], jax.Array]:
    """An optax schedule computing ``s`` at optax's update count.

    ``fn(count)`` returns ``s(count)`` as a float32 jax array of ``count``'s shape (float64 with
    ``jax_enable_x64``), computed in float64 and rounded once. A negative count (a wrapped ``int32``
    counter) reads as step 0. ``count`` is the number of updates already applied (optax's ``count``), an
    integer scalar or array, concrete or traced. The formula is lrkit's single core evaluated with
    ``jax.numpy``: no Python branch on the step, so ``jax.jit`` compiles it once.

    Args:
      s: an lrkit ``Schedule``.
      total_steps: the run's number of updates, which resolves durations written as percentages
        of the run (``"5%"``, see ``Schedule.bind``); required if ``s`` has any.

    Returns:
      A function ``count -> jax.Array``, usable as ``learning_rate=`` or any other scheduled
      hyperparameter of an optax optimizer. Its ``lrkit_schedule`` attribute is ``s``.

    Raises:
      TypeError: ``s`` is not an lrkit schedule.
      ValueError: ``s`` has percentages of the run and ``total_steps`` is not given.

    Examples:
      >>> import jax, jax.numpy as jnp, lrkit as lk
      >>> from lrkit.backends import optax as lko
      >>> fn = lko.schedule(lk.linear(1.0, 0.0, 10))
      >>> float(jax.jit(fn)(5))
      0.5
      >>> jax.vmap(fn)(jnp.arange(0, 20, 5)).tolist()
      [1.0, 0.5, 0.0, 0.0]
    """
    if not isinstance(s, Schedule):
        if callable(s):
            hint = (
                " (an optax schedule function cannot be read back: port it by name with "
                "lrkit.from_optax(name, *args, **kwargs))"
            )
        elif isinstance(s, (int, float)) and not isinstance(s, bool):
            hint = f" (a constant rate is lrkit.constant({s!r}), or pass the number to optax itself)"
        else:
            hint = ""
        raise TypeError(
            f"schedule: `s` must be an lrkit schedule{hint}. Received: s={s!r} of type {type(s).__name__}"
        )
    from lrkit._time import resolve

    s = resolve("schedule", s, total_steps)

    def lrkit_optax_schedule(count: Any) -> jax.Array:
        return OPS.evaluate(s, _as_step(count), counter=True)  # type: ignore[no-any-return]

    lrkit_optax_schedule.__doc__ = f"optax schedule for lrkit's {s!r}."
    lrkit_optax_schedule.lrkit_schedule = s  # type: ignore[attr-defined]
    return lrkit_optax_schedule


# Reduce-on-plateau gradient transformation (separate module, re-exported here):
from lrkit.backends._optax_plateau import PlateauState, reduce_on_plateau, scale_by_plateau  # noqa: E402
from lrkit.backends._optax_range import lr_range_test  # noqa: E402

__all__ += ["PlateauState", "lr_range_test", "reduce_on_plateau", "scale_by_plateau"]

"""optax harness: a real ``optax.sgd(learning_rate=lrkit_schedule)`` under ``jax.jit``.

One float32 scalar parameter, reset to 0 before every update, gradient 1: after
``optax.apply_updates`` the parameter is ``-lr``, the learning rate optax actually applied at that
update (its state's ``count``). Two compiled calls per schedule:

* the contiguous part (every step up to the last one within ``SEEK`` of its predecessor) is one
  ``lax.scan`` of real updates from ``count = 0``, its length padded to a power of two so few
  shapes are compiled; the scan carries the optimizer state, so a counting off-by-one fails;
* each far step is reached by writing ``count = t`` into a fresh state (``optax.tree.set``, as a
  resumed run would) and applying one update; all far steps go through one ``vmap``-ed call.

The applied values are float32: the conformance test measures them in float32 ulps against
``float32`` of the float64 reference (at most one ulp, SPEC section 10). Steps must be below
``2**31`` (optax's ``int32`` count).
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from lrkit.backends import optax as lko

SEEK = 512


def _opt_and_state(schedule):  # type: ignore[no-untyped-def]
    opt = optax.sgd(learning_rate=lko.schedule(schedule))
    param = jnp.zeros((), jnp.float32)
    return opt, param, opt.init(param)


def _update(opt, state):  # type: ignore[no-untyped-def]
    """One real update from param = 0 with gradient 1; returns (-param, new state)."""
    param = jnp.zeros((), jnp.float32)
    updates, state = opt.update(jnp.ones((), jnp.float32), state, param)
    return -optax.apply_updates(param, updates), state


class _Optax:
    float32 = True  # measured in float32 ulps (tests/conformance/ulps.py)

    def applied_lrs(self, schedule, steps):  # type: ignore[no-untyped-def]
        wanted = sorted({int(t) for t in steps})
        if wanted and wanted[-1] > 2**31 - 1:
            raise ValueError(f"optax counts are int32; cannot reach step {wanted[-1]}")
        # Contiguous prefix: 0 .. last step reachable without a gap longer than SEEK.
        end = 0
        for t in wanted:
            if t - end > SEEK:
                break
            end = t + 1
        far = [t for t in wanted if t >= end]
        opt, _, state0 = _opt_and_state(schedule)
        applied: dict[int, float] = {}

        if end:
            length = 1 << (end - 1).bit_length()

            @jax.jit
            def contiguous(state):  # type: ignore[no-untyped-def]
                def body(state, _):  # type: ignore[no-untyped-def]
                    lr, state = _update(opt, state)
                    return state, lr

                state, lrs = jax.lax.scan(body, state, length=length)
                return lrs, optax.tree.get(state, "count")

            lrs, count = contiguous(state0)
            assert int(count) == length, (int(count), length)  # one count per real update
            lrs = np.asarray(lrs, dtype=np.float64)
            applied.update({t: float(lrs[t]) for t in wanted if t < end})

        if far:

            @jax.jit
            def seek(counts):  # type: ignore[no-untyped-def]
                def one(c):  # type: ignore[no-untyped-def]
                    state = optax.tree.set(state0, count=c)
                    lr, state = _update(opt, state)
                    return lr, optax.tree.get(state, "count")

                return jax.vmap(one)(counts)

            counts = jnp.asarray(far, dtype=jnp.int32)
            lrs, after = seek(counts)
            np.testing.assert_array_equal(np.asarray(after), np.minimum(np.asarray(far) + 1, 2**31 - 1))
            applied.update(zip(far, np.asarray(lrs, dtype=np.float64).tolist()))

        return [applied[int(t)] for t in steps]


HARNESS = _Optax()

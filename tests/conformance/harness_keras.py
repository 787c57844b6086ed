"""Keras 3 harness: a real ``keras.optimizers.SGD`` on the current Keras backend.

A scalar variable is reset to 0 before each update and given a unit gradient, so ``-param`` after
the update is the learning rate the optimizer actually applied. Every update from 0 up to the last
probe step within ``SEEK`` of its predecessor is a real update (``optimizer.iterations`` advances by
itself, and its final value is checked, so a counting off-by-one fails); a farther step is reached
with ``optimizer.iterations.assign(k)`` and one update, as a resumed run would. Updates run
compiled where the backend compiles: one ``jax.jit`` of a ``lax.scan`` over
``optimizer.stateless_apply`` (far steps ``vmap``-ed) on JAX, one ``tf.function`` loop on
TensorFlow; PyTorch runs eagerly, as Keras's torch trainer does by default.

The applied values are ``keras.backend.floatx()`` (float32): the conformance test measures them
in float32 ulps against ``float32`` of the float64 reference (at most one ulp, SPEC section 10).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from lrkit.backends.keras import LearningRateSchedule

SEEK = 512


def _iteration_index(opt: Any) -> int:
    return next(i for i, v in enumerate(opt.variables) if v is opt.iterations)


def _runner(opt: Any, var: Any) -> tuple[Any, Any]:
    """``contiguous(n) -> lrs of updates 0..n-1`` and ``seek(counts) -> lrs at those counts``.

    Both run real ``SGD`` updates of ``var`` (reset to 0, gradient 1) and return ``-var`` after
    each; ``contiguous`` also returns ``optimizer.iterations`` afterwards, ``seek`` the count after
    each update (so a counting off-by-one is caught in both).
    """
    backend = keras.backend.backend()
    grad = keras.ops.ones(())
    opt.build([var])
    it = _iteration_index(opt)
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def update(opt_vars: Any) -> Any:
            (new_var,), new_opt_vars = opt.stateless_apply(opt_vars, [grad], [jnp.zeros(())])
            return -new_var, new_opt_vars

        def contiguous(n: int) -> tuple[np.ndarray, int]:
            @jax.jit
            def scan(opt_vars: Any) -> Any:
                def body(carry: Any, _: Any) -> Any:
                    lr, carry = update(carry)
                    return carry, lr

                opt_vars, lrs = jax.lax.scan(body, opt_vars, length=n)
                return lrs, opt_vars[it]

            lrs, count = scan([v.value for v in opt.variables])
            return np.asarray(lrs), int(count)

        def seek(counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
            base = [v.value for v in opt.variables]

            @jax.jit
            def one(c: Any) -> Any:
                opt_vars = list(base)
                opt_vars[it] = c.astype(base[it].dtype)
                lr, opt_vars = update(opt_vars)
                return lr, opt_vars[it]

            lrs, after = jax.vmap(one)(jnp.asarray(counts, dtype=base[it].dtype))
            return np.asarray(lrs), np.asarray(after)

        return contiguous, seek

    if backend == "tensorflow":
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")  # one trace per schedule is expected, not a retracing bug

        def update_tf() -> Any:
            var.assign(0.0)
            opt.apply([grad], [var])
            return -var.value

        @tf.function(autograph=True)
        def tf_contiguous(n: Any) -> Any:
            lrs = tf.TensorArray(tf.float32, size=n)
            for i in tf.range(n):
                lrs = lrs.write(i, update_tf())
            return lrs.stack(), opt.iterations.value

        @tf.function
        def tf_seek_one(c: Any) -> Any:
            opt.iterations.assign(c)
            return update_tf(), opt.iterations.value

        def contiguous_tf(n: int) -> tuple[np.ndarray, int]:
            lrs, count = tf_contiguous(tf.constant(n))
            return lrs.numpy(), int(count)

        def seek_tf(counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
            pairs = [tf_seek_one(tf.constant(c, dtype=opt.iterations.dtype)) for c in counts]
            return np.array([float(a) for a, _ in pairs]), np.array([int(b) for _, b in pairs])

        return contiguous_tf, seek_tf

    def update_eager() -> float:
        var.assign(0.0)
        opt.apply([grad], [var])
        return -float(keras.ops.convert_to_numpy(var.value))

    def contiguous_eager(n: int) -> tuple[np.ndarray, int]:
        lrs = [update_eager() for _ in range(n)]
        return np.array(lrs), int(keras.ops.convert_to_numpy(opt.iterations.value))

    def seek_eager(counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
        lrs, after = [], []
        for c in counts:
            opt.iterations.assign(c)
            lrs.append(update_eager())
            after.append(int(keras.ops.convert_to_numpy(opt.iterations.value)))
        return np.array(lrs), np.array(after)

    return contiguous_eager, seek_eager


class _Keras:
    float32 = True  # measured in float32 ulps (tests/conformance/ulps.py)

    def applied_lrs(self, schedule: Any, steps: list[int]) -> np.ndarray:
        """The learning rate a real Keras SGD applied at each of ``steps``."""
        wanted = sorted({int(t) for t in steps})
        end = 0  # contiguous prefix: updates 0 .. end - 1, no gap longer than SEEK
        for t in wanted:
            if t - end > SEEK:
                break
            end = t + 1
        far = [t for t in wanted if t >= end]
        applied: dict[int, float] = {}
        if end:
            var = keras.Variable(0.0, dtype="float32")
            opt = keras.optimizers.SGD(learning_rate=LearningRateSchedule(schedule))
            contiguous, _ = _runner(opt, var)
            lrs, count = contiguous(end)
            assert count == end, (count, end)  # one iteration per real update
            applied.update({t: float(lrs[t]) for t in wanted if t < end})
        if far:
            var = keras.Variable(0.0, dtype="float32")
            opt = keras.optimizers.SGD(learning_rate=LearningRateSchedule(schedule))
            _, seek = _runner(opt, var)
            lrs, after = seek(far)
            np.testing.assert_array_equal(after, np.asarray(far) + 1)
            applied.update(zip(far, lrs.astype(np.float64).tolist()))
        return np.asarray([applied[int(t)] for t in steps], dtype=np.float64)


HARNESS = _Keras()

"""Hostile steps on Keras (every backend): a shifted schedule never wraps its integer step counter.

``optimizer.iterations`` is int32 on JAX and int64 on TensorFlow and PyTorch; ``shift`` adds its
offset in the counter's own type, saturating an int32 near its limit and adding an offset past
int32 in floats (SPEC section 11: a wrapped counter must not give a garbage or negative rate).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import need

keras = need("keras")

import lrkit as lk  # noqa: E402
from lrkit.backends import keras as lkk  # noqa: E402

COUNTS = (0, 1, 50, 2**31 - 6, 2**31 - 1)


@pytest.mark.parametrize(
    "s",
    [
        lk.shift(lk.cosine(1.0, 0.0, 100), 7),
        lk.shift(lk.linear(1.0, 0.0, 2**31 + 10), 5),  # int32 + 5 wrapped to a negative step before
        lk.shift(lk.constant(2.0), 2**53),  # an offset no int32 holds
    ],
    ids=repr,
)
def test_shifted_counts_do_not_wrap(s: lk.Schedule) -> None:
    dtype = "int32" if keras.backend.backend() == "jax" else "int64"
    sched = lkk.LearningRateSchedule(s)
    got = [float(sched(keras.Variable(c, dtype=dtype, trainable=False))) for c in COUNTS]
    want = [s(c) for c in COUNTS]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)

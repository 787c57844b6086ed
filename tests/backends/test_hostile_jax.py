"""Hostile arguments on a traced backend: every schedule lrkit accepts stays finite, non-negative and
inside its declared ``bounds`` under ``jax.jit`` (float32), at any int32 count.

The core side (refusals, Python floats, numpy, steps up to 2**53) is ``tests/core/test_hostile.py``.
Values and factors are drawn from 0 and [1e-30, 1e30] so that float32 (1.2e-38 to 3.4e38) holds
them; schedules whose nodes reach further are skipped here (float32 cannot hold them: that is the
backend's range, not lrkit's). Durations and steps are as hostile as in the core test.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from helpers import need
from hypothesis import example, given, settings
from hypothesis import strategies as st
from schedule_strategies import Call, hostile_steps, hostile_trees

need("jax")
need("optax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import lrkit as lk  # noqa: E402
from lrkit.backends import optax as lko  # noqa: E402

INT32_MAX = 2**31 - 1
#: float32 formulas round ~2**-24 per operation; a few dozen operations at most.
REL = 2.0**-16
TINY = 1.2e-38  # float32 flushes smaller values (subnormals) towards 0


def nodes(s: lk.Schedule) -> Iterator[lk.Schedule]:
    yield s
    for name in s._children:
        v = getattr(s, name)
        for c in v if isinstance(v, tuple) else (v,):
            yield from nodes(c)


def fits_float32(s: lk.Schedule) -> bool:
    return all(n.bounds[1] <= 1e30 for n in nodes(s))


@settings(max_examples=max(10, settings.default.max_examples // 3))
@given(call=hostile_trees(max_leaves=3, top=1e30, bottom=1e-30), data=st.data())
# float32 flushes a tiny exponent to 0, and 0 ** 0 is 1 where 0 ** 5e-324 is 0.
@example(call=Call("**", Call("constant", 0.0), 5e-324), data=None)
@example(call=Call("polynomial", 1.0, 0.0, 10, 1e-40), data=None)
# A shift past int32 (an OverflowError while tracing), and one that wrapped near the int32 limit.
@example(call=Call("shift", Call("constant", 2.0), 2**53), data=None)
@example(call=Call("shift", Call("linear", 1.0, 0.0, 2**31 + 10), 5), data=None)
@example(call=Call("per_tokens", Call("constant", 1.0), 2**31), data=None)
# A start float32 flushes to 0 times a growth that overflows: NaN before (now inf, then capped by `end`).
@example(call=Call("exponential", 5e-324, 1.000001, 1, False, 0.0), data=None)
# float32 cannot hold 1 - 1e-8: `end + (start - end) * w` rounds by ~2**-24 of the larger end.
@example(call=Call("cosine", 1e-08, 1.0, 1), data=None)
# XLA's n * (1 / n) is 1 + 3e-8 for n = 3: `end * (1 - r)` was negative at step 0.
@example(call=Call("linear", 0.0, 1e-08, 3), data=None)
@example(call=Call("polynomial", 0.0, 1e-08, 3, 1.0), data=None)
def test_traced_values_stay_finite_and_inside_the_bounds(call: Call, data: st.DataObject | None) -> None:
    try:
        s = call.build()
    except (ValueError, TypeError):  # refusals are checked by tests/core/test_hostile.py
        return
    if not fits_float32(s):
        return
    drawn = data.draw(hostile_steps(s)) if data is not None else [0, 1, 9, 10, 11, 1000, INT32_MAX - 5]
    steps = sorted({t for t in drawn if t <= INT32_MAX} | {INT32_MAX})
    counts = jnp.asarray(steps, dtype=jnp.int32)
    got = jax.jit(lko.schedule(s))(counts)
    assert got.dtype == jnp.float32
    got = np.asarray(got, dtype=np.float64)
    lo, hi = s.bounds
    # float32 rounds each operation by 2**-24 of the operands' magnitude, at most ~hi.
    ok = np.isfinite(got) & (got >= 0.0) & (got >= lo - REL * hi - TINY) & (got <= hi * (1 + REL) + TINY)
    bad = np.flatnonzero(~ok)
    assert bad.size == 0, (
        f"{s!r} under jax.jit at counts {np.asarray(steps)[bad][:5].tolist()}: {got[bad][:5].tolist()} "
        f"outside [{lo!r}, {hi!r}]"
    )


def _convex_forms(a: float, b: float, n: int) -> list[lk.Schedule]:
    """Every curve written as ``a (1 - w) + b w`` or ``a + (b - a) w`` with ``w`` a quotient by ``n``."""
    return [
        lk.linear(a, b, n), lk.polynomial(a, b, n, 1.0), lk.polynomial(a, b, n, 2.0, cycle=True),
        lk.warmup_stable_decay(a, n, 1, n, end=b), lk.warmup(lk.constant(b), n, start=a),
        lk.cooldown(lk.constant(a), 0, n, end=b), lk.cooldown(lk.constant(a), 3, n, end=b, shape="square"),
        lk.cyclic(a, b, n), lk.cyclic(a, b, n, 2 * n + 1), lk.piecewise_linear([0, n], [a, b]),
    ]


@pytest.mark.parametrize("n", [7, 9])
@pytest.mark.parametrize("a, b", [(0.0, 1e-8), (1e-8, 0.0), (0.0, 1.0)])
def test_xla_reciprocal_rounding_never_gives_a_negative_rate(a: float, b: float, n: int) -> None:
    # XLA divides by a float32 reciprocal: n * (1 / n) is 1 + 2**-24 for n = 7 or 9, so an unclipped
    # `a * r + b * (1 - r)` was -4.5e-8 (a = 0, b = 1) at the step where r should be exactly 1.
    counts = jnp.arange(0, 4 * n + 8, dtype=jnp.int32)
    for s in _convex_forms(a, b, n):
        got = np.asarray(jax.jit(lko.schedule(s))(counts))
        assert (got >= 0.0).all() and np.isfinite(got).all(), (s, got[got < 0])

"""A join of many pieces on array backends: values at every boundary, and a graph that does not grow.

Traced backends evaluate a join with one search for the piece and each group of alike leaves once,
with its parameters gathered at that piece (``Ops.gathered_piecewise``). Values are compared with the
independent reference interpreter (``tests/reference.py``) at every boundary b-1, b, b+1, with the
tolerances of the conformance harnesses.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import need
from reference import evaluate_config

import lrkit as lk


def _many(n: int) -> lk.Schedule:
    """n pieces of 1 to 9 steps: linear, rising cosine, constant and falling cosine leaves with
    different parameters (four groups: whether a cosine rises is a setting of its group), a warmup and
    a nested join (evaluated on their own), ending in a constant."""
    kinds = [
        lambda i: lk.linear(0.3 - 0.0001 * i, 0.01 + 0.0001 * i, 2 + i % 7),
        lambda i: lk.cosine(0.05 + 0.00005 * i, 0.3, 3 + i % 5),
        lambda i: lk.constant(0.1 + 0.0001 * i),
        lambda i: lk.cosine(0.3, 0.02 + 0.00005 * i, 2 + i % 6),
    ]
    pieces = [kinds[i % 4](i) for i in range(n - 1)] + [lk.constant(0.02)]
    pieces[n // 3] = lk.warmup(lk.cosine(0.3, 0.0, 6), 3)
    pieces[n // 2] = lk.join([lk.constant(0.1), lk.linear(0.1, 0.0, 4)], [2])
    lengths = [1 + (i * 5) % 9 for i in range(n - 1)]
    return lk.join(pieces, np.cumsum(lengths).tolist())


def _boundary_steps(s: lk.Schedule) -> list[int]:
    steps = {0}
    for b in s.boundaries:  # type: ignore[attr-defined]
        steps.update((b - 1, b, b + 1))
    return sorted(steps)


def _reference(s: lk.Schedule, steps: list[int]) -> np.ndarray:
    config = s.to_config()
    return np.array([evaluate_config(config, t) for t in steps])


SCHEDULE = _many(300)
STEPS = _boundary_steps(SCHEDULE)
EXPECTED = _reference(SCHEDULE, STEPS)


def test_optax_join_of_many_pieces_matches_reference_at_every_boundary() -> None:
    jax = need("optax") and need("jax")
    import jax.numpy as jnp

    from lrkit.backends.optax import schedule

    fn = jax.jit(jax.vmap(schedule(SCHEDULE)))
    got = np.asarray(fn(jnp.asarray(STEPS, dtype=jnp.int32)), dtype=np.float64)
    np.testing.assert_allclose(got, EXPECTED, rtol=5e-6, atol=1.5e-7)
    one = jax.jit(schedule(SCHEDULE))  # a scalar count, as inside an optimizer update
    for t in (0, STEPS[len(STEPS) // 2], STEPS[-1]):
        np.testing.assert_allclose(float(one(jnp.int32(t))), EXPECTED[STEPS.index(t)], rtol=5e-6, atol=1.5e-7)


def test_optax_join_graph_does_not_grow_with_its_pieces() -> None:
    jax = need("optax") and need("jax")
    import jax.numpy as jnp

    from lrkit.backends.optax import schedule

    def size(n: int) -> tuple[int, int]:
        text = str(jax.make_jaxpr(schedule(_many(n)))(jnp.int32(0)))
        return len(text.splitlines()), text.count("select_n")

    small, large = size(12), size(3000)
    # a `where` per piece would give 3000 selects and lines; a search and gathers a few more than 12
    assert large[1] <= small[1] + 4, (small, large)
    assert large[0] <= small[0] + 60, (small, large)


def test_keras_join_of_many_pieces_matches_reference_at_every_boundary() -> None:
    keras = need("keras")
    from lrkit.backends._keras_ops import OPS

    dtype = "int32" if keras.backend.backend() == "jax" else "int64"
    got = OPS.evaluate(SCHEDULE, keras.ops.convert_to_tensor(np.asarray(STEPS), dtype=dtype))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got).astype(np.float64), EXPECTED, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", ["int64", "float64"])
def test_torch_join_of_many_pieces_matches_reference_at_every_boundary(dtype: str) -> None:
    torch = need("torch")

    got = SCHEDULE(torch.tensor(STEPS, dtype=getattr(torch, dtype)))
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), EXPECTED, rtol=1e-12, atol=1e-15)
    # unsorted, repeated and a 2-d shape
    perm = np.random.default_rng(0).permutation(len(STEPS))
    steps = torch.tensor(np.asarray(STEPS)[perm], dtype=getattr(torch, dtype))
    np.testing.assert_allclose(SCHEDULE(steps.reshape(-1, 1)).numpy().ravel(), EXPECTED[perm], rtol=1e-12, atol=1e-15)


# Joins whose piece is found differently: boundaries far apart after short pieces (too many buckets:
# a search instead of the bucket table), and boundaries near 2**31 (packed entries past int32).
def _alike(boundaries: list[int]) -> lk.Schedule:
    pieces = [lk.linear(0.3 - 0.01 * i, 0.01 * i, 3 + i) for i in range(len(boundaries) + 1)]
    return lk.join(pieces, boundaries)


SPREAD = _alike([1, 2, 3, 5, 8, 400_000, 400_001, 3_000_000])
HIGH = _alike([2**28, 2**29 + 3, 2**30, 2**30 + 2**29, 2**31 - 2])


@pytest.mark.parametrize("s", [SPREAD, HIGH], ids=["spread", "near_int32_max"])
def test_optax_join_lookup_and_search_match_reference(s: lk.Schedule) -> None:
    jax = need("optax") and need("jax")
    import jax.numpy as jnp

    from lrkit.backends.optax import schedule

    steps = [t for t in _boundary_steps(s) if t <= 2**31 - 1] + [2**31 - 1]
    expected = _reference(s, steps)
    got = np.asarray(jax.jit(jax.vmap(schedule(s)))(jnp.asarray(steps, dtype=jnp.int32)), dtype=np.float64)
    np.testing.assert_allclose(got, expected, rtol=5e-6, atol=1.5e-7)


def test_jax_join_of_many_pieces_at_float_steps() -> None:
    # A float step (schedule(jax_array) of floats): its piece is the one of its floor.
    jax = need("jax")
    import jax.numpy as jnp

    steps = sorted({t + d for t in STEPS[::7] for d in (0.0, 0.25, 0.5)} | {1e12, 1e30})  # exact in float32
    expected = _reference(SCHEDULE, steps)
    got = np.asarray(SCHEDULE(jnp.asarray(steps, dtype=jnp.float32)), dtype=np.float64)
    np.testing.assert_allclose(got, expected, rtol=5e-6, atol=1.5e-7)
    steps = [*steps, STEPS[-1] - 1e-9, 1e300]
    with jax.enable_x64(True):
        got = np.asarray(SCHEDULE(jnp.asarray(steps, dtype=jnp.float64)))
    np.testing.assert_allclose(got, _reference(SCHEDULE, steps), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("s", [SCHEDULE, SPREAD, HIGH], ids=["many", "spread", "near_int32_max"])
def test_keras_join_lookup_and_search_compiled_match_reference(s: lk.Schedule) -> None:
    keras = need("keras")
    from lrkit.backends._keras_ops import OPS

    backend = keras.backend.backend()
    dtype = "int32" if backend == "jax" else "int64"
    steps = [t for t in _boundary_steps(s) if t <= 2**31 - 1] + [2**31 - 1]
    fn = lambda t: OPS.evaluate(s, t)  # noqa: E731
    if backend == "jax":
        import jax

        fn = jax.jit(fn)
    elif backend == "tensorflow":
        import tensorflow as tf

        fn = tf.function(fn, jit_compile=True)
    got = fn(keras.ops.convert_to_tensor(np.asarray(steps), dtype=dtype))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got).astype(np.float64), _reference(s, steps),
                               rtol=2e-6, atol=1e-7)


def test_keras_join_of_many_pieces_at_float_steps() -> None:
    keras = need("keras")
    from lrkit.backends._keras_ops import OPS

    # float64 steps but on JAX (float32 there without x64: steps exact in float32)
    dtype = "float32" if keras.backend.backend() == "jax" else "float64"
    steps = sorted({t + d for t in STEPS[::7] for d in (0.0, 0.25, 0.5)} | {1e12, 1e30 if dtype == "float32" else 1e300})
    got = OPS.evaluate(SCHEDULE, keras.ops.convert_to_tensor(np.asarray(steps), dtype=dtype))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got).astype(np.float64), _reference(SCHEDULE, steps),
                               rtol=2e-6, atol=1e-7)


def test_keras_join_graph_does_not_grow_with_its_pieces() -> None:
    keras = need("keras")
    from lrkit.backends._keras_ops import OPS

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def size(n: int) -> int:
            s = _many(n)
            fn = tf.function(lambda t: OPS.evaluate(s, t))
            return len(fn.get_concrete_function(tf.TensorSpec((), tf.int64)).graph.as_graph_def().node)
    elif backend == "jax":
        import jax
        import jax.numpy as jnp

        def size(n: int) -> int:
            return len(str(jax.make_jaxpr(lambda t: OPS.evaluate(_many(n), t))(jnp.int32(0))).splitlines())
    else:
        pytest.skip("torch evaluates eagerly (no graph)")
    small, large = size(12), size(3000)
    # a `where` per piece would add thousands of nodes; the lookup and the gathers are the same ops
    assert large <= small + 10, (small, large)

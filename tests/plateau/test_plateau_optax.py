"""Reduce-on-plateau as an optax gradient transformation, and the optax range test."""

from __future__ import annotations

import math
import pickle
import warnings

import helpers
import numpy as np
import plateau_reference as ref
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit as lk
from lrkit._plateau import PlateauMetricWarning

jax = helpers.need("jax")
optax = helpers.need("optax")
import jax.numpy as jnp  # noqa: E402

from lrkit.backends.optax import PlateauState, lr_range_test, reduce_on_plateau  # noqa: E402

# Dyadic settings and metrics: exact in float32, so float32 (JAX) and float64 decisions agree.
SETTINGS = st.fixed_dictionaries({
    "mode": st.sampled_from(["min", "max"]),
    "factor": st.sampled_from([0.5, 0.25]),
    "patience": st.integers(0, 3),
    "threshold": st.sampled_from([0.0, 0.25, 0.5]),
    "threshold_mode": st.sampled_from(["rel", "abs"]),
    "cooldown": st.integers(0, 2),
    "min_lr": st.sampled_from([0.0, 0.125]),
})
METRICS = st.lists(st.integers(0, 12).map(lambda k: k / 4), min_size=1, max_size=25)


def _run(tx, metrics):
    params = jnp.zeros(2)
    state = tx.init(params)
    step = jax.jit(lambda s, v: tx.update(jnp.ones(2), s, params, value=v))
    lrs, updates = [], []
    for m in metrics:
        u, state = step(state, m)
        lrs.append(float(state.learning_rate))
        updates.append(np.asarray(u))
    return lrs, updates, state


# Each example compiles a new transformation: few examples here. The same branch-free transition is
# swept widely with numpy in test_plateau_core.py::test_branch_free_transition_*.
@settings(max_examples=8)
@given(kw=SETTINGS, metrics=METRICS)
def test_same_lrs_as_torch_rules_under_jit(kw, metrics):
    lrs, updates, _ = _run(reduce_on_plateau(lk.constant(1.0), lk.ReduceOnPlateau(**kw)), metrics)
    want = ref.torch_lrs(metrics, 1.0, **kw)
    np.testing.assert_allclose(lrs, want, rtol=1e-6)
    np.testing.assert_allclose([u[0] for u in updates], [-w for w in want], rtol=1e-6)
    if helpers.requested("torch"):
        import torch

        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        native = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        nat = []
        for m in metrics:
            native.step(m)
            nat.append(opt.param_groups[0]["lr"])
        np.testing.assert_allclose(lrs, nat, rtol=1e-6)


@settings(max_examples=5)
@given(kw=SETTINGS, metrics=METRICS)
def test_keras_convention_under_jit(kw, metrics):
    p = lk.ReduceOnPlateau(**dict(kw, threshold_mode="abs", eps=0.0), convention="keras")
    lrs, _, _ = _run(reduce_on_plateau(lk.constant(1.0), p), metrics)
    want = ref.keras_lrs(metrics, 1.0, mode=kw["mode"], factor=kw["factor"], patience=kw["patience"],
                         min_delta=kw["threshold"], cooldown=kw["cooldown"], min_lr=kw["min_lr"])
    np.testing.assert_allclose(lrs, want, rtol=1e-6)


def test_composition_with_a_moving_schedule():
    s = lk.warmup(lk.cosine(1.0, 0.0, 30), 5)
    p = lk.ReduceOnPlateau(patience=1, factor=0.5, min_lr=0.05)
    metrics = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25] * 3
    lrs, _, _ = _run(reduce_on_plateau(s, p), metrics)

    def sched(t):  # written separately from lrkit
        if t < 5:
            return t / 5
        u = min(t - 5, 30)
        return (1 + math.cos(math.pi * u / 30)) / 2

    values = [sched(t) for t in range(len(metrics))]
    scales = ref.torch_scales(metrics, values, patience=1, factor=0.5, min_lr=0.05)
    want = [min(v, max(v * sc, 0.05)) for v, sc in zip(values, scales)]
    np.testing.assert_allclose(lrs, want, rtol=2e-6, atol=1e-7)
    assert min(scales) < 1.0


def test_state_is_a_pytree_that_saves_and_resumes(tmp_path):
    tx = reduce_on_plateau(lk.linear(1.0, 0.1, 20), lk.ReduceOnPlateau(patience=0, factor=0.5))
    metrics = [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    full, _, _ = _run(tx, metrics)
    params = jnp.zeros(2)
    state = tx.init(params)
    assert isinstance(state, PlateauState)
    for m in metrics[:4]:
        _, state = tx.update(jnp.ones(2), state, params, value=m)
    leaves, treedef = jax.tree.flatten(state)
    (tmp_path / "s.pkl").write_bytes(pickle.dumps([np.asarray(x) for x in leaves]))
    restored = jax.tree.unflatten(treedef, [jnp.asarray(x) for x in pickle.loads((tmp_path / "s.pkl").read_bytes())])
    got = []
    for m in metrics[4:]:
        _, restored = tx.update(jnp.ones(2), restored, params, value=m)
        got.append(float(restored.learning_rate))
    np.testing.assert_allclose(got, full[4:], rtol=0, atol=0)


def test_accumulation_averages_values():
    tx = reduce_on_plateau(lk.constant(1.0), lk.ReduceOnPlateau(patience=0, factor=0.5), accumulation_size=2)
    lrs, _, _state = _run(tx, [1.0, 1.0, 2.0, 0.0, 1.0, 1.0])
    # evaluations: mean(1,1)=1 (better than inf), mean(2,0)=1 (bad: reduce), mean(1,1)=1 (bad: reduce)
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]


def test_nonfinite_value_warns_and_is_ignored():
    tx = reduce_on_plateau(lk.constant(1.0), lk.ReduceOnPlateau(patience=0, factor=0.5), warn_nonfinite=True)
    params = jnp.zeros(2)
    step = jax.jit(lambda s, v: tx.update(jnp.ones(2), s, params, value=v))
    state = tx.init(params)
    _, state = step(state, 1.0)
    with pytest.warns(PlateauMetricWarning):
        _, state2 = step(state, math.nan)
        jax.effects_barrier()
    assert float(state2.scale) == 1.0 and int(state2.num_bad_epochs) == 0
    assert int(state2.num_nonfinite) == 1
    with pytest.raises(TypeError, match="`value` must be"):
        tx.update(jnp.ones(2), state, params, value=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = reduce_on_plateau(lk.constant(1.0))
        _, qs = quiet.update(jnp.ones(2), quiet.init(params), params, value=math.inf)
        jax.effects_barrier()
    assert int(qs.num_nonfinite) == 1 and float(qs.scale) == 1.0


@pytest.mark.parametrize("kw,exc,match", [
    ({"schedule": 0.1}, TypeError, "`schedule` must be an lrkit schedule"),
    ({"plateau": "min"}, TypeError, "`plateau` must be"),
    ({"accumulation_size": 0}, ValueError, "`accumulation_size` must be a positive integer"),
])
def test_bad_arguments(kw, exc, match):
    args = {"schedule": lk.constant(0.1), **kw}
    with pytest.raises(exc, match=match):
        reduce_on_plateau(**args)


def test_training_loop_with_adam():
    key = jax.random.PRNGKey(0)
    x = jax.random.normal(key, (128, 3))
    y = x @ jnp.array([1.0, -2.0, 0.5]) + 0.1 * jax.random.normal(jax.random.PRNGKey(1), (128,))
    loss_fn = lambda w: jnp.mean((x @ w - y) ** 2)  # noqa: E731
    plateau = reduce_on_plateau(lk.constant(0.1), lk.ReduceOnPlateau(patience=3), accumulation_size=5)
    tx = optax.chain(optax.scale_by_adam(), plateau)
    w = jnp.zeros(3)
    state = tx.init(w)

    @jax.jit
    def step(w, state):
        loss, g = jax.value_and_grad(loss_fn)(w)
        u, state = tx.update(g, state, w, value=loss)
        return optax.apply_updates(w, u), state, loss

    for _ in range(400):
        w, state, loss = step(w, state)
    assert float(loss) < 0.02
    assert int(state[1].num_reductions) >= 1  # the loss plateaued at the noise level: reduced
    assert float(state[1].learning_rate) == pytest.approx(0.1 * float(state[1].scale), rel=1e-6)


def test_range_test_on_linear_regression():
    rng = np.random.RandomState(0)
    x = rng.randn(512, 4).astype("float32")
    y = (x @ np.ones(4) + 0.3 * rng.randn(512)).astype("float32")
    xb = np.concatenate([x, np.ones((512, 1), "float32")], 1)
    L = float(np.linalg.eigvalsh(2 * xb.T @ xb / 512).max())

    def loss(w, b):
        return jnp.mean((b[0] @ w[0] + w[1] - b[1]) ** 2)

    params = (jnp.zeros(4), jnp.zeros(()))
    batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 512, 32)]
    res = lr_range_test(loss, params, optax.sgd, batches, start=1e-5, end=10.0, steps=150)
    assert res.diverged_at is not None and res.suggested < res.diverged_at
    assert (1 / L) / 100 <= res.suggested <= 1 / L
    assert float(jnp.abs(params[0]).sum()) == 0.0

"""The optax adapter inside real optax optimizers, compiled train steps and saved states.

Expected values come from the independent reference interpreter (``tests/reference.py``), from a
training loop written out in numpy here, or from optax's own schedules for the same curve: never
from lrkit itself. Float32 tolerances are those documented in ``lrkit.backends._jax_ops``.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from helpers import need
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import evaluate_config
from schedule_strategies import leaves, trees

need("jax")
optax = need("optax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import lrkit as lk  # noqa: E402
from lrkit.backends import optax as lko  # noqa: E402

# Each example compiles a new schedule, so these sweeps take a share of the profile's examples
# (LRKIT_HYPOTHESIS_EXAMPLES, tests/conftest.py): 150 gives 37 and 50.
JIT_EXAMPLES = max(10, settings.default.max_examples // 4)
RTOL, ATOL = 5e-6, 1.5e-7  # float32 values vs the float64 reference (see harness_optax.py)
EPS32 = 2.0**-24


def ref(s: lk.Schedule, steps) -> np.ndarray:  # type: ignore[no-untyped-def]
    config = s.to_config()
    return np.array([evaluate_config(config, int(t)) for t in np.ravel(steps)]).reshape(np.shape(steps))


def boundary_steps(s: lk.Schedule, horizon: int) -> list[int]:
    """0..20, every breakpoint at b-1, b, b+1, the end of the curve and past it."""
    out = set(range(21)) | {horizon - 1, horizon, horizon + 1}
    for b in s.breakpoints(horizon):
        out |= {b - 1, b, b + 1}
    if s.duration is not None:
        out |= {s.duration - 1, s.duration, s.duration + 1, 2 * s.duration}
    return sorted(t for t in out if t >= 0)


def sgd_applied(s: lk.Schedule, counts) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The learning rate a real ``optax.sgd`` update applies at each count (param 0, grad 1)."""
    opt = optax.sgd(learning_rate=lko.schedule(s))
    state0 = opt.init(jnp.zeros((), jnp.float32))

    @jax.jit
    def applied(counts):  # type: ignore[no-untyped-def]
        def one(c):  # type: ignore[no-untyped-def]
            updates, _ = opt.update(jnp.ones((), jnp.float32), optax.tree.set(state0, count=c))
            return -optax.apply_updates(jnp.zeros((), jnp.float32), updates)

        return jax.vmap(one)(counts)

    return np.asarray(applied(jnp.asarray(counts, jnp.int32)), dtype=np.float64)


# -- the adapter itself -----------------------------------------------------------------------------


def test_to_optax_and_dispatch_give_float32_arrays_of_the_step_shape() -> None:
    s = lk.warmup(lk.cosine(1.0, 0.1, 20), 5)
    fn = s.to_optax()
    assert callable(fn) and fn.lrkit_schedule is s
    steps = np.arange(30)
    for out in (fn(jnp.arange(30)), s(jnp.arange(30)), jax.jit(fn)(jnp.arange(30))):
        assert isinstance(out, jax.Array) and out.dtype == jnp.float32 and out.shape == (30,)
        np.testing.assert_allclose(np.asarray(out), ref(s, steps), rtol=RTOL, atol=ATOL)
    two_d = s(jnp.arange(30).reshape(5, 6))
    assert two_d.shape == (5, 6)
    np.testing.assert_array_equal(np.asarray(two_d).ravel(), np.asarray(s(jnp.arange(30))))
    assert fn(7).shape == () and float(fn(7)) == pytest.approx(ref(s, [7])[0], rel=RTOL)


@settings(max_examples=JIT_EXAMPLES)
@given(trees())
def test_applied_lr_of_a_real_sgd_update_matches_reference(drawn) -> None:  # type: ignore[no-untyped-def]
    s, horizon = drawn
    steps = boundary_steps(s, horizon)
    expected = ref(s, steps)
    got = sgd_applied(s, steps)
    # Random trees get float32's conditioning too: cosine_restarts with period_mult m > 1 finds
    # its cycle starts as p (m**i - 1) / (m - 1), which magnifies float32 rounding by i / (m - 1)
    # (see lrkit/backends/_jax_ops.py).
    scale = max(1.0, float(np.max(np.abs(expected))))
    atol = (2e-4 if _restarts_with_mult(s.to_config()) else 2e-5) * scale
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=atol, err_msg=repr(s))


def _restarts_with_mult(config) -> bool:  # type: ignore[no-untyped-def]
    if config.get("type") == "cosine_restarts" and config.get("period_mult", 1.0) > 1.0:
        return True
    kids = [v for v in config.values() if isinstance(v, dict)]
    kids += [c for v in config.values() if isinstance(v, list) for c in v if isinstance(c, dict)]
    return any(_restarts_with_mult(c) for c in kids)


PERIODIC = {
    "step": lambda n, c: lk.step(1.0, 2.0, n),
    "exponential_staircase": lambda n, c: lk.exponential(1.0, 0.5, n, staircase=True),
    "inverse_time_staircase": lambda n, c: lk.inverse_time(1.0, 1.0, n, staircase=True),
    "polynomial_cycle": lambda n, c: lk.polynomial(1.0, 0.0, n, cycle=True),
    "cosine_restarts": lambda n, c: lk.cosine_restarts(1.0, 0.0, n),
    "cosine_wave_restart": lambda n, c: lk.cosine_wave(1.0, 0.0, n, cycles=c, restart=True),
}


@settings(max_examples=JIT_EXAMPLES)
@given(
    st.sampled_from(sorted(PERIODIC)),
    st.integers(1, 1000),
    st.sampled_from([0.5, 1.0, 2.0, 2.5, 4.0]),
)
def test_whole_periods_are_exact_under_xla_division(kind: str, n: int, cycles: float) -> None:
    """XLA compiles ``t / n`` as ``t * (1 / n)``: 121 * (1 / 121.0) < 1 in float32, so ``floor``
    of it would start a period one step late (and a cosine restart would read as the cycle's end).
    Every period start, at b-1, b, b+1, must match the reference."""
    s = PERIODIC[kind](n, cycles)
    steps = sorted({u for b in s.breakpoints(6 * n + 2) for u in (b - 1, b, b + 1) if u >= 0} | {0})
    np.testing.assert_allclose(sgd_applied(s, steps), ref(s, steps), rtol=2e-5, atol=1e-6, err_msg=repr(s))


def test_jit_and_vmap_over_counts_match_reference() -> None:
    s = lk.join([lk.linear(0.0, 0.3, 5), lk.constant(0.3), lk.cosine(0.3, 0.0, 20)], [5, 12])
    fn = jax.jit(jax.vmap(lko.schedule(s)))
    counts = jnp.arange(40, dtype=jnp.int32)
    np.testing.assert_allclose(np.asarray(fn(counts)), ref(s, np.arange(40)), rtol=RTOL, atol=ATOL)
    # vmap over a batch of counts inside a jitted function of two arguments.
    both = jax.jit(jax.vmap(lambda c, k: lko.schedule(s)(c) * k))(counts, jnp.full(40, 2.0))
    np.testing.assert_allclose(np.asarray(both), 2 * ref(s, np.arange(40)), rtol=RTOL, atol=2 * ATOL)


def _linear_problem():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x @ np.array([1.5, -2.0, 0.5], np.float32) + 0.3).astype(np.float32)
    return x, y


def _loss(params, x, y):  # type: ignore[no-untyped-def]
    pred = x @ params["w"] + params["b"]
    return jnp.mean((pred - y) ** 2)


def test_jitted_sgd_train_step_matches_hand_written_numpy_sgd_and_never_retraces() -> None:
    s = lk.warmup(lk.cosine(0.1, 0.001, 40), 10)
    x, y = _linear_problem()
    opt = optax.sgd(learning_rate=s.to_optax())
    traces = []

    @jax.jit
    def train_step(params, state):  # type: ignore[no-untyped-def]
        traces.append(1)  # Python side effect: runs once per trace only
        loss, grads = jax.value_and_grad(_loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    params = {"w": jnp.zeros(3, jnp.float32), "b": jnp.zeros((), jnp.float32)}
    state = opt.init(params)
    losses = []
    for _ in range(60):
        params, state, loss = train_step(params, state)
        losses.append(float(loss))
    assert len(traces) == 1 and train_step._cache_size() == 1
    assert int(optax.tree.get(state, "count")) == 60
    assert losses[-1] < 0.01 * losses[0]

    # The same loop by hand in float64, lr from the reference interpreter.
    w, b = np.zeros(3), 0.0
    xd, yd = x.astype(np.float64), y.astype(np.float64)
    for k in range(60):
        r = xd @ w + b - yd
        lr = evaluate_config(s.to_config(), k)
        w, b = w - lr * (2 * xd.T @ r / len(yd)), b - lr * (2 * r.mean())
    np.testing.assert_allclose(np.asarray(params["w"]), w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(float(params["b"]), b, rtol=1e-4, atol=1e-5)


_STEPS: dict[int, tuple] = {}


def _train(opt, steps: int, params=None, state=None):  # type: ignore[no-untyped-def]
    """``steps`` jitted updates of the linear model (one compiled step per optimizer)."""
    if id(opt) not in _STEPS:
        x, y = _linear_problem()

        @jax.jit
        def step(params, state):  # type: ignore[no-untyped-def]
            grads = jax.grad(_loss)(params, x, y)
            updates, state = opt.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        _STEPS[id(opt)] = (opt, step)  # keeps opt alive, so its id is not reused
    step = _STEPS[id(opt)][1]
    if params is None:
        params = {"w": jnp.zeros(3, jnp.float32), "b": jnp.zeros((), jnp.float32)}
        state = opt.init(params)
    for _ in range(steps):
        params, state = step(params, state)
    return params, state


def _assert_trees_close(a, b, rtol=2e-6, atol=1e-7) -> None:  # type: ignore[no-untyped-def]
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb)
    for u, v in zip(la, lb):
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=rtol, atol=atol)


def test_chain_clip_adamw_matches_optax_native_schedule() -> None:
    ours = lk.warmup(lk.cosine(0.05, 0.0, 40), 10)
    native = optax.warmup_cosine_decay_schedule(0.0, 0.05, warmup_steps=10, decay_steps=50, end_value=0.0)
    np.testing.assert_allclose(
        np.asarray(jax.vmap(ours.to_optax())(jnp.arange(70))),
        np.asarray(jax.vmap(native)(jnp.arange(70))),
        rtol=RTOL,
        atol=ATOL,
    )

    def make(lr):  # type: ignore[no-untyped-def]
        return optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(learning_rate=lr, weight_decay=1e-3))

    p_ours, _ = _train(make(ours.to_optax()), 70)
    p_native, _ = _train(make(native), 70)
    _assert_trees_close(p_ours, p_native, rtol=1e-5, atol=1e-6)


def test_inject_hyperparams_schedules_b1_and_weight_decay_as_well_as_the_lr() -> None:
    lr, b1, wd = lk.linear(0.05, 0.01, 20), lk.linear(0.5, 0.9, 15), lk.cosine(0.1, 0.0, 25)
    ours = optax.inject_hyperparams(optax.adamw)(
        learning_rate=lr.to_optax(), b1=b1.to_optax(), weight_decay=wd.to_optax()
    )
    native = optax.inject_hyperparams(optax.adamw)(
        learning_rate=optax.linear_schedule(0.05, 0.01, 20),
        b1=optax.linear_schedule(0.5, 0.9, 15),
        weight_decay=optax.cosine_decay_schedule(0.1, 25),
    )
    x, y = _linear_problem()
    opt = ours
    params = {"w": jnp.zeros(3, jnp.float32), "b": jnp.zeros((), jnp.float32)}
    state = opt.init(params)
    step = jax.jit(lambda p, s: opt.update(jax.grad(_loss)(p, x, y), s, p))
    seen = {"learning_rate": [], "b1": [], "weight_decay": []}
    for _ in range(30):
        updates, state = step(params, state)
        params = optax.apply_updates(params, updates)
        for k in seen:  # the value used by this update (count k -> schedule(k))
            seen[k].append(float(state.hyperparams[k]))
    for k, s in (("learning_rate", lr), ("b1", b1), ("weight_decay", wd)):
        np.testing.assert_allclose(seen[k], ref(s, np.arange(30)), rtol=RTOL, atol=ATOL, err_msg=k)
    p_native, _ = _train(native, 30)
    _assert_trees_close(params, p_native, rtol=1e-5, atol=1e-6)
    # A non-lr hyperparameter really changes the result: a constant b1 gives other params.
    const_b1 = optax.inject_hyperparams(optax.adamw)(
        learning_rate=lr.to_optax(), b1=0.9, weight_decay=wd.to_optax()
    )
    p_const, _ = _train(const_b1, 30)
    assert not np.allclose(np.asarray(p_const["w"]), np.asarray(params["w"]), rtol=1e-4)


@pytest.mark.parametrize("k", [2, 3])
def test_multisteps_advances_the_schedule_once_per_real_update(k: int) -> None:
    s = lk.linear(0.5, 0.1, 8)  # strictly decreasing: counting micro-steps would be visible
    opt = optax.MultiSteps(optax.sgd(learning_rate=s.to_optax()), every_k_schedule=k)
    state = opt.init(jnp.zeros((), jnp.float32))

    @jax.jit
    def run(state):  # type: ignore[no-untyped-def]
        def body(state, _):  # type: ignore[no-untyped-def]
            updates, state = opt.update(jnp.ones((), jnp.float32), state, jnp.zeros((), jnp.float32))
            return state, (-updates, opt.has_updated(state))

        return jax.lax.scan(body, state, length=12 * k)

    state, (applied, emitted) = run(state)
    applied, emitted = np.asarray(applied, np.float64), np.asarray(emitted)
    real = np.arange(12 * k) % k == k - 1
    np.testing.assert_array_equal(emitted, real)
    np.testing.assert_array_equal(applied[~real], 0.0)
    np.testing.assert_allclose(applied[real], ref(s, np.arange(12)), rtol=RTOL, atol=ATOL)
    assert int(state.gradient_step) == 12 and int(optax.tree.get(state.inner_opt_state, "count")) == 12


def test_saved_state_resumes_mid_schedule_exactly() -> None:
    s = lk.warmup(lk.cosine_restarts(0.05, 0.001, 7), 4)
    opt = optax.adamw(learning_rate=s.to_optax(), weight_decay=1e-2)
    p_full, st_full = _train(opt, 25)
    p_mid, st_mid = _train(opt, 11)

    # 1. pickle of host copies.
    blob = pickle.dumps(jax.device_get((p_mid, st_mid)))
    p1, st1 = pickle.loads(blob)
    # 2. flax-style pytree: leaves as numpy arrays, structure restored from a template state.
    leaves, _ = jax.tree_util.tree_flatten((p_mid, st_mid))
    arrays = [np.array(leaf) for leaf in leaves]
    template = (
        {"w": jnp.zeros(3, jnp.float32), "b": jnp.zeros((), jnp.float32)},
        opt.init({"w": jnp.zeros(3, jnp.float32), "b": jnp.zeros((), jnp.float32)}),
    )
    p2, st2 = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(template), arrays)
    assert int(st2[0].count) == 11 and int(st2[2].count) == 11

    for p, state in ((p1, st1), (p2, st2)):
        p_res, st_res = _train(opt, 14, jax.tree.map(jnp.asarray, p), jax.tree.map(jnp.asarray, state))
        for a, b in zip(jax.tree_util.tree_leaves((p_res, st_res)), jax.tree_util.tree_leaves((p_full, st_full))):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


# -- large steps ------------------------------------------------------------------------------------


def test_boundaries_are_exact_on_the_integer_step_past_float32() -> None:
    b = 2**24 + 1  # float32 reads 2**24 and 2**24 + 1 as the same number
    cases = [
        lk.multistep(1.0, [b], 0.5),
        lk.piecewise_constant([b], [1.0, 0.5]),
        lk.join([lk.constant(1.0), lk.constant(0.5)], [b]),
        lk.warmup(lk.constant(0.5), b, start=1.0),
        lk.per_epoch(lk.multistep(1.0, [1], 0.5), b),
    ]
    for s in cases:
        counts = [b - 1, b, b + 1, 10**9]
        np.testing.assert_allclose(sgd_applied(s, counts), ref(s, counts), rtol=RTOL, err_msg=repr(s))
    s = lk.join([lk.constant(1.0), lk.constant(0.5)], [10**9])
    np.testing.assert_array_equal(sgd_applied(s, [10**9 - 1, 10**9, 10**9 + 1]), [1.0, 0.5, 0.5])


@settings(max_examples=JIT_EXAMPLES * 4 // 3)
@given(
    leaves(bounded=True),
    st.one_of(st.integers(2**24, 2**31 - 1), st.sampled_from([2**24 + 1, 10**9, 2**31 - 1])),
    st.integers(1, 2**32),
)
def test_large_steps_within_the_documented_float32_bound(drawn, t: int, duration: int) -> None:  # type: ignore[no-untyped-def]
    """The value is the curve's at some step within ``t * (1 +- c * 2**-24)``, up to float32 ulps.

    That is the documented bound ``|v'(t)| * c * t * 2**-24`` without assuming the curve is smooth
    (periodic curves lose their phase past 2**24). ``c = 4`` (the step and the phase each rounded
    to float32), plus the cycle number ``i`` for ``cosine_restarts`` with ``period_mult`` m > 1,
    whose cycle starts come from ``m ** i`` in float32.
    """
    s, _ = drawn
    # Stretch the curve over a large duration so far steps are in its interesting part.
    config = s.to_config()
    for key in ("steps", "every", "timescale", "period"):
        if key in config and isinstance(config[key], int):
            config[key] = duration
    s = lk.from_config(config)
    c = 4.0
    if config["type"] == "cosine_restarts" and config["period_mult"] > 1.0:
        m = config["period_mult"]
        c += math.log(1.0 + t * (m - 1.0) / config["period"]) / math.log(m)
    w = c * EPS32 * t
    lo, hi = max(0, math.floor(t - w)), math.ceil(t + w)
    # Every step of the window (a periodic curve can touch its extremes anywhere in it).
    # The bound is on the continuous curve: a period near one step aliases at whole steps, so the
    # window is also probed between them.
    probes = {
        t, int(np.float32(t)), *np.linspace(lo, hi, min(hi - lo + 1, 4001)).round().astype(int).tolist(),
        *np.linspace(max(0.0, t - w), t + w, 2001).tolist(),
    }
    near = [evaluate_config(config, u) for u in sorted(probes)]
    assume(bool(np.all(np.isfinite(near))) and max(map(abs, near)) < 1e30)
    got = float(jax.jit(s.to_optax())(jnp.asarray(t, jnp.int32)))
    tol = 2e-5 * max(map(abs, near)) + ATOL
    assert min(near) - tol <= got <= max(near) + tol, (s, t, got, min(near), max(near))


def test_giant_durations_like_optax_test_with_giant_int_steps() -> None:
    # optax/schedules/_schedule_test.py::test_with_giant_int_steps: decay_steps past int32.
    ours = jax.jit(lk.cosine(1000.0, 0.0, 10**10).to_optax())(int(1e9))
    native = jax.jit(optax.cosine_decay_schedule(1000.0, int(1e10)))(int(1e9))
    np.testing.assert_allclose(float(ours), 975.52826, rtol=1e-6)
    np.testing.assert_allclose(float(ours), float(native), rtol=1e-6)
    # A Python int beyond int32 is accepted outside jit (read as a float, as optax does).
    fn = lk.cosine(1000.0, 0.0, 10**10).to_optax()
    assert float(fn(10**10)) == 0.0
    # So is a numpy int64 (JAX without x64 would wrap it around int32 to 1410065408).
    np.testing.assert_array_equal(np.asarray(fn(np.array([10**10, 0], np.int64))), [0.0, 1000.0])


def test_int32_count_saturates_and_the_schedule_holds_there() -> None:
    s = lk.linear(1.0, 0.0, 2**32)  # still moving at the int32 limit
    opt = optax.sgd(learning_rate=s.to_optax())
    state = optax.tree.set(opt.init(jnp.zeros((), jnp.float32)), count=jnp.asarray(2**31 - 2, jnp.int32))
    step = jax.jit(lambda st: opt.update(jnp.ones((), jnp.float32), st))
    applied, counts = [], []
    for _ in range(3):
        updates, state = step(state)
        applied.append(-float(updates))
        counts.append(int(optax.tree.get(state, "count")))
    assert counts == [2**31 - 1] * 3  # optax.safe_increment stops at the int32 maximum
    expected = ref(s, [2**31 - 2, 2**31 - 1, 2**31 - 1])
    np.testing.assert_allclose(applied, expected, rtol=1e-7)


def test_x64_evaluates_in_float64_exactly() -> None:
    s = lk.linear(0.0, 1.0, 2**30)
    with jax.enable_x64(True):
        out = jax.jit(s.to_optax())(jnp.asarray(2**24 + 1, jnp.int32))
        assert out.dtype == jnp.float64
        assert float(out) == (2**24 + 1) / 2**30


# -- bad input --------------------------------------------------------------------------------------


def test_bad_input_is_refused_with_the_argument_named() -> None:
    with pytest.raises(TypeError, match=r"`s` must be an lrkit schedule \(.*lrkit.constant\(0.1\).*\). Received: s=0.1"):
        lko.schedule(0.1)
    with pytest.raises(TypeError, match=r"`s` must be an lrkit schedule \(.*lrkit.from_optax\(name, \*args"):
        lko.schedule(optax.constant_schedule(0.1))
    fn = lk.constant(0.1).to_optax()
    with pytest.raises(ValueError, match=r"`step` must be non-negative.*-3"):
        lk.constant(0.1)(jnp.asarray([1, -3]))  # a step given directly; an optax count reads as 0
    with pytest.raises(ValueError, match="`step` must be non-negative and not NaN"):
        lk.cosine(1.0, 0.0, 10)(jnp.asarray([0.0, float("nan")]))
    with pytest.raises(TypeError, match="`step` must be a number, not a bool"):
        fn(jnp.asarray(True))
    with pytest.raises(TypeError, match="`count` must be a number, not a bool"):
        fn(True)

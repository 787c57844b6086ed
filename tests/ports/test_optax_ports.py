"""``lk.from_optax`` against the real optax schedules.

Each test draws native arguments with hypothesis, evaluates the native optax schedule under
``jax.jit`` at every step from 0 to well past its end (``jax.vmap`` because
``piecewise_interpolate_schedule`` only takes a scalar count), and compares the lrkit port there,
through both the numpy path and the scalar path at the boundaries b-1, b, b+1. optax computes in
float32, the port in float64: float32-tight tolerance.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import helpers
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import lrkit as lk

optax = helpers.need("optax")
jax = helpers.need("jax")
jnp = jax.numpy

# Each example compiles one native schedule (~50 ms); keep every sweep to a few seconds.
SWEEP = settings(max_examples=min(settings.default.max_examples, 20))

RTOL = 2e-5


def native_curve(fn: Any, n: int) -> np.ndarray:
    return np.asarray(jax.jit(jax.vmap(fn))(jnp.arange(n, dtype=jnp.int32)), dtype=np.float64)


def check(port: lk.Schedule, fn: Any, n: int, eager: Any = (), scale: float = 0.0) -> None:
    """The port equals the native at every step 0..n-1, and at the probe steps one by one.

    ``eager``: steps where the native is evaluated eagerly, one scalar count at a time, because
    XLA's rewrite of ``count / k`` into ``count * (1 / k)`` makes jitted optax land off an exact
    whole number there (see ``test_jitted_optax_quirks_at_exact_boundaries``). ``scale``: the
    magnitude of the native's float32 intermediates, if larger than its values (the absolute
    tolerance is float32 rounding of it).
    """
    want = native_curve(fn, n)
    redo = np.asarray(sorted(t for t in set(eager) if 0 <= t < n), dtype=np.int64)
    if redo.size:
        # One scalar count at a time: on arrays even eager XLA kernels multiply by the reciprocal.
        want[redo] = [float(fn(jnp.asarray(int(t), dtype=jnp.int32))) for t in redo]
    assert not np.isnan(want).any(), f"native NaN at steps {np.flatnonzero(np.isnan(want)).tolist()}"
    scale = max(float(np.max(np.abs(want))), scale, 1e-12)
    got = port(np.arange(n))
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=2e-6 * scale)
    probes = [s for s in helpers.probe_steps(port, n) if s < n]
    np.testing.assert_allclose([port(s) for s in probes], want[probes], rtol=RTOL, atol=2e-6 * scale)


values = st.one_of(st.just(0.0), st.floats(1e-4, 10.0), st.sampled_from([1e-3, 0.1, 1.0]))
positive = st.one_of(st.floats(1e-3, 10.0), st.sampled_from([1e-3, 0.1, 1.0]))
steps = st.one_of(st.integers(1, 150), st.sampled_from([1, 2, 3, 10]))
any_steps = st.integers(-3, 150)  # optax turns non-positive transition_steps into a constant
begins = st.one_of(st.just(0), st.integers(-5, 60))
scales = st.one_of(st.floats(0.0, 3.0), st.sampled_from([0.0, 0.1, 0.5, 2.0]))


def fmt(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return f"{name}{args}{kwargs}"


# -- one sweep per optax function -----------------------------------------------------------------


@SWEEP
@given(values)
def test_constant_schedule(v: float) -> None:
    check(lk.from_optax("constant_schedule", v), optax.constant_schedule(v), 20)


@SWEEP
@given(values, values, any_steps, begins)
def test_linear_schedule(a: float, b: float, n: int, begin: int) -> None:
    port = lk.from_optax("linear_schedule", a, b, n, transition_begin=begin)
    check(port, optax.linear_schedule(a, b, n, begin), max(begin, 0) + 2 * max(n, 1) + 5)


@SWEEP
# Powers are drawn from what float32 holds: optax rounds a subnormal power like 1e-139 to 0.0
# (x ** 0 == 1), lrkit keeps it (0 ** 1e-139 == 0).
@given(values, values, st.one_of(st.floats(1e-2, 4.0), st.sampled_from([0.0, 0.5, 1, 2])), any_steps, begins)
def test_polynomial_schedule(a: float, b: float, p: float, n: int, begin: int) -> None:
    # Known native quirk, not copied: under jax.jit XLA turns `count / transition_steps` into a
    # multiplication by the float32 reciprocal, so from count == transition_steps on (the count is
    # clipped) `1 - count / T` is +-3e-8 instead of 0. A fractional power amplifies it: NaN, or
    # end_value off by (init - end) * 3e-8 ** power (1.8e-4 for power 0.5). Eager optax on a scalar
    # count gives exactly end_value there, and so does the port: those steps are compared with it.
    port = lk.from_optax("optax.polynomial_schedule", a, b, p, n, begin)
    native = optax.polynomial_schedule(a, b, p, n, begin)
    horizon = max(begin, 0) + 2 * max(n, 1) + 5
    # (init - end) * 1 + end is float32-rounded at the scale of max(init, end) (power 0: never end).
    check(port, native, horizon, eager=range(max(begin, 0) + max(n, 1), horizon), scale=max(a, b))


def test_jitted_optax_quirks_at_exact_boundaries() -> None:
    # Pins the jitted-native quirks the sweeps tolerate (so the tolerance goes if optax/XLA change).
    # XLA computes count / k as count * float32(1 / k), which is off by one ulp at count == k.
    # 1. polynomial_schedule: 1 - count / T is -3e-8 (or +3e-8) at and after the end, so a
    #    fractional power gives NaN (or end_value off by sqrt(3e-8)); eager optax gives end_value.
    native = native_curve(optax.polynomial_schedule(1.0, 0.5, 0.5, 3), 5)
    assert np.isnan(native[3:]).all() and not np.isnan(native[:3]).any()
    assert lk.from_optax("polynomial_schedule", 1.0, 0.5, 0.5, 3)(np.arange(3, 5)).tolist() == [0.5, 0.5]
    rising = native_curve(optax.polynomial_schedule(0.0, 1.0, 0.5, 141), 143)
    assert abs(rising[141] - 1.0) > 1e-4
    eager = optax.polynomial_schedule(0.0, 1.0, 0.5, 141)(jnp.asarray(141))
    assert float(eager) == 1.0 == lk.from_optax("polynomial_schedule", 0.0, 1.0, 0.5, 141)(141)
    # 2. exponential_decay(staircase=True): floor(41 * float32(1/41)) == 0, so jitted optax takes
    #    its first stair at step 42 instead of 41; eager optax (and the port) at 41.
    fn = optax.exponential_decay(1.0, 41, 0.5, staircase=True)
    assert native_curve(fn, 43)[40:].tolist() == [1.0, 1.0, 0.5]
    assert float(fn(jnp.asarray(41))) == 0.5
    port = lk.from_optax("exponential_decay", 1.0, 41, 0.5, staircase=True)
    assert [port(t) for t in (40, 41, 42)] == [1.0, 0.5, 0.5]
    # lrkit's own optax adapter has no such quirk under jit.
    from lrkit.backends import optax as lko

    jitted = jax.jit(jax.vmap(lko.schedule(port)))(jnp.arange(40, 43, dtype=jnp.int32))
    assert np.asarray(jitted).tolist() == [1.0, 0.5, 0.5]


@SWEEP
@given(
    values,
    st.one_of(steps, st.floats(0.5, 100.0)),  # a fractional decay_steps has an exact lrkit form too
    st.floats(0.0, 1.5),
    st.one_of(st.sampled_from([1.0, 0.0]), st.floats(1e-2, 4.0)),
)
def test_cosine_decay_schedule(v: float, n: float, alpha: float, exponent: float) -> None:
    assume(exponent == 1.0 or alpha <= 1.0)
    port = lk.from_optax("cosine_decay_schedule", v, n, alpha=alpha, exponent=exponent)
    check(port, optax.cosine_decay_schedule(v, n, alpha, exponent), int(2 * n) + 5)


@SWEEP
@given(
    values,
    st.integers(-2, 50),
    st.one_of(st.floats(0.05, 1.5), st.sampled_from([0.0, 0.5, 1.0, 1.2])),
    begins,
    st.booleans(),
    st.one_of(st.none(), values),
)
def test_exponential_decay(v: float, n: int, rate: float, begin: int, stair: bool, end: Any) -> None:
    kw = {"transition_begin": begin, "staircase": stair, "end_value": end}
    if grows_without_end(v, n, rate, end):
        with pytest.raises(ValueError, match="rate"):
            lk.from_optax("exponential_decay", v, n, rate, **kw)
        return
    port = lk.from_optax("exponential_decay", v, n, rate, **kw)
    horizon = max(begin, 0) + 4 * max(n, 1) + 20
    check(port, optax.exponential_decay(v, n, rate, **kw), horizon, eager=stairs(begin, n, horizon))


def grows_without_end(v: float, n: int, rate: float, end: Any) -> bool:
    """Growth with no ``end_value`` overflows long before step 2**53 (SPEC section 11): refused."""
    return v > 0.0 and n > 0 and rate > 1.0 and end is None


def stairs(begin: int, n: int, horizon: int, offset: int = 0) -> range:
    """The exact staircase steps ``begin + k * n``, where jitted optax may switch one step late."""
    return range(offset + max(begin, 0) + n, horizon, n) if n > 0 else range(0)


boundary_tables = st.dictionaries(
    st.one_of(st.integers(-5, 120), st.integers(-10, 240).map(lambda k: k / 2)), scales, max_size=4
)


@SWEEP
@given(values, st.one_of(st.none(), boundary_tables))
def test_piecewise_constant_schedule(v: float, table: Any) -> None:
    port = lk.from_optax("piecewise_constant_schedule", v, table)
    check(port, optax.piecewise_constant_schedule(v, table), 140)


@SWEEP
@given(st.sampled_from(["linear", "cosine"]), values, st.dictionaries(st.integers(0, 120), scales, max_size=4))
def test_piecewise_interpolate_schedule(kind: str, v: float, table: dict[int, float]) -> None:
    port = lk.from_optax("piecewise_interpolate_schedule", kind, v, table)
    check(port, optax.piecewise_interpolate_schedule(kind, v, table), 140)


pcts = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.25, 0.3, 0.5, 0.85, 1.0]))
factors = st.one_of(st.floats(1.0, 1e4), st.sampled_from([25.0, 1e4, 1.0]))


@SWEEP
@given(steps, positive, pcts, pcts, factors, factors)
def test_linear_onecycle_schedule(n: int, peak: float, ps: float, pf: float, div: float, fdiv: float) -> None:
    kw = {"pct_start": ps, "pct_final": pf, "div_factor": div, "final_div_factor": fdiv}
    port = lk.from_optax("linear_onecycle_schedule", n, peak, **kw)
    check(port, optax.linear_onecycle_schedule(n, peak, **kw), 2 * n + 5)


@SWEEP
@given(steps, positive, pcts, factors, factors)
def test_cosine_onecycle_schedule(n: int, peak: float, ps: float, div: float, fdiv: float) -> None:
    port = lk.from_optax("cosine_onecycle_schedule", n, peak, ps, div, fdiv)
    check(port, optax.cosine_onecycle_schedule(n, peak, ps, div, fdiv), 2 * n + 5)


@SWEEP
@given(values, values, st.integers(-2, 100))
def test_warmup_constant_schedule(a: float, peak: float, w: int) -> None:
    port = lk.from_optax("warmup_constant_schedule", a, peak, warmup_steps=w)
    check(port, optax.warmup_constant_schedule(a, peak, w), max(w, 1) * 2 + 5)


@st.composite
def warmup_cosine_kwargs(draw: Any) -> dict[str, Any]:
    w = draw(st.integers(0, 60))
    peak = draw(values)
    exponent = draw(st.one_of(st.just(1.0), st.floats(0.25, 4.0)))
    end = draw(st.floats(0.0, peak) if exponent != 1.0 else values)
    return {
        "init_value": draw(values), "peak_value": peak, "warmup_steps": w,
        "decay_steps": w + draw(steps), "end_value": end, "exponent": exponent,
    }


@SWEEP
@given(warmup_cosine_kwargs())
def test_warmup_cosine_decay_schedule(kw: dict[str, Any]) -> None:
    port = lk.from_optax("warmup_cosine_decay_schedule", **kw)
    check(port, optax.warmup_cosine_decay_schedule(**kw), 2 * kw["decay_steps"] + 5)


@SWEEP
@given(
    values, values, st.integers(0, 50), st.integers(-2, 40),
    st.one_of(st.floats(0.05, 1.3), st.sampled_from([0.0, 0.5, 1.0])),
    begins, st.booleans(), st.one_of(st.none(), values),
)
def test_warmup_exponential_decay_schedule(
    a: float, peak: float, w: int, n: int, rate: float, begin: int, stair: bool, end: Any
) -> None:
    args = (a, peak, w, n, rate, begin, stair, end)
    if grows_without_end(peak, n, rate, end):
        with pytest.raises(ValueError, match="rate"):
            lk.from_optax("warmup_exponential_decay_schedule", *args)
        return
    port = lk.from_optax("warmup_exponential_decay_schedule", *args)
    horizon = w + max(begin, 0) + 4 * max(n, 1) + 20
    check(port, optax.warmup_exponential_decay_schedule(*args), horizon, eager=stairs(begin, n, horizon, w))


@SWEEP
@given(st.lists(warmup_cosine_kwargs(), min_size=1, max_size=3))
def test_sgdr_schedule(kws: list[dict[str, Any]]) -> None:
    port = lk.from_optax("sgdr_schedule", kws)
    total = sum(k["decay_steps"] for k in kws)
    check(port, optax.sgdr_schedule(kws), total + 40)


# -- boundaries, conventions and giant steps, pinned by hand ----------------------------------------


def test_piecewise_constant_switches_at_the_boundary() -> None:
    s = lk.from_optax("piecewise_constant_schedule", 1.0, {10: 0.5, 20: 0.1})
    assert [s(t) for t in (9, 10, 11, 19, 20, 21)] == [1.0, 0.5, 0.5, 0.5, 0.05, 0.05]
    check(s, optax.piecewise_constant_schedule(1.0, {10: 0.5, 20: 0.1}), 30)


def test_warmup_cosine_decay_steps_include_the_warmup() -> None:
    s = lk.from_optax("warmup_cosine_decay_schedule", 0.0, 1.0, 10, 100, 0.1)
    assert s == lk.join([lk.linear(0.0, 1.0, 10), lk.cosine(1.0, 0.1, 90)], [10])
    assert [s(9), s(10), s(11)] == pytest.approx([0.9, 1.0, 0.1 + 0.9 * (1 + np.cos(np.pi / 90)) / 2])
    assert s(100) == pytest.approx(0.1) and s(10**9) == pytest.approx(0.1)


@pytest.mark.parametrize("name", ["polynomial_schedule", "exponential_decay"])
@pytest.mark.parametrize("transition_steps", [0, -5])
def test_non_positive_transition_steps_give_a_constant_like_optax(name: str, transition_steps: int) -> None:
    args = (2.0, 0.5, 1.0, transition_steps) if name == "polynomial_schedule" else (2.0, transition_steps, 0.5)
    port = lk.from_optax(name, *args)
    assert port == lk.constant(2.0)
    check(port, getattr(optax, name)(*args), 10)


def test_exponential_end_value_clips_the_delay_too() -> None:
    # optax clips every step, including the steps before transition_begin.
    s = lk.from_optax("exponential_decay", 1.0, 10, 0.5, transition_begin=5, end_value=2.0)
    assert s(0) == 2.0 and s(100) == 2.0
    check(s, optax.exponential_decay(1.0, 10, 0.5, transition_begin=5, end_value=2.0), 50)
    up = lk.from_optax("exponential_decay", 1.0, 10, 1.0, end_value=0.5)  # rate 1: min(init, end)
    assert up(0) == 0.5
    check(up, optax.exponential_decay(1.0, 10, 1.0, end_value=0.5), 30)


def test_giant_steps() -> None:
    # optax counts in int32; lrkit evaluates the same steps directly (closed form).
    s = lk.from_optax("warmup_cosine_decay_schedule", 0.0, 1.0, 1000, 2_000_000_000, 1e-3)
    native = optax.warmup_cosine_decay_schedule(0.0, 1.0, 1000, 2_000_000_000, 1e-3)
    ts = np.array([999, 1000, 1001, 10**9, 2 * 10**9 - 1, 2 * 10**9, 2**31 - 1])
    want = np.asarray(jax.jit(jax.vmap(native))(jnp.asarray(ts, dtype=jnp.int32)), dtype=np.float64)
    np.testing.assert_allclose(s(ts), want, rtol=RTOL, atol=1e-6)


# -- names, binding and errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["cosine_decay_schedule", "optax.cosine_decay_schedule", "optax.schedules.cosine_decay_schedule"],
)
def test_names_with_and_without_prefix(name: str) -> None:
    assert lk.from_optax(name, 1.0, 10) == lk.cosine(1.0, 0.0, 10)


def test_function_object_is_accepted() -> None:
    assert lk.from_optax(optax.cosine_decay_schedule, 1.0, 10) == lk.cosine(1.0, 0.0, 10)


def test_every_plain_number_schedule_of_optax_is_covered() -> None:
    from lrkit._ports.optax import _PORTS

    takes_callables = {"join_schedules", "inject_hyperparams", "inject_stateful_hyperparams"}
    native = {
        n for n in dir(optax.schedules)
        if not n.startswith("_") and callable(getattr(optax.schedules, n))
        and n[0].islower() and n not in {"serialize", "deserialize"}
    }
    assert native - takes_callables == set(_PORTS)


def test_unknown_name_lists_valid_names_with_hint() -> None:
    with pytest.raises(ValueError, match=r"cosine_decay_schedul.*Did you mean 'cosine_decay_schedule'") as e:
        lk.from_optax("cosine_decay_schedul", 1.0, 10)
    assert "warmup_cosine_decay_schedule" in str(e.value)
    with pytest.raises(ValueError, match="join_schedules"):
        lk.from_optax("join_schedules", [], [])
    with pytest.raises(TypeError, match="`name`"):
        lk.from_optax(3, 1.0)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("cosine_decay_schedule", 1.0, 10), {"decay_step": 3}, r"no argument\(s\) \['decay_step'\]"),
        (("cosine_decay_schedule", 1.0), {}, "missing a required argument: 'decay_steps'"),
        (("cosine_decay_schedule", 1.0, 10, 0.0, 1.0, 5), {}, "too many positional arguments"),
        (("cosine_decay_schedule", 1.0, 10), {"init_value": 2.0}, "multiple values for argument 'init_value'"),
        (("cosine_decay_schedule", 1.0, "10"), {}, r"`decay_steps` must be a real number\. Received: decay_steps='10'"),
        (("exponential_decay", 1.0, 10, 0.5), {"staircase": "yes"}, "`staircase` must be True or False"),
        (("piecewise_constant_schedule", 1.0, [(10, 0.5)]), {}, "`boundaries_and_scales` must be a dict"),
        (("sgdr_schedule", {"decay_steps": 10}), {}, "`cosine_kwargs` must be a list"),
    ],
)
def test_bad_arguments_raise_type_error(args: tuple[Any, ...], kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(TypeError, match=match):
        lk.from_optax(*args, **kwargs)


@pytest.mark.parametrize(
    ("args", "match", "native_raises"),
    [
        (("cosine_decay_schedule", 1.0, 0), "`decay_steps` must be positive", True),
        (("warmup_cosine_decay_schedule", 0.0, 1.0, 10, 10), "`decay_steps` must be greater", True),
        (("piecewise_constant_schedule", 1.0, {5: -0.5}), "scales must be non-negative", True),
        (("piecewise_interpolate_schedule", "cubic", 1.0), "`interpolate_type` must be", True),
        (("linear_onecycle_schedule", 0, 1.0), "`transition_steps` must be positive", True),
        (("cosine_decay_schedule", -1.0, 10), "`init_value` must be a finite non-negative", False),
        # No exact lrkit curve: refused, never approximated.
        (("polynomial_schedule", 1.0, 0.0, 2.0, 10.5), "`transition_steps` must be a whole number", False),
        (("piecewise_interpolate_schedule", "linear", 1.0, {2.5: 0.5}), "non-negative whole", False),
        (("linear_schedule", 1.0, 0.0, 10, 2.5), "`transition_begin` must be a whole number", False),
    ],
)
def test_bad_values_raise_value_error(args: tuple[Any, ...], match: str, native_raises: bool) -> None:
    with pytest.raises(ValueError, match=match):
        lk.from_optax(*args)
    if native_raises:  # optax refuses these too (at construction or when first evaluated)
        with pytest.raises(ValueError):
            fn = getattr(optax, args[0])(*args[1:])
            fn(jnp.asarray(0))


def test_ports_import_no_framework() -> None:
    code = (
        "import sys, lrkit as lk\n"
        "lk.from_optax('warmup_cosine_decay_schedule', 0.0, 1.0, 10, 100)(5)\n"
        "lk.from_keras({'class_name': 'CosineDecay', 'config': {'initial_learning_rate': 1.0, 'decay_steps': 9}})(5)\n"
        "heavy = {'jax', 'optax', 'keras', 'tensorflow', 'torch'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_integral_floats_are_step_counts() -> None:
    assert lk.from_optax("cosine_decay_schedule", 1.0, 10.0) == lk.cosine(1.0, 0.0, 10)


def test_port_builds_a_plain_lrkit_tree_that_round_trips_through_config() -> None:
    s = lk.from_optax("sgdr_schedule", [{"init_value": 0.0, "peak_value": 1.0, "warmup_steps": 2, "decay_steps": 10}] * 2)
    assert lk.from_config(s.to_config()) == s


# -- round trip: native -> lrkit -> lrkit's optax adapter in a real optimizer -------------------------


ROUND_TRIP = [
    ("warmup_cosine_decay_schedule", (0.0, 0.1, 5, 40, 1e-3), {}),
    ("exponential_decay", (0.1, 7, 0.5), {"transition_begin": 3, "staircase": True, "end_value": 0.01}),
    ("piecewise_interpolate_schedule", ("cosine", 0.1, {10: 2.0, 30: 0.1}), {}),
    ("sgdr_schedule", ([{"init_value": 0.0, "peak_value": 0.1, "warmup_steps": 3, "decay_steps": 15}] * 2,), {}),
    ("linear_onecycle_schedule", (40, 0.1), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), ROUND_TRIP, ids=[r[0] for r in ROUND_TRIP])
def test_adapter_applies_the_native_curve_in_a_jitted_train_step(name: str, args: Any, kwargs: Any) -> None:
    from lrkit.backends import optax as lko

    native = getattr(optax, name)(*args, **kwargs)
    ported = lko.schedule(lk.from_optax(name, *args, **kwargs))

    def applied_lrs(lr: Any, n: int) -> np.ndarray:
        opt = optax.sgd(lr)
        params = jnp.zeros(())

        @jax.jit
        def train_step(params: Any, state: Any) -> Any:
            grads = jax.grad(lambda p: p)(params)  # d(p)/dp == 1: the update is -lr
            updates, state = opt.update(grads, state, params)
            return optax.apply_updates(params, updates), state, -updates

        state = opt.init(params)
        out = []
        for _ in range(n):
            params, state, lr_applied = train_step(params, state)
            out.append(float(lr_applied))
        return np.asarray(out)

    n = 60
    np.testing.assert_allclose(applied_lrs(ported, n), applied_lrs(native, n), rtol=RTOL, atol=1e-7)
    # And the curve is not trivially constant, so a wrong step offset would show.
    assert np.ptp(applied_lrs(native, n)) > 0

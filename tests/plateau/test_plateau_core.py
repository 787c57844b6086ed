"""lrkit.ReduceOnPlateau and lrkit.lr_range_test without any framework (tokens python, numpy)."""

from __future__ import annotations

import json
import math
import warnings

import helpers
import numpy as np
import plateau_reference as ref
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit as lk
from lrkit._plateau import PlateauMetricWarning
from lrkit._range_test import DivergenceMonitor

helpers.need("python")

TORCH_SETTINGS = st.fixed_dictionaries({
    "mode": st.sampled_from(["min", "max"]),
    "factor": st.sampled_from([0.1, 0.5, 0.3, 0.9, 0.25]),
    "patience": st.integers(0, 4),
    "threshold": st.sampled_from([0.0, 1e-4, 0.1, 0.5]),
    "threshold_mode": st.sampled_from(["rel", "abs"]),
    "cooldown": st.integers(0, 3),
    "min_lr": st.sampled_from([0.0, 1e-4, 1e-3, 0.01]),
    "eps": st.sampled_from([1e-8, 1e-3, 0.0]),
})
KERAS_SETTINGS = st.fixed_dictionaries({
    "mode": st.sampled_from(["min", "max"]),
    "factor": st.sampled_from([0.1, 0.5, 0.3, 0.9]),
    "patience": st.integers(0, 4),
    "min_delta": st.sampled_from([0.0, 1e-4, 0.1, 0.5]),
    "cooldown": st.integers(0, 3),
    "min_lr": st.sampled_from([0.0, 1e-4, 1e-3, 0.01, 0.1]),
})
METRIC = st.one_of(
    st.floats(-2.0, 2.0, allow_nan=False), st.integers(0, 3).map(float),
    st.floats(1.0, 1.0 + 1e-6),
)
METRICS = st.lists(METRIC, min_size=1, max_size=40)
LR0 = st.sampled_from([0.1, 1.0, 1e-3, 0.05, 3e-4])


def run(p, metrics, value):
    """LRs of lrkit's rule on a constant schedule ``value``, one per metric."""
    state, out = p.initial_state(), []
    for m in metrics:
        state = p.update(state, m, p.apply(value, state))
        out.append(p.apply(value, state))
    return out


@settings(max_examples=120)
@given(kw=TORCH_SETTINGS, metrics=METRICS, lr0=LR0)
def test_torch_rules_match_reference(kw, metrics, lr0):
    got = run(lk.ReduceOnPlateau(**kw), metrics, lr0)
    want = ref.torch_lrs(metrics, lr0, **kw)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@settings(max_examples=120)
@given(kw=KERAS_SETTINGS, metrics=METRICS, lr0=LR0)
def test_keras_rules_match_reference(kw, metrics, lr0):
    p = lk.ReduceOnPlateau(
        mode=kw["mode"], factor=kw["factor"], patience=kw["patience"], threshold=kw["min_delta"],
        threshold_mode="abs", cooldown=kw["cooldown"], min_lr=kw["min_lr"], eps=0.0, convention="keras",
    )
    got = [float(np.float32(v)) for v in run(p, metrics, float(np.float32(lr0)))]
    want = ref.keras_lrs(metrics, lr0, **kw)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)


DYADIC = st.lists(st.integers(0, 12).map(lambda k: k / 4), min_size=1, max_size=30)


def run_ops(p, metrics, value):
    """The branch-free path traced backends use (``transition`` over an Ops table), with numpy."""
    from lrkit._ops import NUMPY_OPS

    state = {k: np.asarray(v) for k, v in p.initial_state().items()}
    out = []
    for m in metrics:
        lr = p.apply(np.asarray(value), state, NUMPY_OPS)
        state = p.transition(state, np.asarray(m), lr, NUMPY_OPS)
        out.append(float(p.apply(np.asarray(value), state, NUMPY_OPS)))
    return out


@settings(max_examples=120)
@given(kw=TORCH_SETTINGS, metrics=METRICS, lr0=LR0)
def test_branch_free_transition_torch(kw, metrics, lr0):
    np.testing.assert_allclose(run_ops(lk.ReduceOnPlateau(**kw), metrics, lr0),
                               ref.torch_lrs(metrics, lr0, **kw), rtol=1e-12)


@settings(max_examples=120)
@given(kw=KERAS_SETTINGS, metrics=DYADIC, lr0=st.sampled_from([1.0, 0.5, 0.25]))
def test_branch_free_transition_keras(kw, metrics, lr0):
    kw = dict(kw, min_delta=kw["min_delta"] if kw["min_delta"] in (0.0, 0.5) else 0.25,
              min_lr=kw["min_lr"] if kw["min_lr"] == 0.0 else 0.125)
    p = lk.ReduceOnPlateau(mode=kw["mode"], factor=kw["factor"] if kw["factor"] == 0.5 else 0.25,
                           patience=kw["patience"], threshold=kw["min_delta"], threshold_mode="abs",
                           cooldown=kw["cooldown"], min_lr=kw["min_lr"], eps=0.0, convention="keras")
    want = ref.keras_lrs(metrics, lr0, **dict(kw, factor=p.factor))
    np.testing.assert_allclose(run_ops(p, metrics, lr0), want, rtol=1e-7)


def test_branch_free_transition_ignores_nonfinite():
    from lrkit._ops import NUMPY_OPS

    p = lk.ReduceOnPlateau(patience=0)
    s = {k: np.asarray(v) for k, v in p.update(p.initial_state(), 1.0, 0.1).items()}
    for bad in (math.nan, math.inf, -math.inf):
        s2 = p.transition(s, np.asarray(bad), np.asarray(0.1), NUMPY_OPS)
        assert {k: float(v) for k, v in s2.items()} == {k: float(v) for k, v in s.items()}


@pytest.mark.parametrize("patience", [0, 1, 3])
def test_patience_boundary_torch_more_than_keras_at_least(patience):
    # b-1, b, b+1 bad epochs after a first (improving) metric.
    for n_bad, torch_reduced, keras_reduced in (
        (patience - 1, False, False), (patience, False, True), (patience + 1, True, True),
    ):
        if n_bad < 0:
            continue
        metrics = [1.0] * (1 + n_bad)
        t = run(lk.ReduceOnPlateau(patience=patience, factor=0.5), metrics, 1.0)[-1]
        k = run(lk.ReduceOnPlateau(patience=patience, factor=0.5, threshold_mode="abs", convention="keras"),
                metrics, 1.0)[-1]
        assert (t < 1.0) is torch_reduced, (n_bad, t)
        assert (k < 1.0) is (keras_reduced and n_bad >= 1), (n_bad, k)


@pytest.mark.parametrize("delta,better", [(-1.01e-4, True), (-1e-4, False), (-0.99e-4, False)])
def test_abs_threshold_boundary(delta, better):
    p = lk.ReduceOnPlateau(threshold=1e-4, threshold_mode="abs", patience=0)
    s = p.update(p.initial_state(), 1.0, 1.0)
    s = p.update(s, 1.0 + delta, 1.0)
    assert (s["best"] == 1.0 + delta) is better


@pytest.mark.parametrize("eps,reduced", [(0.05 - 1e-9, True), (0.05, False), (0.05 + 1e-9, False)])
def test_torch_eps_rule_boundary(eps, reduced):
    # lr 0.1, factor 0.5: the reduction changes the lr by 0.05; torch reduces only if that is > eps.
    p = lk.ReduceOnPlateau(patience=0, factor=0.5, eps=eps)
    s = p.update(p.update(p.initial_state(), 1.0, 0.1), 1.0, 0.1)
    assert (s["scale"] == 0.5) is reduced
    assert s["cooldown_counter"] == 0 and s["num_bad_epochs"] == 0  # reset either way (torch)


@pytest.mark.parametrize("lr,reduced", [(np.nextafter(np.float32(0.01), 0, dtype=np.float32), False),
                                        (np.float32(0.01), False),
                                        (np.nextafter(np.float32(0.01), 1, dtype=np.float32), True)])
def test_keras_min_lr_is_compared_in_float32(lr, reduced):
    p = lk.ReduceOnPlateau(patience=0, min_lr=0.01, threshold_mode="abs", convention="keras")
    s = p.update(p.update(p.initial_state(), 1.0, float(lr)), 1.0, float(lr))
    assert (s["num_reductions"] == 1) is reduced


@settings(max_examples=60)
@given(kw=TORCH_SETTINGS, metrics=METRICS,
       values=st.lists(st.floats(1e-4, 1.0), min_size=40, max_size=40))
def test_composition_with_moving_schedule(kw, metrics, values):
    """lr = min(s, max(s * scale, min_lr)), scale from the reference rule with the composed lr."""
    p = lk.ReduceOnPlateau(**kw)
    state = p.initial_state()
    scales = ref.torch_scales(metrics, values, **kw)
    for i, m in enumerate(metrics):
        state = p.update(state, m, p.apply(values[i], state))
        assert state["scale"] == pytest.approx(scales[i], rel=1e-12)
        v = values[i]
        assert p.apply(v, state) == min(v, max(v * scales[i], kw["min_lr"])) or math.isclose(
            p.apply(v, state), min(v, max(v * scales[i], kw["min_lr"])), rel_tol=1e-12)


def test_apply_numpy_and_schedule_below_min_lr():
    p = lk.ReduceOnPlateau(min_lr=0.01)
    state = dict(p.initial_state(), scale=0.01)
    v = np.array([1.0, 0.5, 0.02, 0.005])
    np.testing.assert_array_equal(p.apply(v, state), [0.01, 0.01, 0.01, 0.005])
    assert p.apply(0.005, state) == 0.005  # a schedule value under min_lr is not raised


def test_state_is_json_primitive_and_update_is_pure():
    p = lk.ReduceOnPlateau(patience=0)
    s0 = p.initial_state()
    s1 = p.update(s0, 1.0, 0.1)
    assert s0 == p.initial_state()
    back = json.loads(json.dumps(s1))
    assert back == s1
    assert {type(v) for v in s1.values()} <= {float, int}


def test_config_roundtrip_immutability_repr():
    p = lk.ReduceOnPlateau(mode="max", factor=0.5, patience=3, convention="keras")
    assert lk.ReduceOnPlateau.from_config(json.loads(json.dumps(p.get_config()))) == p
    assert repr(p) == "ReduceOnPlateau(mode='max', factor=0.5, patience=3, convention='keras')"
    with pytest.raises(AttributeError):
        p.factor = 0.2
    with pytest.raises(ValueError, match="unknown key"):
        lk.ReduceOnPlateau.from_config({"factr": 0.5})


@pytest.mark.parametrize("kw,exc,name", [
    ({"mode": "auto"}, ValueError, "mode"),
    ({"mode": 1}, TypeError, "mode"),
    ({"factor": 1.0}, ValueError, "factor"),
    ({"factor": 0.0}, ValueError, "factor"),
    ({"factor": "0.1"}, TypeError, "factor"),
    ({"patience": -1}, ValueError, "patience"),
    ({"patience": 1.5}, ValueError, "patience"),  # not a whole number (10.0 would be 10)
    ({"threshold": -1e-4}, ValueError, "threshold"),
    ({"threshold": math.nan}, ValueError, "threshold"),
    ({"threshold_mode": "relative"}, ValueError, "threshold_mode"),
    ({"cooldown": -2}, ValueError, "cooldown"),
    ({"min_lr": -0.1}, ValueError, "min_lr"),
    ({"min_lr": math.inf}, ValueError, "min_lr"),
    ({"eps": -1.0}, ValueError, "eps"),
    ({"convention": "optax"}, ValueError, "convention"),
])
def test_bad_settings_name_the_argument(kw, exc, name):
    with pytest.raises(exc, match=rf"`{name}` must be .*Received: {name}="):
        lk.ReduceOnPlateau(**kw)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nonfinite_metric_warns_and_changes_nothing(bad):
    p = lk.ReduceOnPlateau(patience=0)
    s = p.update(p.initial_state(), 1.0, 0.1)
    with pytest.warns(PlateauMetricWarning, match="ignoring"):
        s2 = p.update(s, bad, 0.1)
    assert s2 == s


@pytest.mark.parametrize("bad", [None, "0.5", True, [1.0, 2.0]])
def test_metric_of_wrong_kind_is_a_type_error(bad):
    p = lk.ReduceOnPlateau()
    with pytest.raises((TypeError, ValueError), match="`metric` must be"):
        p.update(p.initial_state(), bad, 0.1)


def test_numpy_scalar_metric_and_bad_state():
    p = lk.ReduceOnPlateau()
    s = p.update(p.initial_state(), np.float32(0.5), 0.1)
    assert s["best"] == 0.5
    with pytest.raises(ValueError, match="lacks key"):
        p.update({"scale": 1.0}, 0.5, 0.1)
    with pytest.raises(TypeError, match="`state` must be a dict"):
        p.update(None, 0.5, 0.1)


# -- range test -----------------------------------------------------------------------------------


def test_ramp_endpoints_and_validation():
    r = lk.range_test_ramp(1e-6, 1.0, 7)
    np.testing.assert_allclose([r(t) for t in range(8)], [1e-6 * 10.0**t for t in range(7)] + [1.0], rtol=1e-12)
    with pytest.raises(ValueError, match="`end` must be greater than start"):
        lk.range_test_ramp(1.0, 1.0, 10)
    with pytest.raises(ValueError, match="`steps` must be an integer >= 2"):
        lk.range_test_ramp(1e-3, 1.0, 1)


@settings(max_examples=40)
@given(center=st.floats(-3.5, -1.5), width=st.floats(0.2, 0.6), smooth=st.sampled_from([0.0, 0.5, 0.9]))
def test_suggestion_is_the_steepest_descent(center, width, smooth):
    """A loss falling as a logistic in log10(lr): steepest at 10**center (up to smoothing lag)."""
    lrs = np.geomspace(1e-6, 1.0, 300)
    x = np.log10(lrs)
    losses = 1.0 + 2.0 / (1.0 + np.exp((x - center) / width))
    r = lk.lr_range_test(lrs, losses, smooth=smooth)
    assert r.diverged_at is None
    lag = smooth / (1 - smooth) * (6 / 299) + 0.15  # EMA lag in decades + window resolution
    assert abs(math.log10(r.suggested) - center) <= lag, (r.suggested, center)


@pytest.mark.parametrize("jump,diverged", [(3.99, False), (4.0, False), (4.01, True)])
def test_divergence_boundary(jump, diverged):
    lrs = np.geomspace(1e-4, 1.0, 5)
    r = lk.lr_range_test(lrs, [1.0, 1.0, 1.0, jump, 1.0], smooth=0.0, diverge=4.0)
    assert bool(r.diverged_at == lrs[3]) is diverged
    assert len(r.lrs) == (4 if diverged else 5)


def test_nonfinite_loss_is_divergence():
    lrs = np.geomspace(1e-4, 1.0, 6)
    r = lk.lr_range_test(lrs, [3.0, 2.0, 1.5, 1.0, math.nan, 5.0], smooth=0.0)
    assert r.diverged_at == lrs[4] and len(r.losses) == 4 and r.best_lr == lrs[3]


def test_monitor_matches_analysis():
    rng = np.random.default_rng(0)
    losses = np.concatenate([np.linspace(5, 1, 50) + rng.normal(0, 0.2, 50), np.geomspace(1, 1e3, 30)])
    m = DivergenceMonitor(0.9, 4.0)
    stop = next(i for i, v in enumerate(losses) if m.push(v))
    r = lk.lr_range_test(np.geomspace(1e-5, 1, losses.size), losses, smooth=0.9)
    assert len(r.lrs) == stop + 1


@pytest.mark.parametrize("kw,exc,match", [
    ({"lrs": [1e-3, 1e-2], "losses": [1.0]}, ValueError, "one entry per learning rate"),
    ({"lrs": [1e-2, 1e-3], "losses": [1.0, 1.0]}, ValueError, "strictly increasing"),
    ({"lrs": [0.0, 1e-3], "losses": [1.0, 1.0]}, ValueError, "positive"),
    ({"lrs": [1e-3], "losses": [1.0]}, ValueError, "at least 2"),
    ({"lrs": "abc", "losses": [1.0]}, TypeError, "sequence of numbers"),
    ({"lrs": [1e-3, 1e-2], "losses": [1.0, 1.0], "smooth": 1.0}, ValueError, "`smooth` must be in"),
    ({"lrs": [1e-3, 1e-2], "losses": [1.0, 1.0], "diverge": 1.0}, ValueError, "`diverge` must be"),
    ({"lrs": [1e-3, 1e-2], "losses": [1.0, 1.0], "skip_start": -1}, ValueError, "`skip_start`"),
])
def test_range_test_bad_input(kw, exc, match):
    with pytest.raises(exc, match=match):
        lk.lr_range_test(**kw)


def test_plot():
    helpers.need("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    lrs = np.geomspace(1e-5, 1.0, 100)
    r = lk.lr_range_test(lrs, 2.0 / (1.0 + lrs * 1e3) + (lrs > 0.3) * 50 * lrs)
    ax = r.plot()
    assert ax.get_xscale() == "log"
    assert len(ax.lines) == 4  # raw, smoothed, suggested, diverged


def test_no_warning_on_clean_run():
    p = lk.ReduceOnPlateau(patience=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run(p, [1.0, 0.5, 0.5, 0.5], 0.1)

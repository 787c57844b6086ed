"""The Keras range test on a model compiled with an lrkit schedule, with dict inputs, and with
progress output; weights and every optimizer variable are identical before and after, and a later
``fit`` continues exactly as if the test had not run."""

from __future__ import annotations

import helpers
import numpy as np
import pytest

import lrkit as lk

keras = helpers.need("keras")
from lrkit.backends.keras import LearningRateSchedule, LRRangeTest, lr_range_test  # noqa: E402

RNG = np.random.RandomState(0)
X = RNG.randn(256, 4).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5], [1.5]]) + 0.1 * RNG.randn(256, 1)).astype("float32")


def _model(lr):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(lr), "mse")
    return model


def _np(v):
    """A numpy copy (get_weights/convert_to_numpy warn under numpy 2 on some backends)."""
    x = getattr(v, "value", v)
    if hasattr(x, "detach"):
        x = x.detach().cpu()
    return np.array(x.numpy() if hasattr(x, "numpy") else x)


def _weights(model):
    return [_np(v) for v in model.weights]


def _opt_values(model):
    return {v.path: _np(v) for v in model.optimizer.variables}


def test_suggestion_on_linear_regression():
    """Plain SGD on least squares: the suggestion lies between 1/(100 L) and 1/L (L: smoothness)."""
    rng = np.random.RandomState(0)
    x = rng.randn(512, 4).astype("float32")
    y = (x @ np.ones((4, 1)) + 0.3 * rng.randn(512, 1)).astype("float32")
    xb = np.concatenate([x, np.ones((512, 1), "float32")], 1)
    L = float(np.linalg.eigvalsh(2 * xb.T @ xb / 512).max())
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # some optimizer state to restore
    before = _weights(model)
    iters = int(_np(model.optimizer.iterations))
    res = lr_range_test(model, x, y, batch_size=32, start=1e-5, end=10.0, steps=120)
    assert res.diverged_at is not None and res.suggested < res.diverged_at
    assert (1 / L) / 100 <= res.suggested <= 1 / L
    for a, b in zip(before, _weights(model)):
        np.testing.assert_array_equal(a, b)
    assert int(_np(model.optimizer.iterations)) == iters
    assert float(_np(model.optimizer.learning_rate)) == pytest.approx(0.01)


@pytest.mark.parametrize("lrkit_schedule", [True, False])
def test_restores_weights_and_optimizer_and_the_schedule_continues(lrkit_schedule):
    def lr():
        return LearningRateSchedule(lk.cosine(1e-3, 1e-4, 100)) if lrkit_schedule else 1e-3

    models = []
    for with_test in (False, True):
        model = _model(lr())
        model.fit(X, Y, batch_size=32, epochs=1, shuffle=False, verbose=0)  # moments and iterations
        if with_test:
            weights = [w.copy() for w in _weights(model)]
            opt = _opt_values(model)
            res = lr_range_test(model, X, Y, batch_size=32, start=1e-5, end=100.0, steps=60)
            assert res.diverged_at is not None and res.suggested < res.diverged_at
            for a, b in zip(weights, _weights(model)):
                np.testing.assert_array_equal(a, b)
            after = _opt_values(model)
            assert after.keys() == opt.keys()
            for k, v in opt.items():
                np.testing.assert_array_equal(v, after[k], err_msg=k)
        model.fit(X, Y, batch_size=32, epochs=1, shuffle=False, verbose=0)
        models.append(model)
    for a, b in zip(_weights(models[0]), _weights(models[1])):
        np.testing.assert_array_equal(a, b)
    assert int(_np(models[1].optimizer.iterations)) == 16


def test_the_ramp_replaces_the_schedule_during_the_test():
    """A schedule stuck at 1e-6 cannot diverge; the ramp to 100 does, so the ramp was applied."""
    model = _model(LearningRateSchedule(lk.constant(1e-6)))
    res = lr_range_test(model, X, Y, batch_size=32, start=1e-4, end=100.0, steps=80)
    assert res.diverged_at is not None and res.losses[-1] > 4 * res.smoothed.min()
    lr = model.optimizer.learning_rate
    assert float(_np(lr)) == pytest.approx(1e-6)


def test_dict_inputs_of_a_multi_input_model():
    keras.utils.set_random_seed(0)
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    out = keras.layers.Dense(1)(keras.layers.Concatenate()([a, b]))
    model = keras.Model({"a": a, "b": b}, out)
    model.compile(keras.optimizers.SGD(0.01), "mse")
    inputs = {"a": X[:, :2], "b": X[:, 2:]}
    res = lr_range_test(model, inputs, Y, batch_size=32, start=1e-4, end=100.0, steps=60)
    assert res.diverged_at is not None and 1e-4 < res.suggested < res.diverged_at
    # the same data as one array through an equal model: the same losses
    keras.utils.set_random_seed(0)
    single = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    single.compile(keras.optimizers.SGD(0.01), "mse")
    single.set_weights(_weights(model))
    res1 = lr_range_test(single, X, Y, batch_size=32, start=1e-4, end=100.0, steps=60)
    np.testing.assert_allclose(res.losses, res1.losses, rtol=1e-5)


def test_progress_callback_and_printer(capsys):
    model = _model(1e-3)
    seen = []
    res = lr_range_test(model, X, Y, batch_size=32, start=1e-4, end=1e-2, steps=20,
                        progress=lambda step, lr, loss: seen.append((step, lr, loss)))
    assert [s for s, _, _ in seen] == list(range(20))
    np.testing.assert_array_equal([lr for _, lr, _ in seen], res.lrs)
    np.testing.assert_array_equal([loss for _, _, loss in seen], res.losses)
    lr_range_test(model, X, Y, batch_size=32, start=1e-4, end=1e-2, steps=20, progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert [ln.split()[2] for ln in lines] == [f"{k}/20" for k in range(2, 20, 2)] + ["20/20"]
    assert lines[-1].endswith("(done)")


def test_callback_in_a_users_fit():
    model = _model(LearningRateSchedule(lk.linear(1e-3, 0.0, 50)))
    cb = LRRangeTest(1e-4, 1e-2, 24)
    model.fit(X, Y, batch_size=32, epochs=3, shuffle=False, verbose=0, callbacks=[cb])
    assert cb.result is not None and len(cb.result.lrs) == 24
    assert int(_np(model.optimizer.iterations)) == 0


@pytest.mark.parametrize("kw,exc,match", [
    ({"progress": "yes"}, TypeError, "`progress` must be"),
    ({"x": "data"}, TypeError, "`x` must be an array"),
    ({"y": Y[:10]}, ValueError, "one length"),
])
def test_bad_arguments(kw, exc, match):
    model = _model(1e-3)
    args = {"x": X, "y": Y, "steps": 5, **kw}
    with pytest.raises(exc, match=match):
        lr_range_test(model, **args)

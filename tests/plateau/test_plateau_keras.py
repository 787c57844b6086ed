"""The Keras ReduceLROnPlateau drop-in (float lr and lrkit schedules); the range test is in test_range_keras.py."""

from __future__ import annotations

import json
import math
import types
import warnings

import helpers
import numpy as np
import plateau_reference as ref
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit as lk
from lrkit._plateau import PlateauMetricWarning, _from_keras_plateau

keras = helpers.need("keras")
from lrkit.backends.keras import (  # noqa: E402
    LearningRateSchedule,
    PlateauLearningRateSchedule,
    ReduceLROnPlateau,
)

SETTINGS = st.fixed_dictionaries({
    "mode": st.sampled_from(["min", "max"]),
    "factor": st.sampled_from([0.1, 0.5, 0.3, 0.9]),
    "patience": st.integers(0, 4),
    "min_delta": st.sampled_from([0.0, 1e-4, 0.1, 0.5]),
    "cooldown": st.integers(0, 3),
    "min_lr": st.sampled_from([0.0, 1e-4, 1e-3, 0.01, 0.1]),
})
METRICS = st.lists(st.one_of(st.floats(-2.0, 2.0), st.integers(0, 3).map(float),
                             st.floats(1.0, 1.0 + 1e-6)), min_size=1, max_size=40)


def _lr(opt):
    return float(keras.ops.convert_to_numpy(opt.learning_rate))


@settings(max_examples=40)
@given(kw=SETTINGS, metrics=METRICS, lr0=st.sampled_from([0.1, 1.0, 1e-3, 0.05]))
def test_same_lrs_as_native_callback(kw, metrics, lr0):
    """The callbacks driven epoch by epoch on real Keras optimizers (no fit: fast)."""
    runs = []
    for cls in (keras.callbacks.ReduceLROnPlateau, ReduceLROnPlateau):
        opt = keras.optimizers.SGD(learning_rate=lr0)
        cb = cls(monitor="val_loss", **kw)
        cb.set_model(types.SimpleNamespace(optimizer=opt))
        cb.on_train_begin()
        lrs = []
        for epoch, m in enumerate(metrics):
            cb.on_epoch_end(epoch, {"val_loss": m})
            lrs.append(_lr(opt))
        runs.append((lrs, cb.wait, cb.cooldown_counter))
    (native, wait_n, cd_n), (mine, wait_m, cd_m) = runs
    assert mine == native  # bit for bit: both chain float32 reductions of the rate in use
    np.testing.assert_allclose(native, ref.keras_lrs(metrics, lr0, **kw), rtol=2e-7)
    assert (wait_m, cd_m) == (wait_n, cd_n)


def test_from_keras_copies_settings():
    cb = keras.callbacks.ReduceLROnPlateau(monitor="val_acc", mode="max", factor=0.2, patience=3,
                                           min_delta=0.01, cooldown=2, min_lr=1e-4)
    p = lk.from_keras(cb)
    assert p == _from_keras_plateau(cb)
    assert p == lk.ReduceOnPlateau(mode="max", factor=0.2, patience=3, threshold=0.01, threshold_mode="abs",
                                   cooldown=2, min_lr=1e-4, eps=0.0, convention="keras")
    assert lk.from_keras(keras.callbacks.ReduceLROnPlateau()).mode == "min"  # auto + val_loss
    with pytest.raises(ValueError, match="mode='min' or mode='max'"):
        lk.from_keras(keras.callbacks.ReduceLROnPlateau(monitor="val_auc"))


def _data(seed=0, n=64):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 3).astype("float32")
    y = (x @ np.array([[1.0], [-1.0], [0.5]]) + 0.5 * rng.randn(n, 1)).astype("float32")
    return x, y


class _Record(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.lrs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.lrs.append(_lr(self.model.optimizer))


def test_twin_fit_runs_are_identical():
    """Real fit on val_loss: native callback and lrkit's give the same lrs and the same weights."""
    x, y = _data()
    out = []
    for cls in (keras.callbacks.ReduceLROnPlateau, ReduceLROnPlateau):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.05, momentum=0.5), "mse")
        rec = _Record()
        model.fit(x, y, epochs=12, batch_size=16, shuffle=False, verbose=0, validation_data=(x, y),
                  callbacks=[cls(patience=1, factor=0.5, min_delta=1e-3), rec])
        out.append((rec.lrs, model.get_weights()))
    (lrs_a, w_a), (lrs_b, w_b) = out
    assert min(lrs_a) < lrs_a[0]  # the rule acted
    assert lrs_b == lrs_a
    for a, b in zip(w_a, w_b):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


class _Script(keras.callbacks.Callback):
    """Writes a scripted metric into the epoch logs (runs before the plateau callback)."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.values[epoch]


class _Kernel(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.kernels = []

    def on_epoch_end(self, epoch, logs=None):
        self.kernels.append(float(keras.ops.convert_to_numpy(self.model.layers[-1].kernel)[0, 0]))


@keras.saving.register_keras_serializable(package="lrkit_tests")
def mean_output(y_true, y_pred):
    return keras.ops.mean(y_pred)


def _constant_gradient_model(lr):
    """d loss / d kernel == 1 at every step, so each update subtracts exactly the lr in use."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(keras.optimizers.SGD(lr), loss=mean_output)
    return model


SCRIPT = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
STEPS = 4  # 8 samples, batch 2


def _kernel_deltas(kernels):
    return -np.diff(np.concatenate([[0.0], kernels]))


def test_lrkit_schedule_scale_reaches_the_compiled_step():
    s = lk.linear(0.1, 0.01, 40)
    model = _constant_gradient_model(LearningRateSchedule(s))
    rec = _Kernel()
    cb = ReduceLROnPlateau(monitor="score", mode="min", patience=1, factor=0.5, min_delta=0.0)
    x = np.ones((8, 1), "float32")
    model.fit(x, x, batch_size=2, epochs=len(SCRIPT), shuffle=False, verbose=0,
              callbacks=[_Script(SCRIPT), cb, rec])
    assert model.optimizer.learning_rate is not None
    scales = ref.keras_lrs(SCRIPT, 1.0, mode="min", factor=0.5, patience=1, min_delta=0.0)

    def lin(t):  # separately written linear schedule
        return 0.1 + (0.01 - 0.1) * min(t, 40) / 40

    want = []
    for epoch in range(len(SCRIPT)):
        scale = 1.0 if epoch == 0 else scales[epoch - 1]
        want.append(sum(lin(t) * scale for t in range(epoch * STEPS, (epoch + 1) * STEPS)))
    assert min(scales) < 1.0
    np.testing.assert_allclose(_kernel_deltas(rec.kernels), want, rtol=2e-5)


def test_float_lr_in_the_compiled_step():
    model = _constant_gradient_model(0.1)
    rec = _Kernel()
    cb = ReduceLROnPlateau(monitor="score", mode="min", patience=1, factor=0.5, min_delta=0.0, min_lr=0.02)
    x = np.ones((8, 1), "float32")
    model.fit(x, x, batch_size=2, epochs=len(SCRIPT), shuffle=False, verbose=0,
              callbacks=[_Script(SCRIPT), cb, rec])
    lrs = [0.1, *ref.keras_lrs(SCRIPT, 0.1, mode="min", factor=0.5, patience=1, min_delta=0.0, min_lr=0.02)]
    np.testing.assert_allclose(_kernel_deltas(rec.kernels), [STEPS * lr for lr in lrs[:-1]], rtol=2e-5)


def test_model_file_keeps_the_scale(tmp_path):
    model = _constant_gradient_model(LearningRateSchedule(lk.constant(0.1)))
    x = np.ones((8, 1), "float32")
    cb = ReduceLROnPlateau(monitor="score", mode="min", patience=0, factor=0.5, min_delta=0.0)
    model.fit(x, x, batch_size=2, epochs=3, verbose=0, callbacks=[_Script([1.0, 1.0, 1.0]), cb])
    assert _lr(model.optimizer) == pytest.approx(0.025)
    n_vars = len(model.optimizer.variables)
    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "Skipping variable loading"
        loaded = keras.models.load_model(tmp_path / "m.keras")
    lr = loaded.optimizer._learning_rate
    assert isinstance(lr, LearningRateSchedule)
    assert lr.scale == 0.25
    assert len(loaded.optimizer.variables) == n_vars
    assert int(loaded.optimizer.iterations) == 12
    # A new callback continues from the saved scale and counters (best == 1.0 was saved).
    rec = _Kernel()
    cb2 = ReduceLROnPlateau(monitor="score", mode="min", patience=0, factor=0.5, min_delta=0.0)
    loaded.fit(x, x, batch_size=2, epochs=3, verbose=0, callbacks=[_Script([1.0, 1.0, 1.0]), cb2, rec])
    k0 = float(keras.ops.convert_to_numpy(model.layers[-1].kernel)[0, 0])
    want = [STEPS * 0.025, STEPS * 0.0125, STEPS * 0.00625]  # 1.0 is no improvement on the saved best
    np.testing.assert_allclose(-np.diff([k0, *rec.kernels]), want, rtol=2e-5)


def test_get_state_set_state_resume_mid_plateau():
    script = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85]
    x = np.ones((8, 1), "float32")

    def fit(model, cb, epochs, initial_epoch=0):
        rec = _Record()
        model.fit(x, x, batch_size=2, epochs=epochs, initial_epoch=initial_epoch, verbose=0,
                  callbacks=[_Script(script), cb, rec])
        return rec.lrs

    kw = {"monitor": "score", "mode": "min", "patience": 2, "factor": 0.5, "min_delta": 0.0, "cooldown": 1}
    whole = fit(_constant_gradient_model(0.1), ReduceLROnPlateau(**kw), 10)
    model = _constant_gradient_model(0.1)
    cb = ReduceLROnPlateau(**kw)
    first = fit(model, cb, 4)
    state = json.loads(json.dumps(cb.get_state()))
    cb2 = ReduceLROnPlateau(**kw)
    cb2.set_state(state)
    second = fit(model, cb2, 10, initial_epoch=4)
    np.testing.assert_allclose(first + second, whole, rtol=1e-7)
    assert min(whole) < 0.1
    with pytest.raises(TypeError, match="`state` must be a dict from get_state"):
        cb2.set_state({"states": []})


def test_missing_key_and_nonfinite_metric():
    opt = keras.optimizers.SGD(0.1)
    cb = ReduceLROnPlateau(monitor="val_loss", patience=0, factor=0.5)
    cb.set_model(types.SimpleNamespace(optimizer=opt))
    cb.on_train_begin()
    with pytest.warns(UserWarning, match="`val_loss` which is not available"):
        cb.on_epoch_end(0, {"loss": 1.0})
    cb.on_epoch_end(1, {"val_loss": 1.0})
    with pytest.warns(PlateauMetricWarning):
        cb.on_epoch_end(2, {"val_loss": math.nan})
    assert _lr(opt) == pytest.approx(0.1)
    cb.on_epoch_end(3, {"val_loss": 1.0})
    assert _lr(opt) == pytest.approx(0.05)


@pytest.mark.parametrize("kw,exc,match", [
    ({"factor": 1.0}, ValueError, "factor"),
    ({"patience": -1}, ValueError, "`patience` must be"),
    ({"min_lr": -1.0}, ValueError, "`min_lr` must be"),
    ({"cooldown": 0.5}, ValueError, "`cooldown` must be"),  # not a whole number (SPEC 7)
    ({"cooldown": "1"}, TypeError, "`cooldown` must be"),
    ({"monitor": 3}, TypeError, "`monitor` must be"),
    ({"factor": 0.0}, ValueError, "`factor` must be"),
    ({"patience": True}, TypeError, "`patience` must be"),
])
def test_bad_arguments(kw, exc, match):
    with pytest.raises(exc, match=match) as info:
        ReduceLROnPlateau(**kw)
    # The message names the class the user built (not lrkit's core ReduceOnPlateau it validates with).
    assert str(info.value).startswith("ReduceLROnPlateau"), str(info.value)


def test_schedule_traced_before_the_callback_is_rebuilt():
    """A model already trained (train step compiled with the bare schedule) still gets the scale."""
    model = _constant_gradient_model(LearningRateSchedule(lk.constant(0.1)))
    x = np.ones((8, 1), "float32")
    model.fit(x, x, batch_size=2, epochs=1, verbose=0)
    k_start = float(keras.ops.convert_to_numpy(model.layers[-1].kernel)[0, 0])
    rec = _Kernel()
    cb = ReduceLROnPlateau(monitor="score", mode="min", patience=0, factor=0.5, min_delta=0.0)
    model.fit(x, x, batch_size=2, epochs=3, verbose=0, callbacks=[_Script([1.0, 1.0, 1.0]), cb, rec])
    np.testing.assert_allclose(-np.diff([k_start, *rec.kernels]), [STEPS * 0.1, STEPS * 0.1, STEPS * 0.05],
                               rtol=2e-5)


@pytest.mark.parametrize("lrkit_schedule", [False, True])
def test_set_state_applies_the_saved_scale(lrkit_schedule):
    lr = LearningRateSchedule(lk.constant(0.1)) if lrkit_schedule else 0.1
    model = _constant_gradient_model(lr)
    x = np.ones((8, 1), "float32")
    cb = ReduceLROnPlateau(monitor="score", mode="min", patience=5, factor=0.5, min_delta=0.0)
    state = {"states": [dict(lk.ReduceOnPlateau().initial_state(), scale=0.25, best=1.0)],
             "bases": [None if lrkit_schedule else 0.1]}
    cb.set_state(state)
    rec = _Kernel()
    model.fit(x, x, batch_size=2, epochs=1, verbose=0, callbacks=[_Script([1.0]), cb, rec])
    np.testing.assert_allclose(-rec.kernels[0], STEPS * 0.025, rtol=2e-5)
    assert cb.get_state()["states"][0]["num_bad_epochs"] == 1


def test_plateau_schedule_starts_from_its_given_state():
    """PlateauLearningRateSchedule sets the initial scale/min_lr; its config records the current ones."""
    lr = PlateauLearningRateSchedule(lk.constant(0.1), min_lr=0.01, scale=0.5)
    model = _constant_gradient_model(lr)
    rec = _Kernel()
    cb = ReduceLROnPlateau(monitor="score", mode="min", patience=0, factor=0.5, min_delta=0.0, min_lr=0.02)
    x = np.ones((8, 1), "float32")
    model.fit(x, x, batch_size=2, epochs=3, verbose=0, callbacks=[_Script([1.0, 1.0, 1.0]), cb, rec])
    # 0.05 (given scale), then 0.05 (1st metric: a best), then max(0.025, min_lr=0.02)
    np.testing.assert_allclose(-np.diff([0.0, *rec.kernels]), [STEPS * 0.05, STEPS * 0.05, STEPS * 0.025],
                               rtol=2e-5)
    config = keras.optimizers.schedules.serialize(lr)
    assert config["config"]["scale"] == 0.125 and config["config"]["min_lr"] == pytest.approx(0.02)
    again = keras.optimizers.schedules.deserialize(json.loads(json.dumps(config)))
    assert isinstance(again, PlateauLearningRateSchedule)
    assert float(again(0)) == pytest.approx(0.02)


@pytest.mark.parametrize("scheduled", [False, True])
def test_lrkit_reads_of_keras_values_do_not_warn(scheduled: bool) -> None:
    """numpy 2 warns (DeprecationWarning) when a Keras 3.15 variable or a TensorFlow/torch tensor goes
    through an ``__array__`` without ``copy`` (pyproject ignores it for Keras's own code paths, in
    ``fit``); the callback's and the schedule's own reads of rates, counts and state must not."""
    opt = keras.optimizers.SGD(learning_rate=LearningRateSchedule(lk.constant(0.1)) if scheduled else 0.1)
    opt.build([keras.Variable(np.zeros(2, dtype="float32"))])
    cb = ReduceLROnPlateau(monitor="val_loss", patience=0, factor=0.5)
    cb.set_model(types.SimpleNamespace(optimizer=opt))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="__array__ implementation", category=DeprecationWarning)
        cb.on_train_begin()
        logs: dict[str, float] = {}
        for epoch in range(3):
            logs = {"val_loss": 1.0}
            cb.on_epoch_end(epoch, logs)
    assert _lr(opt) == pytest.approx(0.025)  # reduced twice (this read warns: keras.ops.convert_to_numpy)
    assert logs["learning_rate"] == pytest.approx(0.05)  # the rate of the epoch, before its reduction

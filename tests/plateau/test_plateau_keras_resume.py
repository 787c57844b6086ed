"""Every Keras checkpoint path resumes the learning rate *and* the plateau counters exactly.

Real ``model.fit`` runs on the current Keras backend (``KERAS_BACKEND``): an uninterrupted run is
compared, step by step and epoch by epoch, with a run that stops after ``STOP`` epochs (a crash
raised from a callback, or a finished ``fit``) and resumes from a checkpoint in *new* model,
optimizer, schedule and callback objects, so nothing survives in Python memory:

* ``BackupAndRestore`` (crash mid-run, then the same ``fit`` call again),
* ``ModelCheckpoint`` (a ``.keras`` file) + ``keras.models.load_model`` + a new ``fit``,
* ``save_weights`` / ``load_weights`` + a new ``fit``.

The applied learning rate is read from the update itself: one weight, gradient exactly 1, reset to
0 before each batch, so ``-kernel`` after the batch is the rate the optimizer used. The scripted
metric is chosen so that the run stops mid-plateau (one bad epoch counted): a resume that lost the
counters would reduce two epochs later than the uninterrupted run.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import plateau_reference as ref
import pytest
from helpers import need

import lrkit as lk

keras = need("keras")
from lrkit.backends.keras import LearningRateSchedule, ReduceLROnPlateau  # noqa: E402

SCORES = [1.0, 0.9, 0.95, 0.95, 0.95, 0.97, 0.8, 0.85, 0.85]  # one scripted metric per epoch
EPOCHS = len(SCORES)
STOP = 3  # epochs done before the interruption (epoch 2 counted one bad epoch)
STEPS = 2  # updates per epoch: 8 samples, batch 4
PLATEAU = {"monitor": "score", "mode": "min", "patience": 2, "factor": 0.5, "min_delta": 0.0, "cooldown": 1}
CURVE = lk.cosine(0.1, 0.01, EPOCHS * STEPS)


@keras.saving.register_keras_serializable(package="lrkit_tests")
def output_mean(y_true, y_pred):  # type: ignore[no-untyped-def]
    """d loss / d kernel == 1 for an input of ones (batch mean of ``kernel * 1``)."""
    return keras.ops.mean(y_pred)


def make_model() -> keras.Model:
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(keras.optimizers.SGD(LearningRateSchedule(CURVE)), loss=output_mean)
    return model


def _sync(model: keras.Model) -> None:
    if hasattr(model, "jax_state_sync"):
        model.jax_state_sync()


class Script(keras.callbacks.Callback):
    """Writes the scripted metric of the epoch into the logs (placed before the plateau callback)."""

    def on_epoch_end(self, epoch, logs=None):  # type: ignore[no-untyped-def]
        logs["score"] = SCORES[epoch]


class Record(keras.callbacks.Callback):
    """The rate each update applied, and the plateau state after each epoch."""

    def __init__(self, plateau: ReduceLROnPlateau) -> None:
        super().__init__()
        self.plateau, self.applied, self.states = plateau, [], []

    def _kernel(self):  # type: ignore[no-untyped-def]
        return self.model.layers[-1].kernel

    def on_train_batch_begin(self, batch, logs=None):  # type: ignore[no-untyped-def]
        _sync(self.model)
        self._kernel().assign(np.zeros((1, 1), "float32"))

    def on_train_batch_end(self, batch, logs=None):  # type: ignore[no-untyped-def]
        _sync(self.model)
        self.applied.append(-float(keras.ops.convert_to_numpy(self._kernel().value).item()))

    def on_epoch_end(self, epoch, logs=None):  # type: ignore[no-untyped-def]
        (state,) = self.plateau.get_state()["states"]
        wait, cooldown = self.plateau.wait, self.plateau.cooldown_counter
        self.states.append((epoch, state, wait, cooldown))


class Crash(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):  # type: ignore[no-untyped-def]
        if epoch == STOP:
            raise RuntimeError("simulated crash")


X = np.ones((8, 1), "float32")


def run(model: keras.Model, *, before=(), after=(), **kw):  # type: ignore[no-untyped-def]
    """``fit`` with the script and a new plateau callback; the checkpoint callbacks come after them
    (a checkpoint written at an epoch end must hold the state that epoch end produced)."""
    plateau = ReduceLROnPlateau(**PLATEAU)
    rec = Record(plateau)
    kw.setdefault("epochs", EPOCHS)
    model.fit(X, X, batch_size=4, shuffle=False, verbose=0, callbacks=[*before, Script(), plateau, *after, rec], **kw)
    return rec


@pytest.fixture(scope="module")
def uninterrupted() -> Record:
    rec = run(make_model())
    assert len(rec.applied) == EPOCHS * STEPS
    # Independent check of the run itself: the curve times Keras's plateau scales (written in
    # plateau_reference.py), reductions applied from the next epoch on.
    scales = [1.0, *ref.keras_lrs(SCORES, 1.0, **{k: v for k, v in PLATEAU.items() if k != "monitor"})]
    want = [CURVE(t) * scales[t // STEPS] for t in range(EPOCHS * STEPS)]
    np.testing.assert_allclose(rec.applied, want, rtol=2e-5)
    assert min(scales) < 0.5  # two reductions or more; the first one right after STOP
    assert [s["num_bad_epochs"] for _, s, _, _ in rec.states][STOP - 1] == 1  # stopped mid-plateau
    return rec


def _same_as_uninterrupted(resumed: Record, whole: Record) -> None:
    np.testing.assert_array_equal(resumed.applied, whole.applied[STOP * STEPS :])
    assert resumed.states == whole.states[STOP:]


def test_backup_and_restore_after_a_crash(uninterrupted: Record, tmp_path) -> None:  # type: ignore[no-untyped-def]
    backup = os.path.join(tmp_path, "backup")
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(make_model(), before=[Crash()], after=[keras.callbacks.BackupAndRestore(backup)])
    resumed = run(make_model(), after=[keras.callbacks.BackupAndRestore(backup)])
    _same_as_uninterrupted(resumed, uninterrupted)


def test_model_checkpoint_and_load_model(uninterrupted: Record, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = os.path.join(tmp_path, "ckpt.keras")
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(make_model(), before=[Crash()], after=[keras.callbacks.ModelCheckpoint(path)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "Skipping variable loading for optimizer"
        loaded = keras.models.load_model(path)
    assert int(keras.ops.convert_to_numpy(loaded.optimizer.iterations)) == STOP * STEPS
    resumed = run(loaded, initial_epoch=STOP)
    _same_as_uninterrupted(resumed, uninterrupted)


def test_save_weights_and_load_weights(uninterrupted: Record, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = os.path.join(tmp_path, "w.weights.h5")
    first = make_model()
    run(first, epochs=STOP)
    first.save_weights(path)
    model = make_model()
    model.optimizer.build(model.trainable_variables)  # Keras restores an optimizer's state once built
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.load_weights(path)
    resumed = run(model, initial_epoch=STOP)
    _same_as_uninterrupted(resumed, uninterrupted)


def test_a_new_fit_continues_the_counters(uninterrupted: Record) -> None:
    """Two ``fit`` calls on one model (new callbacks) equal one: the state lives in the optimizer."""
    model = make_model()
    run(model, epochs=STOP)
    resumed = run(model, initial_epoch=STOP)
    _same_as_uninterrupted(resumed, uninterrupted)

"""The Keras internals lrkit relies on (``lrkit/backends/_keras_private.py``), pinned to a version.

``test_keras_version_was_checked`` fails on a Keras version nobody has read the internals of: re-read
the places the module docstring names, then add the version to ``CHECKED_KERAS_VERSIONS``. The
other tests check each hook on the installed version.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from helpers import need

import lrkit as lk

keras = need("keras")
from lrkit.backends import _keras_private as private  # noqa: E402
from lrkit.backends.keras import LearningRateSchedule, schedule_hyperparameter  # noqa: E402

STATE = ["scale", "min_lr", "best", "num_bad_epochs", "cooldown_counter", "num_reductions"]


def test_keras_version_was_checked() -> None:
    assert keras.__version__ in private.CHECKED_KERAS_VERSIONS, (
        f"Keras {keras.__version__} is not one of {private.CHECKED_KERAS_VERSIONS}: re-read the Keras "
        "internals listed in lrkit/backends/_keras_private.py, then add the version there."
    )


def test_the_internals_still_exist() -> None:
    opt = keras.optimizers.SGD(0.1)
    assert isinstance(private.learning_rate_object(opt), keras.Variable)
    assert callable(opt._backend_apply_gradients)
    assert keras.optimizers.Optimizer.build.__wrapped__ is not None  # the hook is installed once
    private.install_build_hook()
    assert not getattr(keras.optimizers.Optimizer.build.__wrapped__, "_lrkit_build_hook", False)
    # The learning_rate setter (BaseOptimizer's property) is wrapped once, on Optimizer.
    setter = inspect.getattr_static(keras.optimizers.Optimizer, "learning_rate").fset
    assert not hasattr(setter.__wrapped__, "__wrapped__")
    assert isinstance(inspect.getattr_static(keras.src.optimizers.base_optimizer.BaseOptimizer, "learning_rate"), property)


@pytest.mark.parametrize("make", [
    lambda lr: keras.optimizers.SGD(lr),
    lambda lr: keras.optimizers.Adam(lr),
    lambda lr: keras.optimizers.AdamW(lr, gradient_accumulation_steps=2),
    lambda lr: keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(lr)),
])
def test_build_adds_the_state_variables_in_a_fixed_place(make) -> None:  # type: ignore[no-untyped-def]
    """Built twice from scratch, the same optimizer has the same variables in the same order."""
    shapes = []
    for _ in range(2):
        opt = make(LearningRateSchedule(lk.constant(0.1)))
        opt.build([keras.Variable(np.zeros((2, 3), "float32")), keras.Variable(np.zeros(3, "float32"))])
        inner = getattr(opt, "inner_optimizer", opt)
        names = [v.name for v in inner.variables]
        (state,) = [v for v in inner.variables if v.name.startswith("lrkit")]
        assert (state.name, tuple(state.shape), str(state.dtype)) == ("lrkit_plateau", (len(STATE),), "float32")
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(state), [1.0, 0.0, np.nan, 0.0, 0.0, 0.0])
        shapes.append([(n if n.startswith("lrkit") else "", tuple(v.shape), str(v.dtype))
                       for n, v in zip(names, inner.variables)])
    assert shapes[0] == shapes[1]


def test_a_plain_optimizer_is_untouched() -> None:
    opt = keras.optimizers.Adam(0.1)
    opt.build([keras.Variable(np.zeros(3, "float32"))])
    assert not any(v.name.startswith("lrkit") for v in opt.variables)


def test_one_schedule_drives_one_optimizer() -> None:
    lr = LearningRateSchedule(lk.constant(0.1))
    keras.optimizers.SGD(lr).build([keras.Variable(0.0)])
    second = keras.optimizers.SGD(lr)
    with pytest.raises(ValueError, match="give each optimizer its own"):
        second.build([keras.Variable(0.0)])


def test_idle_state_leaves_the_rate_bit_for_bit() -> None:
    curve = lk.cosine(0.3, 0.001, 100)
    lr = LearningRateSchedule(curve)
    steps = keras.ops.convert_to_tensor(np.arange(100, dtype="int32"))
    before = keras.ops.convert_to_numpy(lr(steps))
    keras.optimizers.SGD(lr).build([keras.Variable(0.0)])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(lr(steps)), before)


def test_hyperparameter_hook_restores_the_configured_number() -> None:
    opt = keras.optimizers.SGD(0.1, momentum=0.9)
    schedule_hyperparameter(opt, "momentum", lk.constant(0.5))
    var = keras.Variable(0.0)
    opt.apply([keras.ops.ones(())], [var])
    assert opt.momentum == 0.9 and type(opt.momentum) is float
    assert private.scheduled_hyperparameters(opt)["momentum"][0] == 0.9

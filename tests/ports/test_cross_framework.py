"""The README porting example, end to end: a torch recipe ported once with ``lk.from_torch`` and
run unchanged through Keras (``model.fit`` and plain optimizer steps, ``lrkit.backends.keras``) and
optax (a jitted train step, ``lrkit.backends.optax``). The learning rates those optimizers actually
apply match the native torch curve, recorded from a real torch optimizer, to float32 precision.

Token ``cross``: torch, Keras (``KERAS_BACKEND=torch``, the ``keras_torch`` env) and optax installed together.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import helpers
import numpy as np
import pytest

import lrkit as lk

helpers.need("cross")
import jax  # noqa: E402  (requested through `cross`: an ImportError here is a failure, not a skip)
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import optax  # noqa: E402
import torch  # noqa: E402

from lrkit.backends import keras as lkk  # noqa: E402
from lrkit.backends import optax as lko  # noqa: E402

STEPS_PER_EPOCH = 5
N = 60  # optimizer updates: past the end of both recipes


def warmup_cosine(opt: torch.optim.Optimizer) -> Any:
    """Recipe 1, stepped once per update: 10 warmup steps from 1% of the lr, then cosine to 1e-4."""
    sched = torch.optim.lr_scheduler
    return sched.SequentialLR(
        opt,
        [sched.LinearLR(opt, start_factor=0.01, total_iters=10), sched.CosineAnnealingLR(opt, T_max=40, eta_min=1e-4)],
        milestones=[10],
    )


def multistep_per_epoch(opt: torch.optim.Optimizer) -> Any:
    """Recipe 2, stepped once per epoch: divide by 10 at epochs 3 and 7."""
    return torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 7], gamma=0.1)


RECIPES: dict[str, tuple[Callable[[Any], Any], int | None]] = {
    "warmup_cosine": (warmup_cosine, None),
    "multistep_per_epoch": (multistep_per_epoch, STEPS_PER_EPOCH),
}


def torch_lrs(recipe: str) -> np.ndarray:
    """The lr a real torch SGD applies at each of N updates (read off the parameter's change)."""
    make, spe = RECIPES[recipe]
    p = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make(opt)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's deprecation chatter
        for k in range(N):
            opt.zero_grad()
            p.sum().backward()  # gradient 1: the update is -lr
            before = float(p)
            opt.step()
            out.append(before - float(p))
            if spe is None or (k + 1) % spe == 0:
                sched.step()
    return np.asarray(out)


def ported(recipe: str) -> lk.Schedule:
    make, spe = RECIPES[recipe]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(()))], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lk.from_torch(make(opt), steps_per_epoch=spe)


def assert_float32_close(got: np.ndarray, want: np.ndarray) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)
    assert np.ptp(want) > 0  # a real curve, so an off-by-one step would show


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_port_equals_torch(recipe: str) -> None:
    np.testing.assert_allclose(ported(recipe)(np.arange(N)), torch_lrs(recipe), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_keras_model_fit_applies_the_torch_curve(recipe: str) -> None:
    schedule = ported(recipe)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    # d(mean(x w))/dw == 1 for x == 1: the kernel moves by exactly the applied lr at each update.
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lkk.LearningRateSchedule(schedule)),
        loss=lambda y_true, y_pred: keras.ops.mean(y_pred),
    )
    kernels: list[float] = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            kernels.append(float(keras.ops.convert_to_numpy(self.model.layers[0].kernel)[0, 0]))

    x = np.ones((STEPS_PER_EPOCH, 1), dtype="float32")
    model.fit(x, x, batch_size=1, epochs=N // STEPS_PER_EPOCH, shuffle=False, verbose=0, callbacks=[Record()])
    applied = -np.diff(np.concatenate([[0.0], kernels]))
    # float32 kernel: each difference carries the kernel's rounding (|kernel| <= 2 here).
    np.testing.assert_allclose(applied, torch_lrs(recipe), rtol=1e-5, atol=4e-7)
    assert int(model.optimizer.iterations) == N


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_keras_optimizer_steps_apply_the_torch_curve(recipe: str) -> None:
    var = keras.Variable(np.zeros((), dtype="float32"))
    opt = keras.optimizers.SGD(learning_rate=lkk.LearningRateSchedule(ported(recipe)))
    applied = []
    for _ in range(N):
        before = float(keras.ops.convert_to_numpy(var))
        opt.apply_gradients([(keras.ops.ones(()), var)])
        applied.append(before - float(keras.ops.convert_to_numpy(var)))
    np.testing.assert_allclose(applied, torch_lrs(recipe), rtol=1e-5, atol=4e-7)


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_optax_jitted_train_step_applies_the_torch_curve(recipe: str) -> None:
    opt = optax.sgd(lko.schedule(ported(recipe)))

    @jax.jit
    def train_step(params: Any, state: Any) -> Any:
        grads = jax.grad(lambda p: jnp.sum(p))(params)  # gradient 1: the update is -lr
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, -updates

    params = jnp.zeros(())
    state = opt.init(params)
    applied = []
    for _ in range(N):
        params, state, lr = train_step(params, state)
        applied.append(float(lr))
    assert_float32_close(np.asarray(applied), torch_lrs(recipe))

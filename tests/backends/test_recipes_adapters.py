"""SPEC section 9 through the real adapters: ``total_steps=`` binds percentages of the run.

Each framework runs a schedule written in percentages of a 100-step run next to the expected curve of
the same recipe written in steps (evaluated by the independent reference interpreter); an unbound
schedule is refused at construction with an error naming ``total_steps``.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import requested
from reference import evaluate_config

import lrkit as lk

RECIPE = lk.warmup(lk.cosine(0.3, 0.0, "90%"), "10%")
IN_STEPS = lk.warmup(lk.cosine(0.3, 0.0, 90), 10)
N = 100


def expected(steps: list[int]) -> np.ndarray:
    config = IN_STEPS.to_config()
    return np.array([evaluate_config(config, t) for t in steps])


@pytest.mark.skipif(not requested("torch"), reason="torch not requested")
def test_torch_scheduler_binds_total_steps_in_a_real_loop(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import torch

    from lrkit.backends.torch import HyperparameterScheduler, LRScheduler

    p = torch.nn.Parameter(torch.zeros(()))
    opt = torch.optim.SGD([p], lr=1.0, momentum=0.9)
    with pytest.raises(ValueError, match=r"LRScheduler: .*total_steps"):
        LRScheduler(opt, RECIPE)
    with pytest.raises(ValueError, match=r"HyperparameterScheduler: .*total_steps"):
        HyperparameterScheduler(opt, "momentum", lk.constant(0.9) + lk.linear(0.0, 0.05, "50%"))
    sched = RECIPE.to_torch(opt, total_steps=N)
    mom = HyperparameterScheduler(opt, "momentum", lk.linear(0.85, 0.95, "50%"), total_steps=N)
    lrs, moms = [], []
    for k in range(N + 5):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        p.grad = torch.ones(())
        opt.step()
        sched.step()
        mom.step()
        if k == 40:  # checkpoint mid-run, read back with weights_only, resume into a new scheduler
            torch.save(sched.state_dict(), tmp_path / "s.pt")
    np.testing.assert_allclose(lrs, expected(list(range(N + 5))), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(moms, [0.85 + 0.1 * min(k, 50) / 50 for k in range(N + 5)], rtol=1e-12)
    resumed = LRScheduler(opt, RECIPE, total_steps=N)
    resumed.load_state_dict(torch.load(tmp_path / "s.pt", weights_only=True))
    assert opt.param_groups[0]["lr"] == pytest.approx(expected([41])[0], rel=1e-12)
    with pytest.raises(ValueError, match="different schedule"):  # another run length is another curve
        LRScheduler(opt, RECIPE, total_steps=2 * N).load_state_dict(torch.load(tmp_path / "s.pt", weights_only=True))


@pytest.mark.skipif(not requested("optax"), reason="optax not requested")
def test_optax_schedule_binds_total_steps_under_jit() -> None:
    import jax
    import jax.numpy as jnp
    import optax

    from lrkit.backends.optax import schedule

    with pytest.raises(ValueError, match=r"schedule: .*total_steps"):
        schedule(RECIPE)
    with pytest.raises(ValueError, match="total_steps"):
        RECIPE.to_optax()
    fn = RECIPE.to_optax(total_steps=N)
    got = jax.jit(jax.vmap(fn))(jnp.arange(N + 5))
    np.testing.assert_allclose(np.asarray(got), expected(list(range(N + 5))), rtol=5e-6, atol=1.5e-7)
    opt = optax.sgd(schedule(RECIPE, total_steps=N))
    state = opt.init(jnp.zeros(()))
    updates, state = jax.jit(opt.update)(jnp.ones(()), state)
    assert float(-updates) == pytest.approx(expected([0])[0], abs=1e-7)


@pytest.mark.skipif(not requested("keras"), reason="keras not requested")
def test_keras_schedule_binds_total_steps_and_keeps_percentages_in_its_config() -> None:
    import keras

    from lrkit.backends.keras import LearningRateSchedule

    with pytest.raises(ValueError, match=r"LearningRateSchedule: .*total_steps"):
        LearningRateSchedule(RECIPE)
    lr = RECIPE.to_keras(total_steps=N)
    config = keras.optimizers.schedules.serialize(lr)
    assert config["config"]["schedule"]["steps"] == "10%" and config["config"]["total_steps"] == N
    back = keras.optimizers.schedules.deserialize(config)
    assert back.schedule == lr.schedule == IN_STEPS.bind(N)
    steps = [0, 5, 9, 10, 11, 50, 99, 100, 150]
    got = [float(keras.ops.convert_to_numpy(back(keras.ops.convert_to_tensor(t, dtype="int32")))) for t in steps]
    np.testing.assert_allclose(got, expected(steps), rtol=5e-6, atol=1.5e-7)
    # inside a real optimizer update
    v = keras.Variable(np.zeros(()), dtype="float32")
    opt = keras.optimizers.SGD(learning_rate=back)
    for k in range(12):
        opt.iterations.assign(k)
        v.assign(0.0)
        opt.apply_gradients([(keras.ops.ones(()), v)])
        assert -float(keras.ops.convert_to_numpy(v)) == pytest.approx(expected([k])[0], rel=5e-6, abs=1.5e-7)


@pytest.mark.skipif(not requested("matplotlib"), reason="matplotlib not requested")
def test_plot_binds_total_steps() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with pytest.raises(ValueError, match="total_steps"):
        RECIPE.plot()
    ax = RECIPE.plot(total_steps=N)
    x, y = ax.lines[0].get_data()
    np.testing.assert_allclose(y, expected([int(t) for t in x]), rtol=1e-12, atol=1e-15)
    plt.close(ax.figure)


@pytest.mark.skipif(not requested("keras"), reason="keras not requested")
def test_keras_callbacks_and_hyperparameters_take_total_steps() -> None:
    import keras

    from lrkit.backends.keras import HyperparameterScheduler, LearningRateScheduler, schedule_hyperparameter

    momentum = lk.linear(0.85, 0.95, "50%")
    for make in (lambda **kw: LearningRateScheduler(RECIPE, **kw),
                 lambda **kw: HyperparameterScheduler("momentum", momentum, **kw)):
        with pytest.raises(ValueError, match=r": .*total_steps"):
            make()
    assert LearningRateScheduler(RECIPE, total_steps=N).schedule == IN_STEPS
    assert HyperparameterScheduler("momentum", momentum, total_steps=N).schedule == lk.linear(0.85, 0.95, 50)
    opt = keras.optimizers.SGD(0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"schedule_hyperparameter: .*total_steps"):
        schedule_hyperparameter(opt, "momentum", momentum)
    schedule_hyperparameter(opt, "momentum", momentum, total_steps=N)


@pytest.mark.skipif(not requested("optax"), reason="optax not requested")
def test_optax_plateau_transformations_take_total_steps() -> None:
    import jax.numpy as jnp

    from lrkit.backends.optax import reduce_on_plateau, scale_by_plateau

    with pytest.raises(ValueError, match=r"reduce_on_plateau: .*total_steps"):
        reduce_on_plateau(RECIPE)
    with pytest.raises(ValueError, match=r"scale_by_plateau: .*total_steps"):
        scale_by_plateau(learning_rate=RECIPE)
    tx = reduce_on_plateau(RECIPE, total_steps=N)
    params = jnp.zeros(())
    state = tx.init(params)
    for k in range(12):
        updates, state = tx.update(jnp.ones(()), state, params, value=1.0 - k)  # always improving
        assert -float(updates) == pytest.approx(expected([k])[0], rel=5e-6, abs=1.5e-7)
    scale_by_plateau(learning_rate=RECIPE, total_steps=N)

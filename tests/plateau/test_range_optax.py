"""The optax range test with pytree batches (tuples, dicts, arrays) and progress output."""

from __future__ import annotations

import functools

import helpers
import numpy as np
import pytest

jax = helpers.need("jax")
optax = helpers.need("optax")
import jax.numpy as jnp  # noqa: E402

from lrkit.backends.optax import lr_range_test  # noqa: E402

RNG = np.random.RandomState(0)
X = RNG.randn(256, 3).astype("float32")
Y = (X @ np.array([1.0, -2.0, 0.5]) + 0.1 * RNG.randn(256)).astype("float32")


def _loss_tuple(w, b):
    return jnp.mean((b[0] @ w - b[1]) ** 2)


def _loss_dict(p, b):
    return jnp.mean((b["x"] @ p["w"] + p["b"] - b["y"]) ** 2)


def _loss_array(w, b):  # the targets ride in the last column
    return jnp.mean((b[:, :3] @ w - b[:, 3]) ** 2)


def test_tuple_dict_and_array_batches_give_the_same_curve():
    chunks = range(0, 256, 64)
    runs = [
        lr_range_test(_loss_tuple, jnp.zeros(3), optax.sgd, [(X[i:i + 64], Y[i:i + 64]) for i in chunks],
                      start=1e-3, end=10.0, steps=30),
        lr_range_test(lambda p, b: _loss_dict(p, b), {"w": jnp.zeros(3), "b": jnp.zeros(())},
                      optax.sgd, [{"x": X[i:i + 64], "y": Y[i:i + 64]} for i in chunks],
                      start=1e-3, end=10.0, steps=30),
        lr_range_test(_loss_array, jnp.zeros(3), optax.sgd,
                      [np.concatenate([X[i:i + 64], Y[i:i + 64, None]], 1) for i in chunks],
                      start=1e-3, end=10.0, steps=30),
    ]
    for r in runs:
        assert r.diverged_at is not None and r.suggested < r.diverged_at
    np.testing.assert_allclose(runs[0].losses, runs[2].losses, rtol=1e-6)
    assert runs[0].lrs.tolist() == runs[1].lrs.tolist() == runs[2].lrs.tolist()
    # the dict run also learns a bias: same first loss, different curve afterwards
    assert runs[1].losses[0] == pytest.approx(runs[0].losses[0], rel=1e-6)


def test_params_untouched_and_progress_callback():
    params = {"w": jnp.ones(3), "b": jnp.zeros(())}
    before = jax.tree.map(np.asarray, params)
    seen = []
    res = lr_range_test(_loss_dict, params, functools.partial(optax.adam, b1=0.5),
                        [{"x": X, "y": Y}], start=1e-4, end=100.0, steps=80,
                        progress=lambda step, lr, loss: seen.append((step, lr, loss)))
    assert [s for s, _, _ in seen] == list(range(len(res.lrs)))
    np.testing.assert_array_equal([lr for _, lr, _ in seen], res.lrs)
    np.testing.assert_array_equal([loss for _, _, loss in seen], res.losses)
    for k, v in before.items():
        np.testing.assert_array_equal(np.asarray(params[k]), v)


def test_progress_true_prints_to_stderr(capsys):
    lr_range_test(_loss_tuple, jnp.zeros(3), optax.sgd, [(X, Y)], start=1e-4, end=1e-2, steps=20, progress=True)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and [ln.split()[2] for ln in lines] == [f"{k}/20" for k in range(2, 20, 2)] + ["20/20"]
    assert lines[-1].endswith("(done)")


@pytest.mark.parametrize("progress", ["yes", 1])
def test_bad_progress(progress):
    with pytest.raises(TypeError, match="`progress` must be"):
        lr_range_test(_loss_tuple, jnp.zeros(3), optax.sgd, [(X, Y)], steps=5, progress=progress)

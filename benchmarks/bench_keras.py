"""``model.fit`` throughput: lrkit's Keras schedule vs Keras's own ``CosineDecay`` with warmup.

Run once per Keras backend::

    KERAS_BACKEND=jax python benchmarks/bench_keras.py
    KERAS_BACKEND=torch python benchmarks/bench_keras.py
    KERAS_BACKEND=tensorflow python benchmarks/bench_keras.py

Both models are identical (a small MLP, AdamW) except for the learning rate:
``keras.optimizers.schedules.CosineDecay(0.0, D, warmup_target=peak, warmup_steps=W)`` and
``LearningRateSchedule(lk.warmup(lk.cosine(peak, 0.0, D), W))``, the same curve (checked first).
Each is compiled by one warm-up ``fit``; then timed ``fit`` calls alternate between the two in this
process. The script prints the fastest and the median epoch of each and the ratio lrkit / Keras of
the fastest (the least disturbed by other load on the machine; target: within 1.02, with lrkit
evaluating in float64 and rounding once to float32). On PyTorch,
torch runs single-threaded so the two runs do not fight over cores.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

import keras
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout too

import lrkit as lk
from lrkit.backends.keras import LearningRateSchedule

PEAK, WARMUP, DECAY = 1e-3, 100, 10_000


def make_model(learning_rate: object) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((32,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate=learning_rate), loss="mse")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200, help="batches per epoch")
    parser.add_argument("--repeats", type=int, default=15, help="timed fits per schedule")
    args = parser.parse_args()
    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(1)

    native = keras.optimizers.schedules.CosineDecay(0.0, DECAY, warmup_target=PEAK, warmup_steps=WARMUP)
    ours = LearningRateSchedule(lk.warmup(lk.cosine(PEAK, 0.0, DECAY), WARMUP))
    probe = [0, 1, 50, WARMUP - 1, WARMUP, WARMUP + 1, 5000, WARMUP + DECAY, 20_000]
    a = np.array([float(keras.ops.convert_to_numpy(native(t))) for t in probe])
    b = np.array([float(keras.ops.convert_to_numpy(ours(t))) for t in probe])
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-9)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batches * 32, 32)).astype("float32")
    y = rng.normal(size=(args.batches * 32, 1)).astype("float32")
    models = {"keras CosineDecay": make_model(native), "lrkit": make_model(ours)}
    for m in models.values():  # compile / warm up
        m.fit(x, y, batch_size=32, epochs=1, verbose=0)

    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, m in models.items():
            t0 = time.perf_counter()
            m.fit(x, y, batch_size=32, epochs=1, verbose=0)
            times[name].append(time.perf_counter() - t0)

    best = {name: min(ts) for name, ts in times.items()}
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"backend={keras.backend.backend()} batches/epoch={args.batches} repeats={args.repeats}")
    for name in models:
        print(
            f"  {name:18s} best {best[name] * 1e3:8.1f} ms/epoch ({args.batches / best[name]:7.0f} steps/s)"
            f"  median {med[name] * 1e3:8.1f} ms"
        )
    print(f"  ratio lrkit / keras (best) = {best['lrkit'] / best['keras CosineDecay']:.3f}")
    print(f"  ratio lrkit / keras (median) = {med['lrkit'] / med['keras CosineDecay']:.3f}")


if __name__ == "__main__":
    main()

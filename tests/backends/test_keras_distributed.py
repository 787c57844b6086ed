"""``tf.distribute.MirroredStrategy`` over two logical CPU devices with an lrkit schedule.

TensorFlow fixes its logical devices when it first initialises, which another test in the same
session may already have done, so the run happens in a fresh subprocess (with
``KERAS_BACKEND=tensorflow``). The subprocess trains the same one-weight model twice, once on one
device and once mirrored over two, resetting the kernel to 0 before each batch (so ``-kernel`` is
the applied learning rate, as in ``test_keras.py``; SGD with momentum 0.5, so the momentum slots
are mirrored too), and reports the rate applied at every step on every replica; then the same with
the momentum itself scheduled by ``HyperparameterScheduler``.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
from helpers import need
from reference import evaluate_config

import lrkit as lk

need("tensorflow")

SCHEDULE = lk.warmup(lk.join([lk.cosine(0.3, 0.05, 6), lk.multistep(0.05, [2, 4], 0.5)], [6]), 3)
STEPS = 16

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    import keras
    import lrkit as lk
    from lrkit.backends.keras import HyperparameterScheduler, LearningRateSchedule

    assert keras.backend.backend() == "tensorflow"
    schedule = lk.from_config(json.loads(sys.argv[1]))
    steps = int(sys.argv[2])

    class Probe(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.applied = []

        def on_train_batch_begin(self, batch, logs=None):
            self.model.layers[-1].kernel.assign(tf.zeros((1, 1)))

        def on_train_batch_end(self, batch, logs=None):
            kernel = self.model.layers[-1].kernel
            values = getattr(kernel.value, "values", None) or [kernel.value]  # one per replica
            self.applied.append([-float(v.numpy().item()) for v in values])

    def run(strategy, momentum=None):
        with strategy.scope():
            model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
            opt = keras.optimizers.SGD(learning_rate=LearningRateSchedule(schedule), momentum=0.5)
            model.compile(optimizer=opt, loss="mean_absolute_error")
        probe = Probe()
        extra = [] if momentum is None else [HyperparameterScheduler("momentum", momentum)]
        # Global batch 2: one sample per replica; |y_pred - y| with y far below: gradient 1.
        x, y = np.ones((2 * steps, 1), "float32"), np.full((2 * steps, 1), -1000.0, "float32")
        model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0, callbacks=[*extra, probe])
        return {"applied": probe.applied, "iterations": int(opt.iterations.numpy()),
                "replicas": strategy.num_replicas_in_sync}

    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    out = {
        "devices": devices,
        "single": run(tf.distribute.OneDeviceStrategy(devices[0])),
        "mirrored": run(tf.distribute.MirroredStrategy(devices)),
        "single_hp": run(tf.distribute.OneDeviceStrategy(devices[0]), lk.linear(0.0, 0.9, steps // 2)),
        "mirrored_hp": run(tf.distribute.MirroredStrategy(devices), lk.linear(0.0, 0.9, steps // 2)),
    }
    print("RESULT " + json.dumps(out))
    """
)


@functools.lru_cache(maxsize=1)
def _run() -> dict:
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), root) if p)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(SCHEDULE.to_config()), str(STEPS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    return json.loads(lines[-1][len("RESULT ") :])


def test_mirrored_strategy_applies_the_same_rate_on_every_replica() -> None:
    out = _run()
    assert len(out["devices"]) == 2
    single, mirrored = out["single"], out["mirrored"]
    assert mirrored["replicas"] == 2
    assert single["iterations"] == mirrored["iterations"] == STEPS
    config = SCHEDULE.to_config()
    expected = np.array([evaluate_config(config, t) for t in range(STEPS)])
    # Every replica holds the same kernel after every step ...
    applied = np.array(mirrored["applied"])
    assert applied.shape == (STEPS, 2)
    np.testing.assert_array_equal(applied[:, 0], applied[:, 1])
    # ... and it is the single-device run's, and the schedule's (momentum 0.5 on a reset kernel:
    # b <- 0.5 b - lr_k, applied = -b).
    np.testing.assert_allclose(applied[:, 0], np.array(single["applied"])[:, 0], rtol=1e-6)
    b, want = 0.0, []
    for lr in expected:
        b = 0.5 * b - lr
        want.append(-b)
    np.testing.assert_allclose(applied[:, 0], want, rtol=1e-5, atol=1e-7)


def test_mirrored_strategy_with_a_scheduled_momentum() -> None:
    """``HyperparameterScheduler`` inside the mirrored step: same value on every replica."""
    out = _run()
    config, m_config = SCHEDULE.to_config(), lk.linear(0.0, 0.9, STEPS // 2).to_config()
    lrs = [evaluate_config(config, t) for t in range(STEPS)]
    ms = [evaluate_config(m_config, t) for t in range(STEPS)]
    applied = np.array(out["mirrored_hp"]["applied"])
    np.testing.assert_array_equal(applied[:, 0], applied[:, 1])
    np.testing.assert_allclose(applied[:, 0], np.array(out["single_hp"]["applied"])[:, 0], rtol=1e-6)
    b, want = 0.0, []
    for lr, m in zip(lrs, ms):
        b = m * b - lr
        want.append(-b)
    np.testing.assert_allclose(applied[:, 0], want, rtol=1e-5, atol=1e-7)

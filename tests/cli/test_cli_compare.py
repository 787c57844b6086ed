"""``lrkit compare`` through the real adapters, and ``lrkit diff`` on curves ported from the real
Keras and transformers schedules ("cosine with warmup": the same words, different curves)."""

from __future__ import annotations

import json
import math
import re

import cli_run
import helpers
import numpy as np
import pytest

SPEC = "warmup(cosine(3e-4, 3e-5, 200), 20)"


def deviation(stdout: str, fw: str) -> tuple[int, float]:
    """(max float32 ulps, exact-match fraction) that ``compare`` printed for framework ``fw``."""
    m = re.search(
        rf"^{fw}\s+max deviation (\d+) float32 ulp at step \d+ \((?:exact|within one ulp|MORE THAN ONE ULP); "
        r"float32\(s\(k\)\) exactly at (\S+)% of steps\)",
        stdout,
        flags=re.M,
    )
    assert m, stdout
    return int(m.group(1)), float(m.group(2)) / 100


def only(*keep: str) -> str:
    """Python run before the CLI that hides every framework except ``keep``."""
    hide = [m for m in ("torch", "keras", "jax", "optax") if m not in keep]
    return f"import sys\nfor m in {hide!r}:\n    sys.modules[m] = None"


def test_compare_torch() -> None:
    helpers.need("torch")
    p = cli_run.run("compare", SPEC, pre=only("torch"))
    assert p.returncode == 0, p.stderr
    ulps, exact = deviation(p.stdout, "torch")
    assert ulps == 0 and exact == 1.0  # a real float32 parameter applies float32(s(k))
    assert "LRScheduler in torch.optim.SGD (float32 parameter), 243 steps" in p.stdout
    assert "keras  skipped" in p.stdout and "optax  skipped" in p.stdout


def test_compare_optax() -> None:
    helpers.need("optax")
    p = cli_run.run("compare", SPEC, pre=only("jax", "optax"))
    assert p.returncode == 0, p.stderr
    ulps, exact = deviation(p.stdout, "optax")
    assert ulps <= 1 and exact >= 0.999


def test_compare_far_steps_are_not_cast_to_int32() -> None:
    """``--steps 10**12``: optax's int32 counter is probed up to 2**31 - 1, said once on stderr."""
    helpers.need("optax")
    p = cli_run.run("compare", "cyclic(1e-4, 0.37, 7, down=13, mode='exp_range', gamma=0.999)",
                    "--steps", str(10**12), pre=only("jax", "optax"))
    assert p.returncode == 0, p.stderr
    ulps, _ = deviation(p.stdout, "optax")
    assert ulps <= 1
    assert "probe steps in 0..1000000000000" in p.stdout
    err = p.stderr.strip().splitlines()
    assert err == ["lrkit compare: note: optax counts updates in int32: probed up to step 2147483647 "
                   "(of 1000000000000)"], p.stderr


def test_compare_far_steps_through_torch() -> None:
    """Far probes reach a real torch optimizer through a state dict (bounded time), exactly."""
    helpers.need("torch")
    p = cli_run.run("compare", "cosine_wave(0.37, 0.01, 300)", "--steps", str(10**12), pre=only("torch"))
    assert p.returncode == 0, p.stderr
    assert deviation(p.stdout, "torch") == (0, 1.0)
    assert p.stderr == ""


def test_compare_keras() -> None:
    keras = helpers.need("keras")
    p = cli_run.run("compare", SPEC, pre=only("keras", "jax") if keras.backend.backend() == "jax" else only("keras", "torch"))
    assert p.returncode == 0, p.stderr
    ulps, exact = deviation(p.stdout, "keras")
    assert ulps <= 1 and exact >= 0.999
    assert f"on the {keras.backend.backend()} backend" in p.stdout


def test_compare_explains_a_missing_keras_backend_and_reports_the_others() -> None:
    keras = helpers.need("keras")
    if keras.backend.backend() == "tensorflow":
        pytest.skip("needs a Keras backend module that is not installed; this env has tensorflow")
    p = cli_run.run("compare", SPEC, KERAS_BACKEND="tensorflow")  # tensorflow is not in this env
    assert p.returncode == 0, p.stderr
    line = next(ln for ln in p.stdout.splitlines() if ln.startswith("keras"))
    assert line == (
        "keras  skipped: Keras backend 'tensorflow' is not installed (no module 'tensorflow'): "
        "pip install tensorflow, or set KERAS_BACKEND=jax or torch"
    )
    assert re.search(r"^(torch|optax)\s+max deviation [01] float32 ulp", p.stdout, flags=re.M), p.stdout


def test_compare_reports_a_broken_adapter_and_fails() -> None:
    helpers.need("torch")
    pre = only("torch") + "\nsys.modules['lrkit.backends.torch'] = None"
    p = cli_run.run("compare", SPEC, pre=pre)
    assert p.returncode == 1
    assert re.search(r"^torch\s+error: ModuleNotFoundError", p.stdout, flags=re.M), p.stdout
    cli_run.assert_one_line_error(p, 1, "an adapter failed")


def hf_formula(t: int, warm: int = 10, total: int = 100) -> float:
    """transformers get_cosine_schedule_with_warmup multiplier, written out (num_cycles=0.5)."""
    if t < warm:
        return t / max(1, warm)
    progress = (t - warm) / max(1, total - warm)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))


def keras_formula(t: int, warm: int = 10, decay: int = 100) -> float:
    """Keras CosineDecay(0.0, decay_steps, warmup_target=1.0, warmup_steps) written out."""
    if t < warm:
        return t / warm
    return 0.5 * (1.0 + math.cos(math.pi * min(t - warm, decay) / decay))


def first_diff(stdout: str) -> int:
    m = re.search(r"first difference at step (\d+):", stdout)
    assert m, stdout
    return int(m.group(1))


def test_diff_real_keras_cosine_decay_with_warmup(tmp_path) -> None:
    keras = helpers.need("keras")
    import lrkit as lk

    native = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=100, warmup_target=1.0, warmup_steps=10)
    call = native
    if keras.backend.backend() == "jax":  # as in a compiled train step (eager jax.lax.cond recompiles per call)
        import jax

        call = jax.jit(native.__call__)
    vals = [float(keras.ops.convert_to_numpy(call(t))) for t in range(121)]
    np.testing.assert_allclose(vals, [keras_formula(t) for t in range(121)], rtol=1e-6, atol=1e-7)
    assert round(vals[50], 3) == 0.655
    path = tmp_path / "keras_cosine.json"
    path.write_text(json.dumps(lk.from_keras(native).to_config()))
    p = cli_run.run("diff", str(path), "warmup(cosine(1.0, 0.0, 90), 10)", "--steps", "120")
    assert p.returncode == 1, p.stderr  # diff's convention: 1 when the schedules differ
    expected = next(t for t in range(121) if abs(keras_formula(t) - hf_formula(t)) > 1e-9)
    assert expected == 11
    assert first_diff(p.stdout) == expected


def test_diff_real_transformers_cosine_with_warmup() -> None:
    torch = helpers.need("torch")
    transformers = helpers.need("transformers")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = transformers.get_cosine_schedule_with_warmup(opt, num_warmup_steps=10, num_training_steps=100)
    vals = []
    for _ in range(121):
        vals.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(vals, [hf_formula(t) for t in range(121)], rtol=1e-12, atol=1e-15)
    assert round(vals[50], 3) == 0.587
    hf = "from_transformers('cosine', lr=1.0, num_warmup_steps=10, num_training_steps=100)"
    p = cli_run.run("diff", "warmup(cosine(1.0, 0.0, 100), 10)", hf, "--steps", "100")
    assert p.returncode == 1, p.stderr  # diff's convention: 1 when the schedules differ
    assert first_diff(p.stdout) == 11
    gap, at = max((abs(keras_formula(t) - hf_formula(t)), t) for t in range(101))
    assert f"largest gap {gap:.6g} at step {at}:" in p.stdout


@pytest.mark.parametrize("steps", ["120"])
def test_diff_of_a_spec_with_itself_ported_from_transformers(steps: str) -> None:
    helpers.need("core")
    hf = "from_transformers('cosine', lr=1.0, num_warmup_steps=10, num_training_steps=100)"
    p = cli_run.run("diff", hf, "warmup(cosine_wave(1.0, 0.0, 90), 10)", "--steps", steps)
    assert p.returncode == 0, p.stderr
    assert "identical over steps 0..120" in p.stdout

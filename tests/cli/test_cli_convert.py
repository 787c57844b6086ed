"""``lrkit convert``: the printed native torch / Keras / optax code, executed here with the real
library, produces the lrkit curve (float64 reference) at every probed step up to where it claims to."""

from __future__ import annotations

import contextlib
import io
import re

import cli_run
import helpers
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrkit._cli import main
from lrkit._expr import parse

FRAMEWORK_TOKEN = {"torch": "torch", "keras": "keras", "optax": "optax"}

# (spec, horizon, frameworks that must offer a native equivalent)
CASES = [
    ("constant(0.1)", 20, {"torch", "keras", "optax"}),
    ("linear(0.5, 0.1, 20)", 40, {"torch", "keras", "optax"}),
    ("linear(0.1, 0.5, 20)", 40, {"torch", "keras", "optax"}),
    ("linear(0.0, 0.5, 20)", 40, {"keras", "optax"}),
    ("cosine(0.5, 0.05, 30)", 60, {"torch", "keras", "optax"}),
    ("cosine_wave(0.5, 0.05, 20)", 70, {"torch"}),
    ("exponential(0.5, 0.9, 1)", 40, {"torch", "keras", "optax"}),
    ("exponential(0.5, 0.5, 4, staircase=True)", 40, {"torch", "keras", "optax"}),
    ("exponential(0.5, 0.9, 3)", 40, {"keras", "optax"}),
    ("exponential(0.5, 0.9, 3, end=0.2)", 60, {"optax"}),
    ("exponential(0.01, 1.5, 2, end=0.4)", 60, {"optax"}),
    ("polynomial(0.5, 0.0, 30, power=2.0)", 50, {"torch", "keras", "optax"}),
    ("polynomial(0.5, 0.01, 30, power=2.0)", 50, {"keras", "optax"}),
    ("polynomial(0.5, 0.01, 10, power=0.5, cycle=True)", 45, {"keras"}),
    ("step(0.4, 0.5, 7)", 40, {"torch", "keras", "optax"}),
    ("multistep(0.4, [5, 12, 12, 30], 0.3)", 45, {"torch", "keras", "optax"}),
    ("multistep(0.4, [1, 3], 0.5)", 10, {"torch", "keras", "optax"}),
    ("piecewise_constant([3, 10, 25], [0.4, 0.2, 0.05, 0.01])", 40, {"keras", "optax"}),
    ("inverse_time(0.3, 0.5, 4)", 40, {"keras"}),
    ("inverse_time(0.3, 0.5, 4, staircase=True)", 40, {"keras"}),
    ("cyclic(0.01, 0.3, 5, 8)", 60, {"torch"}),
    ("cyclic(0.01, 0.3, 4, mode='triangular2')", 60, {"torch"}),
    ("cyclic(0.01, 0.3, 4, 6, mode='exp_range', gamma=0.97)", 60, {"torch"}),
    ("one_cycle(0.4, 50)", 60, {"torch"}),
    ("one_cycle(0.4, 60, pct_start=0.25, anneal='linear', three_phase=True)", 70, {"torch"}),
    ("cosine_restarts(0.3, 0.01, 8)", 50, {"torch", "keras"}),
    ("cosine_restarts(0.3, 0.01, 5, period_mult=2.0)", 100, {"torch", "keras"}),
    ("cosine_restarts(0.3, 0.0, 5, period_mult=1.5, decay=0.5)", 80, {"keras"}),
    ("warmup(cosine(3e-4, 3e-5, 100), 10, start=3e-6)", 130, {"torch", "keras", "optax"}),
    ("warmup(cosine(1.0, 0.0, 90), 10)", 120, {"keras", "optax"}),
    ("join([linear(0.1, 1.0, 10), cosine(1.0, 0.0, 90)], [10])", 120, {"torch", "keras", "optax"}),
    ("join([linear(0.0, 0.3, 5), constant(0.3), cosine(0.3, 0.0, 20)], [5, 12])", 50, {"optax"}),
    ("warmup(exponential(0.3, 0.9, 2), 8, start=0.01)", 50, {"optax"}),
    ("from_transformers('linear', lr=1e-3, num_warmup_steps=10, num_training_steps=100)", 120, {"optax"}),
    ("from_optax('warmup_cosine_decay_schedule', 0.0, 1.0, 10, 100)", 120, {"keras", "optax"}),
    ("inverse_sqrt(1.0, 10)", 30, set()),
    ("warmup_stable_decay(0.3, 5, 10, 10)", 30, set()),
    ("per_epoch(step(0.1, 0.5, 2), 10)", 60, set()),
]


def convert(spec: str) -> dict[str, str]:
    """Run ``lrkit convert SPEC`` and split its output into the per-framework sections."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["convert", spec]) == 0
    return split(out.getvalue())


def split(text: str) -> dict[str, str]:
    parts = re.split(r"^# ---- (\w+) ----\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def until(section: str) -> int | None:
    m = re.search(r"# identical to lrkit for steps 0\.\.(\d+)", section)
    return int(m.group(1)) if m else None


def run_native(fw: str, code: str, steps: list[int]) -> np.ndarray:
    """Execute the printed snippet with the real library and read its values at ``steps``."""
    ns: dict = {}
    exec(compile(code, f"<lrkit convert: {fw}>", "exec"), ns)  # the code under test, printed by lrkit
    if "learning_rate" in ns:
        return np.full(len(steps), float(ns["learning_rate"]))
    if fw == "torch":
        opt, sched = ns["optimizer"], ns["scheduler"]
        lrs = []
        for k in range(max(steps) + 1):
            lrs.append(opt.param_groups[0]["lr"])  # the lr update k uses, after k scheduler steps
            if k < max(steps):
                opt.step()
                sched.step()
        return np.asarray(lrs)[steps]
    if fw == "keras":
        import keras

        native = ns["schedule"]
        if keras.backend.backend() == "jax":  # as in a compiled train step (eager jax.lax.cond recompiles per call)
            import jax

            native = jax.jit(native.__call__)
        return np.asarray([float(keras.ops.convert_to_numpy(native(t))) for t in steps])
    import jax
    import jax.numpy as jnp

    return np.asarray(jax.vmap(ns["schedule"])(jnp.asarray(steps, dtype=jnp.int32)), dtype=np.float64)


def check(spec: str, fw: str, horizon: int) -> None:
    helpers.need(FRAMEWORK_TOKEN[fw])
    s = parse(spec)
    section = convert(spec)[fw]
    u = until(section)
    last = horizon if u is None else min(horizon, u)
    steps = [t for t in helpers.probe_steps(s, last) if t <= last]
    got = run_native(fw, section, steps)
    want = s(np.asarray(steps, dtype=np.float64))
    # torch computes in float64 (its chainable recursion drifts a little); Keras and optax in float32.
    rtol, atol = (1e-9, 1e-12) if fw == "torch" else (2e-6, 2e-7 * float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"{fw}: {section}")


@pytest.mark.parametrize(("spec", "horizon", "fws"), CASES, ids=[c[0] for c in CASES])
def test_which_frameworks_have_an_equivalent(spec: str, horizon: int, fws: set[str]) -> None:
    helpers.need("core")
    sections = convert(spec)
    assert set(sections) == {"torch", "keras", "optax", "transformers", "composer", "timm"}
    offered = {fw for fw, text in sections.items() if fw in FRAMEWORK_TOKEN and "no native equivalent" not in text}
    assert offered == fws


@pytest.mark.parametrize(
    ("spec", "fw", "horizon"),
    [(spec, fw, h) for spec, h, fws in CASES for fw in sorted(fws)],
    ids=[f"{fw}-{spec}" for spec, _, fws in CASES for fw in sorted(fws)],
)
def test_printed_native_code_reproduces_the_curve(spec: str, fw: str, horizon: int) -> None:
    check(spec, fw, horizon)


@settings(max_examples=25)
@given(
    peak=st.floats(1e-5, 1.0), init_frac=st.floats(0.001, 1.0), end_frac=st.floats(0.0, 1.0),
    warm=st.integers(1, 60), decay=st.integers(1, 200),
    fw=st.sampled_from([fw for fw in ("torch", "keras", "optax") if helpers.requested(FRAMEWORK_TOKEN[fw])] or ["none"]),
)
def test_warmup_cosine_sweep(peak, init_frac, end_frac, warm, decay, fw) -> None:
    if fw == "none":
        pytest.skip("no native framework requested")
    spec = f"warmup(cosine({peak!r}, {peak * end_frac!r}, {decay}), {warm}, start={peak * init_frac!r})"
    check(spec, fw, warm + decay + 10)


def test_convert_subprocess_output_is_the_same() -> None:
    helpers.need("core")
    p = cli_run.run("convert", "cosine(0.5, 0.05, 30)")
    assert p.returncode == 0, p.stderr
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["convert", "cosine(0.5, 0.05, 30)"])
    assert p.stdout == out.getvalue()


def test_printed_ratios_carry_no_float_noise() -> None:
    """A factor that is a ratio of the recipe's numbers prints as that ratio when its value would
    print with float noise (0.010000000000000002), and as its value when that is short."""
    helpers.need("core")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["convert", "warmup(cosine(3e-4, 3e-5, 10000), 500, start=3e-6)"])
    text = out.getvalue()
    assert "start_factor=3e-06 / 0.0003," in text and "alpha=0.1," in text
    assert not re.search(r"\d\.\d*0000000000\d", text), text  # no float noise anywhere
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["convert", "linear(0.5, 0.25, 20)"])
    assert "start_factor=1.0, end_factor=0.5," in out.getvalue()

"""The command line end to end: ``python -m lrkit`` and the ``lrkit`` console script in subprocesses."""

from __future__ import annotations

import json
import math
import subprocess

import cli_run
import helpers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit as lk
from lrkit._cli import main

helpers.need("core")


def warmup_cosine(t: int, peak: float, end: float, warm: int, decay: int) -> float:
    """Linear warmup from 0 to ``peak`` over ``warm`` steps, then cosine to ``end`` over ``decay``: by hand."""
    if t < warm:
        return peak * t / warm
    x = min(t - warm, decay) / decay
    return end + (peak - end) * 0.5 * (1.0 + math.cos(math.pi * x))


def rows(stdout: str) -> list[tuple[int, float]]:
    """The ``step lr`` rows printed by ``lrkit show`` (up to the blank line before the chart)."""
    lines = stdout.split("\n\n")[0].strip().splitlines()
    assert lines[0].split() == ["step", "lr"]
    return [(int(a), float(b)) for a, b in (ln.split() for ln in lines[1:])]


def test_show_rows_match_the_formula_and_draw_a_chart() -> None:
    p = cli_run.run("show", "warmup(cosine(3e-4, 3e-5, 10000), 500)", "--steps", "10500", "--every", "1000")
    assert p.returncode == 0, p.stderr
    got = rows(p.stdout)
    assert [t for t, _ in got] == [*range(0, 10001, 1000), 10500]
    for t, v in got:
        assert math.isclose(v, warmup_cosine(t, 3e-4, 3e-5, 500, 10000), rel_tol=1e-9, abs_tol=1e-15), (t, v)
    chart = p.stdout.split("\n\n", 1)[1]
    assert "█" in chart and "0.0003" in chart and "10500" in chart
    assert len(chart.splitlines()) >= 10


@settings(max_examples=60)
@given(
    peak=st.floats(1e-6, 10.0), frac=st.floats(0.0, 1.0), warm=st.integers(1, 300),
    decay=st.integers(1, 3000), every=st.integers(1, 500), extra=st.integers(0, 500),
)
def test_show_sweep(peak: float, frac: float, warm: int, decay: int, every: int, extra: int) -> None:
    import contextlib
    import io

    end = peak * frac
    steps = warm + decay + extra
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["show", f"warmup(cosine({peak!r}, {end!r}, {decay}), {warm})",
                       "--steps", str(steps), "--every", str(every), "--no-chart"])
    assert status == 0
    got = rows(out.getvalue())
    want_steps = sorted({*range(0, steps + 1, every), steps})
    assert [t for t, _ in got] == want_steps
    probes = {warm - 1, warm, warm + 1, warm + decay - 1, warm + decay, warm + decay + 1}
    for t, v in got:
        assert math.isclose(v, warmup_cosine(t, peak, end, warm, decay), rel_tol=1e-9, abs_tol=1e-15 * peak)
    # Boundary rows: b-1, b, b+1 with --every 1 around each boundary.
    for b in probes:
        if 1 <= b <= steps:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                main(["show", f"warmup(cosine({peak!r}, {end!r}, {decay}), {warm})",
                      "--steps", str(b), "--every", str(max(b, 1)), "--no-chart"])
            t, v = rows(out.getvalue())[-1]
            assert t == b
            assert math.isclose(v, warmup_cosine(b, peak, end, warm, decay), rel_tol=1e-9, abs_tol=1e-15 * peak)


def test_show_default_steps_cover_the_whole_curve() -> None:
    p = cli_run.run("show", "linear(1.0, 0.0, 200)", "--no-chart")
    got = rows(p.stdout)
    assert got[0] == (0, 1.0)
    assert got[-1][0] == 220 and got[-1][1] == 0.0  # duration + 10%
    assert len(got) == 21  # every = 220 // 20 = 11: 0, 11, ..., 220


def test_json_config_file_is_a_spec(tmp_path) -> None:
    s = lk.join([lk.linear(0.0, 0.5, 10), lk.step(0.5, 0.5, 7)], [10])
    path = tmp_path / "sched.json"
    path.write_text(json.dumps(s.to_config()))
    p = cli_run.run("show", str(path), "--steps", "30", "--every", "1", "--no-chart")
    assert p.returncode == 0, p.stderr
    for t, v in rows(p.stdout):
        want = 0.5 * t / 10 if t < 10 else 0.5 * 0.5 ** ((t - 10) // 7)
        assert math.isclose(v, want, rel_tol=1e-12, abs_tol=1e-15), (t, v, want)


@pytest.mark.parametrize(
    ("args", "status", "needles"),
    [
        (["show", "cosine(1.0, 0.0, 0)"], 2, ["argument SPEC", "cosine: `steps` must be a positive integer. Received: steps=0"]),
        (["show", "__import__('os').system('echo pwned')"], 2, ["argument SPEC", "attribute access"]),
        (["show", "open('/etc/passwd')"], 2, ["argument SPEC", "`open` is not an lrkit constructor"]),
        (["show", "cosin(1.0, 0.0, 10)"], 2, ["Did you mean 'cosine'"]),
        (["show", "cosine(1.0, 0.0, 10)", "--steps", "0"], 2, ["argument --steps", "positive integer", "steps='0'"]),
        (["show", "cosine(1.0, 0.0, 10)", "--every", "x"], 2, ["argument --every", "every='x'"]),
        (["show", "missing.json"], 2, ["argument SPEC", "file 'missing.json' does not exist"]),
        (["show", "good.jsn"], 2, ["argument SPEC", "file 'good.jsn' does not exist"]),
        (["show"], 2, ["SPEC"]),
        (["frobnicate"], 2, ["invalid choice"]),
        ([], 2, ["COMMAND"]),
        (["diff", "cosine(1.0, 0.0, 10)", "cosine(1.0, 0.0, -1)"], 2, ["argument SPEC_B", "`steps`"]),
        (["plot", "cosine(1.0, 0.0, 10)", "constant(-1.0)"], 2, ["argument SPEC #2", "`value`"]),
        (["convert", "from_torch(scheduler)"], 2, ["needs a framework object"]),
    ],
)
def test_errors_are_one_line_with_status(args: list[str], status: int, needles: list[str]) -> None:
    p = cli_run.run(*args)
    cli_run.assert_one_line_error(p, status, *needles)
    assert "pwned" not in p.stdout


def test_bad_json_file(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    cli_run.assert_one_line_error(cli_run.run("show", str(bad)), 2, "argument SPEC", "not a JSON config")
    evil = tmp_path / "evil.json"
    evil.write_text(json.dumps({"type": "os.system", "command": "echo pwned"}))
    p = cli_run.run("show", str(evil))
    cli_run.assert_one_line_error(p, 2, "argument SPEC", "`config.type` must be one of")
    assert "pwned" not in p.stdout


def test_junk_specs_never_print_a_traceback() -> None:
    junk = ["((((", ")", "1for", "cosine(1,0,10)[", "\x00", "ü(1)", "cosine(1.0, 0.0, 10) ** 1e400",
            "warmup(" * 200, "9" * 5000, "from_optax('nope')", "from_transformers('nope', lr=1.0)"]
    code = "import sys\nfrom lrkit._cli import main\nfor s in sys.argv[1:]:\n    print(main(['show', s]))"
    p = subprocess.run([__import__("sys").executable, "-c", code, *[j.replace("\x00", "") for j in junk]],
                       capture_output=True, text=True, env=cli_run.env(), timeout=120)
    assert "Traceback" not in p.stderr, p.stderr
    assert p.stdout.split() == ["2"] * len(junk), (p.stdout, p.stderr)
    assert len(p.stderr.strip().splitlines()) == len(junk), p.stderr


def test_console_script() -> None:
    script = cli_run.console_script()
    if script is None:
        if cli_run.INSTALLED:
            pytest.fail("lrkit is installed but its `lrkit` console script is missing")
        pytest.skip("lrkit runs from the source tree here; the console script exists only when installed")
    p = subprocess.run([script, "show", "cosine(1.0, 0.0, 100)", "--steps", "100", "--every", "50", "--no-chart"],
                       capture_output=True, text=True, env=cli_run.env(), timeout=120)
    assert p.returncode == 0, p.stderr
    assert rows(p.stdout) == [(0, 1.0), (50, pytest.approx(0.5, rel=1e-12)), (100, 0.0)]
    bad = subprocess.run([script, "show", "cosine(1.0, 0.0, 0)"], capture_output=True, text=True,
                         env=cli_run.env(), timeout=120)
    cli_run.assert_one_line_error(bad, 2, "`steps`")


def test_help_and_version() -> None:
    p = cli_run.run("--help")
    assert p.returncode == 0 and "show" in p.stdout and "convert" in p.stdout
    p = cli_run.run("--version")
    assert p.returncode == 0 and lk.__version__ in p.stdout


def first_differing_step(f, g, until: int) -> int | None:
    return next((t for t in range(until + 1) if not math.isclose(f(t), g(t), rel_tol=1e-9, abs_tol=0.0)), None)


def test_diff_keras_vs_transformers_cosine_with_warmup() -> None:
    # "warmup 10, cosine, 100 steps": Keras CosineDecay(warmup_steps=10, decay_steps=100) decays over 100
    # steps after the warmup; transformers' get_cosine_schedule_with_warmup(10, 100) over the remaining 90.
    keras_like = "warmup(cosine(1.0, 0.0, 100), 10)"
    hf_like = "warmup(cosine(1.0, 0.0, 90), 10)"
    p = cli_run.run("diff", keras_like, hf_like, "--steps", "120")
    assert p.returncode == 1, p.stderr  # they differ

    def keras(t: int) -> float:
        return t / 10 if t < 10 else 0.5 * (1 + math.cos(math.pi * min(t - 10, 100) / 100))

    def hf(t: int) -> float:
        return t / 10 if t < 10 else 0.5 * (1 + math.cos(math.pi * min(t - 10, 90) / 90))

    first = first_differing_step(keras, hf, 120)
    assert first == 11
    assert f"first difference at step {first}:" in p.stdout
    gap, at = max((abs(keras(t) - hf(t)), t) for t in range(121))
    assert f"largest gap {gap:.6g} at step {at}:" in p.stdout
    assert round(keras(50), 3) == 0.655 and round(hf(50), 3) == 0.587


def test_diff_identical() -> None:
    p = cli_run.run("diff", "join([linear(0.0, 1.0, 10), cosine(1.0, 0.0, 90)], [10])",
                    "warmup(cosine(1.0, 0.0, 90), 10)")
    assert p.returncode == 0, p.stderr
    assert "identical over steps 0..110" in p.stdout


def test_convert_prints_a_config_that_round_trips() -> None:
    spec = "warmup(cosine(3e-4, 3e-5, 10000), 500, start=3e-6)"
    p = cli_run.run("convert", spec)
    assert p.returncode == 0, p.stderr
    text = p.stdout
    config = json.loads(text[text.index("{"): text.index("\n}\n") + 2])
    assert lk.from_config(config) == lk.warmup(lk.cosine(3e-4, 3e-5, 10000), 500, start=3e-6)
    for fw in ("torch", "keras", "optax"):
        assert f"# ---- {fw} ----" in text
    assert "SequentialLR" in text and "CosineDecay" in text and "warmup_cosine_decay_schedule" in text


def test_convert_says_when_there_is_no_native_equivalent() -> None:
    p = cli_run.run("convert", "inverse_sqrt(1.0, 100)")
    assert p.returncode == 0, p.stderr
    for fw in ("torch", "keras", "optax"):
        assert f"# no native equivalent in {fw}" in p.stdout


def test_compare_without_frameworks_skips_each_with_a_note() -> None:
    pre = "import sys\nfor m in ('torch', 'keras', 'jax', 'optax'):\n    sys.modules[m] = None"
    p = cli_run.run("compare", "cosine(1.0, 0.0, 10)", pre=pre)
    assert p.returncode == 0, p.stderr
    assert "torch  skipped: torch not installed (pip install 'lrkit[torch]')" in p.stdout
    assert "keras  skipped: keras not installed" in p.stdout
    assert "optax  skipped: jax and optax not installed (pip install 'lrkit[jax]')" in p.stdout


def test_import_lrkit_loads_no_matplotlib_and_no_framework() -> None:
    code = ("import sys, lrkit, lrkit._cli, lrkit._plot, lrkit._expr, lrkit._convert\n"
            "s = lrkit.cosine(1.0, 0.0, 10)\n"
            "print(sorted(m for m in ('matplotlib', 'torch', 'keras', 'jax', 'tensorflow') if m in sys.modules))")
    p = subprocess.run([__import__("sys").executable, "-c", code], capture_output=True, text=True,
                       env=cli_run.env(), timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"

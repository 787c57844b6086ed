"""Plots: ``lrkit plot``/``diff -o``/``compare -o`` write real images; ``Schedule.plot`` returns axes;
without matplotlib every plotting path fails with the install hint."""

from __future__ import annotations

import importlib.util

import cli_run
import helpers
import numpy as np
import pytest

import lrkit as lk

HINT = "pip install 'lrkit[plot]'"


def _image(path):
    mpl = helpers.need("matplotlib")
    del mpl
    import matplotlib.image

    return matplotlib.image.imread(str(path))


def _assert_nontrivial_png(path) -> np.ndarray:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img = _image(path)
    assert img.shape[0] >= 300 and img.shape[1] >= 500
    rgb = img[..., :3]
    # A drawn curve: many non-white pixels, several distinct colours, not a blank canvas.
    non_white = (rgb < 0.9).any(axis=-1).mean()
    assert 0.005 < non_white < 0.6, non_white
    assert len(np.unique((rgb * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 20
    return rgb


def _blue_pixels(rgb: np.ndarray) -> np.ndarray:
    """Pixels of matplotlib's first line colour (C0, #1f77b4)."""
    c0 = np.array([0x1F, 0x77, 0xB4]) / 255
    return np.abs(rgb - c0).max(axis=-1) < 0.08


def test_plot_writes_a_png_with_the_curve(tmp_path) -> None:
    helpers.need("matplotlib")
    out = tmp_path / "curve.png"
    p = cli_run.run("plot", "warmup(cosine(3e-4, 3e-5, 10000), 500)", "-o", str(out))
    assert p.returncode == 0, p.stderr
    rgb = _assert_nontrivial_png(out)
    blue = _blue_pixels(rgb)
    assert blue.sum() > 500  # the curve itself
    cols = np.nonzero(blue.any(axis=0))[0]
    assert cols.max() - cols.min() > 0.6 * rgb.shape[1]  # spans the plot horizontally


def test_plot_overlays_several_specs_with_a_legend(tmp_path) -> None:
    helpers.need("matplotlib")
    out = tmp_path / "two.png"
    p = cli_run.run("plot", "cosine(1.0, 0.0, 100)", "linear(1.0, 0.0, 100)", "--log", "--steps", "120",
                    "-o", str(out))
    assert p.returncode == 0, p.stderr
    rgb = _assert_nontrivial_png(out)
    c1 = np.array([0xFF, 0x7F, 0x0E]) / 255  # C1: second curve
    assert _blue_pixels(rgb).sum() > 300
    assert (np.abs(rgb - c1).max(axis=-1) < 0.08).sum() > 300


def test_diff_and_compare_write_plots(tmp_path) -> None:
    helpers.need("matplotlib")
    out = tmp_path / "diff.png"
    p = cli_run.run("diff", "warmup(cosine(1.0, 0.0, 100), 10)", "warmup(cosine(1.0, 0.0, 90), 10)", "-o", str(out))
    assert p.returncode == 1, p.stderr  # they differ
    _assert_nontrivial_png(out)
    out = tmp_path / "compare.png"
    pre = "import sys\nfor m in ('torch', 'keras', 'jax', 'optax', 'tensorflow'):\n    sys.modules[m] = None"
    p = cli_run.run("compare", "cosine(1.0, 0.0, 50)", "-o", str(out), pre=pre)
    assert p.returncode == 0, p.stderr
    _assert_nontrivial_png(out)


def test_schedule_plot_returns_axes_with_the_curve() -> None:
    helpers.need("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = lk.warmup(lk.cosine(1.0, 0.1, 90), 10)
    ax = s.plot(steps=120)
    try:
        line = ax.get_lines()[0]
        x, y = line.get_xdata(), line.get_ydata()
        assert list(x) == list(range(121))
        want = [t / 10 if t < 10 else 0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * min(t - 10, 90) / 90)) for t in x]
        np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-15)
        assert ax.get_xlim() == (0.0, 120.0)
        # breakpoints marked: the warmup end at step 10 (and the decay end at 100)
        vlines = {ln.get_xdata()[0] for ln in ax.get_lines()[1:]}
        assert {10, 100} <= vlines
        # drawing on a given axes returns that axes
        fig, ax2 = plt.subplots()
        assert lk.cosine(1.0, 0.0, 10).plot(ax=ax2, color="k") is ax2
        plt.close(fig)
    finally:
        plt.close("all")


def test_long_schedules_are_sampled_but_keep_every_jump() -> None:
    helpers.need("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = lk.multistep(1.0, [33_333, 77_777], 0.1)
    ax = s.plot(steps=100_000)
    try:
        x = ax.get_lines()[0].get_xdata()
        assert len(x) < 5000
        assert {33_332, 33_333, 77_776, 77_777} <= set(x.tolist())
    finally:
        plt.close("all")


@pytest.mark.parametrize(("command", "status"), [
    (["plot", "cosine(1.0, 0.0, 10)", "-o", "x.png"], 1),
    (["diff", "cosine(1.0, 0.0, 10)", "cosine(1.0, 0.0, 20)", "-o", "x.png"], 2),  # diff: 2 on any error
])
def test_without_matplotlib_the_error_says_how_to_install_it(command, status, tmp_path) -> None:
    helpers.need("core")
    p = cli_run.run(*command, pre="import sys\nsys.modules['matplotlib'] = None", cwd=str(tmp_path))
    cli_run.assert_one_line_error(p, status, "matplotlib", HINT)
    assert not (tmp_path / "x.png").exists()


def test_without_matplotlib_schedule_plot_raises_the_hint() -> None:
    helpers.need("core")
    code = ("import sys\nsys.modules['matplotlib'] = None\nimport lrkit as lk\n"
            "try:\n    lk.cosine(1.0, 0.0, 10).plot()\nexcept ImportError as e:\n    print(type(e).__name__, e)\n")
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_run.env(), timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("BackendUnavailableError") and HINT in p.stdout


def test_bare_env_really_has_no_matplotlib(tmp_path) -> None:
    """In an env without matplotlib (tox `bare`), the real command fails with the hint."""
    helpers.need("core")
    if importlib.util.find_spec("matplotlib") is not None:
        pytest.skip("matplotlib is installed here; the simulated-absence tests above cover this path")
    p = cli_run.run("plot", "cosine(1.0, 0.0, 10)", "-o", "x.png", cwd=str(tmp_path))
    cli_run.assert_one_line_error(p, 1, HINT)


def test_plot_of_a_trillion_steps_is_bounded(tmp_path) -> None:
    helpers.need("matplotlib")
    out = tmp_path / "far.png"
    p = cli_run.run_bounded("plot", f"cosine(1.0, 0.0, {10**12})", "step(1.0, 0.5, 10**6)", "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # step(...) changes value every 10**6 steps: the first 10,000 changes are drawn exactly, and it says so.
    assert p.stderr.strip() == ("lrkit plot: note: a curve has 10000 or more breakpoints: the first 10000 are "
                                "drawn exactly (b-1, b), the rest at screen resolution")

"""SPEC section 9 on the command line: ``--total-steps``, the new forms in SPECs, and ``lrkit convert``'s
transformers / composer / timm sections, run with the real libraries where they are installed."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import os
import sys
import types
from decimal import Decimal

import cli_run
import helpers
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli_convert import split

import lrkit as lk
from lrkit._cli import main
from lrkit._expr import parse

RECIPE = "warmup(cosine(3e-4, 0.0, '95%'), '5%')"


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_specs_accept_the_new_forms() -> None:
    helpers.need("core")
    assert parse(RECIPE) == lk.warmup(lk.cosine(3e-4, 0.0, "95%"), "5%")
    assert parse("cooldown(constant(1.0), '80%', '20%', shape='square')").unbound
    assert parse("per_tokens(cosine(1.0, 0.0, 10**6), rounded(linear(8.0, 64.0, 100)))") == lk.per_tokens(
        lk.cosine(1.0, 0.0, 10**6), lk.rounded(lk.linear(8.0, 64.0, 100)))
    assert parse("stretch(warmup(cosine(1.0, 0.0, 90), 10), 2)") == lk.warmup(lk.cosine(1.0, 0.0, 180), 20)
    assert parse("warmup_stable_decay(1.0, '5%', '75%', '20%', shape='square')").bind(100).decay == 20


def test_show_binds_total_steps_and_refuses_without_it() -> None:
    helpers.need("core")
    code, out, _ = cli("show", RECIPE, "--total-steps", "1000", "--every", "25", "--no-chart")
    assert code == 0
    rows = dict(line.split() for line in out.splitlines()[1:])
    assert float(rows["25"]) == pytest.approx(1.5e-4) and float(rows["50"]) == pytest.approx(3e-4)
    assert list(rows)[-1] == "1100"  # the bound schedule's duration + 10%
    code, _, err = cli("show", RECIPE)
    assert code == 2 and "--total-steps" in err and "'5%'" in err and "Traceback" not in err
    code, _, err = cli("show", "cosine(1.0, 0.0, '1%')", "--total-steps", "10")
    assert code == 2 and "argument --total-steps" in err and "total_steps=10" in err
    p = cli_run.run("show", RECIPE, "--total-steps", "0")
    assert p.returncode == 2 and "total-steps" in p.stderr


def test_diff_and_compare_take_total_steps() -> None:
    helpers.need("core")
    code, out, _ = cli("diff", RECIPE, "warmup(cosine(3e-4, 0.0, 950), 50)", "--total-steps", "1000")
    assert code == 0 and "identical" in out
    code, out, _ = cli("diff", RECIPE, "warmup(cosine(3e-4, 0.0, 950), 50)", "--total-steps", "999")
    assert code == 1
    code, _, err = cli("diff", RECIPE, RECIPE)
    assert code == 2 and "SPEC_A" in err and "--total-steps" in err
    code, out, _ = cli("compare", RECIPE, "--total-steps", "200", "--steps", "220")
    assert code == 0 and "schedule: warmup(cosine(0.0003, 0.0, 190), 10)" in out


def test_plot_takes_total_steps(tmp_path) -> None:  # type: ignore[no-untyped-def]
    helpers.need("matplotlib")
    code, _, err = cli("plot", RECIPE, "--total-steps", "500", "-o", str(tmp_path / "p.png"))
    assert code == 0, err
    assert (tmp_path / "p.png").stat().st_size > 0
    code, _, err = cli("plot", RECIPE, "-o", str(tmp_path / "q.png"))
    assert code == 2 and "--total-steps" in err


def test_subprocess_total_steps_error_is_one_line() -> None:
    helpers.need("core")
    p = cli_run.run("show", RECIPE)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "--total-steps" in p.stderr


def convert(*args: str) -> dict[str, str]:
    code, out, err = cli("convert", *args)
    assert code == 0, err
    return split(out)


def test_convert_keeps_percentages_and_asks_for_total_steps() -> None:
    helpers.need("core")
    code, out, _ = cli("convert", RECIPE)
    assert code == 0 and '"steps": "5%"' in out
    sections = split(out)
    for fw in ("torch", "keras", "optax"):
        assert "--total-steps" in sections[fw]
    assert "warmup_steps=0.05" in sections["transformers"] and "'0.05dur'" in sections["composer"]
    assert "--total-steps" in sections["timm"]
    bound = convert(RECIPE, "--total-steps", "1000")
    assert "warmup_steps=50, decay_steps=1000" in bound["optax"]
    assert "identical to lrkit for total_steps=1000" in bound["transformers"]
    assert "no transformers equivalent" in convert("cosine_restarts(1.0, 0.0, 10)")["transformers"]


def hf_curve(section: str, n: int, steps: list[int], tmp_path) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The printed ``TrainingArguments``, scheduled the way ``Trainer`` does, stepped like a torch loop."""
    import torch
    import transformers

    ns: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(section, "<lrkit convert: transformers>", "exec"), ns)  # the code under test
    finally:
        os.chdir(cwd)
    args = ns["args"]
    total = args.max_steps if args.max_steps > 0 else n
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=args.learning_rate)
    sched = transformers.get_scheduler(args.lr_scheduler_type, opt, num_warmup_steps=args.get_warmup_steps(total),
                                       num_training_steps=total)
    lrs = []
    for _ in range(max(steps) + 1):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.asarray(lrs)[steps]


@settings(max_examples=20, deadline=None)
@given(n=st.integers(20, 3000), w=st.sampled_from(["2.5%", "5%", "10%", "12.5%", "30%"]),
       kind=st.sampled_from(["cosine", "linear", "constant"]))
def test_transformers_snippet_matches_where_it_says_so(n: int, w: str, kind: str, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    helpers.need("transformers")
    rest = f"{100 - float(w[:-1])!r}%"
    body = {"cosine": f"cosine(0.1, 0.0, '{rest}')", "linear": f"linear(0.1, 0.0, '{rest}')", "constant": "constant(0.1)"}[kind]
    spec = f"warmup({body}, '{w}')"
    section = convert(spec, "--total-steps", str(n))["transformers"]
    bound = parse(spec).bind(n)
    steps = sorted({0, 1, bound.steps - 1, bound.steps, bound.steps + 1, n // 2, n - 1, n})
    got = hf_curve(section, n, steps, tmp_path_factory.mktemp("hf"))
    ratio = float(w[:-1]) / 100
    if "identical to lrkit" in section:
        np.testing.assert_allclose(got, bound(np.asarray(steps, dtype=np.float64)), rtol=1e-9, atol=1e-15)
    else:  # it says transformers warms up for a different number of steps: so it does
        assert math.ceil(n * ratio) != bound.steps
        assert f"warms up for {math.ceil(n * ratio)} steps" in section


def test_transformers_snippet_in_steps_is_exact(tmp_path) -> None:  # type: ignore[no-untyped-def]
    helpers.need("transformers")
    spec = "warmup(linear(0.02, 0.0, 170), 30)"
    section = convert(spec)["transformers"]
    assert "max_steps=200" in section
    steps = [*list(range(0, 201, 7)), 29, 30, 31, 199, 200]
    np.testing.assert_allclose(hf_curve(section, 200, steps, tmp_path), parse(spec)(np.asarray(steps)), rtol=1e-9,
                               atol=1e-15)


@given(n=st.integers(1, 10**9), p=st.integers(1, 999))
def test_composer_claims_follow_composers_truncation(n: int, p: int) -> None:
    """composer is not installed here: its rule, from composer/optim/scheduler.py ``_convert_time``, is
    ``int(value * max_duration)`` for a ``"<value>dur"`` time, written out in this test."""
    helpers.need("core")
    w, rest = Decimal(p) / 10, 100 - Decimal(p) / 10
    spec = f"warmup(cosine(1.0, 0.0, '{rest}%'), '{w}%')"
    s = parse(spec)
    try:
        bound = s.bind(n)
    except ValueError:
        return  # a piece rounds to 0 steps: lrkit refuses, nothing to convert
    section = convert(spec, "--total-steps", str(n))["composer"]
    theirs = int(float(f"{p / 1000!r}") * n)
    assert ("identical to lrkit" in section) == (theirs == bound.steps)


def _updates_per_epoch(section: str) -> int:
    import re

    m = re.search(r"updates_per_epoch=(\d+)", section)
    return int(m.group(1)) if m else 1


def _timm_scheduler_module() -> types.ModuleType:
    """``timm.scheduler`` without running ``timm/__init__.py`` (which imports torchvision, a CUDA build
    that cannot load beside the CPU torch of this environment)."""
    if "timm" not in sys.modules:
        spec = importlib.util.find_spec("timm")
        assert spec is not None
        sys.modules["timm"] = importlib.util.module_from_spec(spec)  # the package, its __init__ not run
    import timm.scheduler

    return timm.scheduler


@pytest.mark.parametrize("spec", [
    "warmup(cosine(0.1, 0.001, 40), 8)",
    "warmup(cosine(0.1, 0.0, '80%'), '20%')",
    "warmup(linear(0.1, 0.002, 30), 6, start=0.01)",
    "cosine(0.1, 0.01, 25)",
    "join([linear(0.0, 0.1, 5), cosine(0.1, 0.0, 20)], [5])",
    "warmup(multistep(0.1, ['20%', '60%'], 0.5), '10%')",
    "per_epoch(step(0.1, 0.5, 2), 7)",
])
def test_timm_snippet_reproduces_the_curve_with_real_timm(spec: str) -> None:
    helpers.need("timm")
    _timm_scheduler_module()
    section = convert(spec, "--total-steps", "50")["timm"]
    ns: dict = {}
    exec(compile(section, "<lrkit convert: timm>", "exec"), ns)  # the code under test
    opt, sched = ns["optimizer"], ns["scheduler"]
    upe = ns["updates_per_epoch"] if "updates_per_epoch" in ns else _updates_per_epoch(section)
    lrs = []
    for k in range(80):  # past the end too, stepped as timm's train loop steps
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step_update(num_updates=k + 1)
        if (k + 1) % upe == 0:
            sched.step((k + 1) // upe)
    want = parse(spec).bind(50)(np.arange(80))
    np.testing.assert_allclose(lrs, want, rtol=1e-9, atol=1e-15)

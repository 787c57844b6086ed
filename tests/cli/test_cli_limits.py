"""The command line stays bounded whatever its arguments (SPEC section 11).

Every command here runs in a subprocess under a wall-time limit and an address-space limit
(``cli_run.run_bounded``: ``resource.setrlimit`` in ``preexec_fn``), the way a user's shell would run
it, and the test checks either the one-line error or the cap message on stderr.
"""

from __future__ import annotations

import math

import cli_run
import helpers
import pytest

helpers.need("core")

T = 10**12


def rows(stdout: str) -> list[tuple[str, str]]:
    lines = stdout.split("\n\n")[0].strip().splitlines()
    assert lines[0].split() == ["step", "lr"]
    return [tuple(ln.split()) for ln in lines[1:]]  # type: ignore[misc]


def cosine(t: int, start: float, end: float, n: int) -> float:
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * min(t, n) / n))


def test_show_caps_rows_and_says_so() -> None:
    p = cli_run.run_bounded("show", f"cosine(1.0, 0.0, {T})", "--steps", str(T), "--every", "1")
    assert p.returncode == 0, p.stderr
    got = rows(p.stdout)
    assert len(got) <= 10_000
    every = int(got[1][0])
    assert got[0][0] == "0" and got[-1][0] == str(T) and every > 1
    for step, lr in got[:: len(got) // 7]:
        assert step.isdigit()  # integer labels, never 1e+12 or 100000000000.0
        assert math.isclose(float(lr), cosine(int(step), 1.0, 0.0, T), rel_tol=1e-9, abs_tol=1e-15)
    err = p.stderr.strip()
    assert len(err.splitlines()) == 1
    assert err == (f"lrkit show: note: --every 1 would print {T + 1} rows; printing one row every "
                   f"{every} steps instead (at most 10000 rows)")
    assert "\n\n" in p.stdout  # the chart is drawn too


def test_show_at_the_largest_step_prints_integer_labels() -> None:
    p = cli_run.run_bounded("show", "cosine(1.0, 0.0, 10)", "--steps", str(2**53), "--no-chart")
    assert p.returncode == 0, p.stderr
    got = rows(p.stdout)
    assert got[-1] == (str(2**53), "0")
    assert all(step.isdigit() for step, _ in got)
    assert p.stderr == ""


@pytest.mark.parametrize("value", [str(2**63), str(2**53 + 1), "9" * 5000, "1e400", "inf", "nan", "-5", "0", "2.5"])
@pytest.mark.parametrize("command", ["show", "plot", "diff"])
def test_steps_out_of_range_is_one_line(command: str, value: str) -> None:
    specs = ["cosine(1.0, 0.0, 10)"] * (2 if command == "diff" else 1)
    p = cli_run.run_bounded(command, *specs, "--steps", value)
    err = cli_run.assert_one_line_error(p, 2, "argument --steps")
    assert ("at most 2**53" in err) == (value in (str(2**63), str(2**53 + 1)))


def test_steps_accepts_an_integral_float() -> None:
    p = cli_run.run_bounded("show", "linear(1.0, 0.0, 1e4)", "--steps", "1e4", "--every", "5e3", "--no-chart")
    assert p.returncode == 0, p.stderr
    assert rows(p.stdout) == [("0", "1"), ("5000", "0.5"), ("10000", "0")]


def first_over(f, g, rtol: float, until: int) -> int:
    return next(t for t in range(until) if abs(f(t) - g(t)) > rtol * max(abs(f(t)), abs(g(t))))


def test_diff_over_a_trillion_steps_is_sampled_and_exact_where_it_first_differs() -> None:
    p = cli_run.run_bounded("diff", f"cosine(1.0, 0.0, {T})", f"linear(1.0, 0.0, {T})")
    assert p.returncode == 1, p.stderr  # they differ
    err = p.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"lrkit diff: note: {T + T // 10 + 1} steps are more "
                                                         "than 10000000: compared ")
    n = int(err.split("compared ")[1].split()[0])
    assert n <= 10_000_000
    # Written separately: the first step where cosine and linear part by more than rtol=1e-9.
    first = first_over(lambda t: cosine(t, 1.0, 0.0, T), lambda t: 1.0 - t / T, 1e-9, 10_000)
    assert f"first difference at step {first}: " in p.stdout
    assert "(sampled" not in p.stdout.splitlines()[2]  # found exactly, not just bracketed


def test_diff_finds_a_one_step_difference_at_a_far_breakpoint() -> None:
    b = 10**11 + 12_345
    p = cli_run.run_bounded("diff", f"piecewise_constant([{b}], [1.0, 0.5])",
                            f"piecewise_constant([{b + 1}], [1.0, 0.5])", "--steps", str(T))
    assert p.returncode == 1, p.stderr
    assert p.stdout.splitlines()[2] == f"first difference at step {b}: A=0.5 B=1"
    assert p.stdout.splitlines()[3] == f"largest gap 0.5 at step {b}: A=0.5 B=1"
    assert "note: " in p.stderr


def test_diff_of_equal_schedules_over_a_trillion_steps_exits_0() -> None:
    p = cli_run.run_bounded("diff", f"warmup(cosine(1.0, 0.0, {T}), 10)",
                            f"join([linear(0.0, 1.0, 10), cosine(1.0, 0.0, {T})], [10])", "--steps", str(T))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[2] == f"identical over steps 0..{T} (sampled) (largest gap 0)"


@pytest.mark.parametrize("rtol", ["nan", "inf", "-inf", "-1", "x", ""])
def test_diff_refuses_a_bad_rtol(rtol: str) -> None:
    p = cli_run.run_bounded("diff", "cosine(1.0, 0.0, 10)", "cosine(1.0, 0.0, 10)", f"--rtol={rtol}")
    cli_run.assert_one_line_error(p, 2, "argument --rtol", "finite non-negative", f"rtol={rtol!r}")


def test_diff_exit_status_follows_diff() -> None:
    same = cli_run.run_bounded("diff", "cosine(1.0, 0.0, 10)", "cosine(1.0, 0.0, 10)")
    assert same.returncode == 0 and same.stderr == ""
    loose = cli_run.run_bounded("diff", "cosine(1.0, 0.0, 10)", "cosine(1.0, 0.0, 11)", "--rtol", "1")
    assert loose.returncode == 0, loose.stdout
    differ = cli_run.run_bounded("diff", "cosine(1.0, 0.0, 10)", "cosine(1.0, 0.0, 11)")
    assert differ.returncode == 1 and differ.stderr == ""
    bad = cli_run.run_bounded("diff", "cosine(1.0, 0.0, 10)", "cosine(1.0, 0.0, 0)")
    cli_run.assert_one_line_error(bad, 2, "argument SPEC_B")


@pytest.mark.parametrize("spec", ["-cosine(1.0, 0.0, 10)", "-cosine(1.0,0.0,10)", "-1*cosine(1.0,0.0,10)"])
def test_a_spec_starting_with_a_dash(spec: str) -> None:
    p = cli_run.run_bounded("show", spec)
    err = cli_run.assert_one_line_error(p, 2, "argument SPEC")
    if " " not in spec:  # argparse would read it as an option: the message says to use `--`
        assert f"lrkit show -- {spec!r}" in err
    p = cli_run.run_bounded("show", "--", spec)
    cli_run.assert_one_line_error(p, 2, "argument SPEC")  # read as a SPEC, refused as one (no negative values)


def test_a_misspelled_option_gets_a_suggestion() -> None:
    p = cli_run.run_bounded("show", "cosine(1.0, 0.0, 10)", "--stpes", "10")
    cli_run.assert_one_line_error(p, 2, "unrecognized option '--stpes'", "Did you mean --steps?")


def test_a_misspelled_keyword_gets_a_suggestion() -> None:
    p = cli_run.run_bounded("show", "cosine(1.0, 0.0, stesp=10)")
    cli_run.assert_one_line_error(p, 2, "argument SPEC", "stesp", "Did you mean 'steps'?")


@pytest.mark.parametrize("name", ["good.jsn", "configs/run.json", "./sched", "a/b"])
def test_a_missing_file_is_named_as_a_missing_file(name: str, tmp_path) -> None:
    p = cli_run.run_bounded("show", name, cwd=str(tmp_path))
    cli_run.assert_one_line_error(p, 2, "argument SPEC", f"file {name!r} does not exist")


def test_a_directory_or_device_is_not_a_config(tmp_path) -> None:
    cli_run.assert_one_line_error(cli_run.run_bounded("show", str(tmp_path)), 2, "is not a regular file")
    cli_run.assert_one_line_error(cli_run.run_bounded("show", "/dev/zero"), 2, "is not a regular file")


@pytest.mark.parametrize("spec", ["cosine(1.0, 0.0, 10**4096)", "cosine(1.0, 0.0, 2**5000)", "cosine(1e400, 0.0, 10)",
                                  "warmup(" * 120 + "constant(1.0)" + ", 1)" * 120])
def test_numbers_and_nesting_in_expressions_are_limited(spec: str) -> None:
    p = cli_run.run_bounded("show", spec)
    cli_run.assert_one_line_error(p, 2, "argument SPEC")


def test_diff_of_big_schedules_samples_fewer_steps() -> None:
    # 100 nodes per schedule: each step costs 100 evaluations, so fewer steps are sampled (the work,
    # not the step count, is what stays bounded); every sampled step is still exact.
    spec = " * ".join(f"step(1.0, 0.999, {k})" for k in range(1, 101))
    other = " * ".join(f"step(1.0, 0.999, {k})" for k in range(1, 100)) + " * step(1.0, 0.998, 100)"
    p = cli_run.run_bounded("diff", spec, other, "--steps", str(T))
    assert p.returncode == 1, p.stderr
    n = int(p.stderr.split("steps are more than ")[1].split(":")[0])
    assert 10_000 <= n < 1_000_000
    # The last factors first differ at step 100, where step(1.0, 0.999/0.998, 100) first decays.
    assert p.stdout.splitlines()[2].startswith("first difference at step 100: ")

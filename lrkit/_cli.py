"""The ``lrkit`` command line (also ``python -m lrkit``).

Commands::

    lrkit show SPEC [--steps N] [--every K]        rows `step lr`, then a terminal chart
    lrkit plot SPEC [SPEC ...] [--steps N] [-o FILE.png] [--log]
    lrkit compare SPEC [--steps N] [-o FILE.png]   every installed adapter vs the float64 reference
    lrkit diff SPEC_A SPEC_B [--steps N] [-o FILE.png]
    lrkit convert SPEC                             JSON config and native torch/Keras/optax code

Every command takes ``--total-steps N``, the run's number of optimizer updates, which resolves
durations written as percentages of the run (``"warmup(cosine(3e-4, 0.0, '95%'), '5%')"``); a SPEC
with percentages needs it, except for ``convert``, which then prints the natives that take a fraction
of the run themselves (transformers' ``warmup_ratio``, composer's ``dur`` time strings).

``SPEC`` is a path to a JSON file written from ``Schedule.to_config()`` or an expression over
lrkit's constructors, e.g. ``"warmup(cosine(3e-4, 3e-5, 10000), 500)"`` (see ``lrkit._expr``; it
is parsed, never evaluated). A SPEC that starts with ``-`` goes after ``--``. Every failure is one
line on stderr and a non-zero exit status: 2 for bad usage (options, SPECs, constructor arguments),
1 for anything else (a missing optional dependency, an unwritable file, an adapter that disagrees).
``diff`` follows ``diff``'s convention: 0 when the schedules are equal, 1 when they differ, 2 on any
error.

Every command finishes in bounded time and memory whatever its arguments (SPEC section 11):
``--steps`` is at most ``2**53``, ``show`` prints at most ``MAX_ROWS`` rows and ``diff``/``plot``
evaluate at most ``MAX_SAMPLES`` steps, always including every breakpoint ``b - 1``, ``b``, ``b + 1``;
a command that caps says so on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from typing import Any, NoReturn

import numpy as np

from lrkit._plot import MAX_STEPS

USAGE_ERROR = 2
FAILURE = 1
#: ``lrkit diff``: the schedules differ (``diff``'s convention).
DIFFERENT = 1

#: Most rows ``lrkit show`` prints.
MAX_ROWS = 10_000
#: Largest JSON config file read (bytes); a config holds at most 1,000,000 numbers.
MAX_CONFIG_BYTES = 64 * 1024 * 1024


class UsageError(Exception):
    """Bad input from the command line: exit status 2."""


class Failure(Exception):
    """The command could not do its job: exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage block
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _note(command: str, message: str) -> None:
    print(f"lrkit {command}: note: {message}", file=sys.stderr)


def _positive_int(name: str) -> Any:
    def parse(text: str) -> int:
        t = text.strip().replace("_", "")
        try:
            v = int(t)
        except ValueError:
            try:  # an integral float such as 1e4 is the integer it equals (SPEC section 7)
                f = float(t) if len(t) <= 40 else math.nan
                v = int(f) if math.isfinite(f) and f == int(f) else 0
            except ValueError:
                v = 0
        if v <= 0:
            raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {name}={text!r}")
        if v > MAX_STEPS:
            raise argparse.ArgumentTypeError(
                f"must be at most 2**53 ({MAX_STEPS}). Received: {name}={text if len(text) < 40 else text[:37] + '...'}"
            )
        return v

    return parse


def _tolerance(name: str) -> Any:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and v >= 0):
            raise argparse.ArgumentTypeError(f"must be a finite non-negative number. Received: {name}={text!r}")
        return v

    return parse


# -- SPECs --------------------------------------------------------------------------------------


def load_spec(text: str, arg: str = "SPEC") -> Any:
    """A schedule from a SPEC: a JSON config file (``to_config()``) or an expression.

    Raises:
      UsageError: naming ``arg``, for any bad SPEC (unreadable file, bad JSON, refused expression,
        constructor arguments the constructor refuses).
    """
    import lrkit as lk
    from lrkit import _expr

    try:
        if os.path.isfile(text) or _looks_like_a_path(text):
            if not os.path.exists(text):
                raise UsageError(
                    f"argument {arg}: file {text!r} does not exist (a SPEC is a JSON config file or an "
                    "expression such as 'cosine(3e-4, 3e-5, 10000)')"
                )
            try:
                if not os.path.isfile(text):
                    raise UsageError(f"argument {arg}: {text!r} is not a regular file (a JSON config file)")
                if os.path.getsize(text) > MAX_CONFIG_BYTES:
                    raise UsageError(f"argument {arg}: {text!r} is larger than {MAX_CONFIG_BYTES >> 20} MiB")
                with open(text, encoding="utf-8") as f:
                    config = json.loads(f.read(MAX_CONFIG_BYTES + 1))
            except OSError as e:
                raise UsageError(f"argument {arg}: cannot read {text!r}: {e.strerror or e}") from None
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise UsageError(f"argument {arg}: {text!r} is not a JSON config: {e}") from None
            except ValueError as e:  # e.g. an integer with more digits than Python converts
                raise UsageError(f"argument {arg}: {text!r} is not a JSON config: {_one_line(e)}") from None
            return lk.from_config(config)
        return _expr.parse(text)
    except UsageError:
        raise
    except RecursionError:
        raise UsageError(f"argument {arg}: the SPEC is nested too deeply") from None
    except Exception as e:  # a constructor's own ValueError/TypeError, a port not available...
        msg = _one_line(e)
        raise UsageError(f"argument {arg}: {msg.removeprefix('SPEC: ')}") from None


_PATHLIKE = re.compile(r"[\\/]|\.[A-Za-z][A-Za-z0-9]*$")


def _looks_like_a_path(text: str) -> bool:
    """No call and a slash or a file extension: no expression builds a schedule without a call."""
    t = text.strip()
    return "(" not in t and bool(_PATHLIKE.search(t))


def bind_run(schedule: Any, args: argparse.Namespace, arg: str = "SPEC") -> Any:
    """``schedule`` with its percentages of the run resolved by ``--total-steps`` (SPEC section 9).

    Raises:
      UsageError: the schedule has percentages and ``--total-steps`` is missing, or a percentage
        resolves to a duration the schedule refuses.
    """
    n = getattr(args, "total_steps", None)
    if n is None:
        if schedule.unbound:
            from lrkit._base import _percent_text

            raise UsageError(
                f"argument {arg}: the schedule has {_percent_text(schedule)}; pass --total-steps N, "
                "the number of optimizer updates in the run"
            )
        return schedule
    try:
        return schedule.bind(n)
    except ValueError as e:
        raise UsageError(f"argument --total-steps: {_one_line(e)}") from None


def _one_line(e: BaseException) -> str:
    msg = " ".join(str(e).split())
    if not msg:
        msg = type(e).__name__
    return msg if len(msg) <= 600 else msg[:597] + "..."


def _steps_for(schedules: list[Any], steps: int | None) -> int:
    from lrkit._plot import default_steps

    if steps is not None:
        return steps
    settled = [default_steps(s) for s in schedules if s.duration is not None]
    return min(MAX_STEPS, max(settled) if settled else max(default_steps(s) for s in schedules))


# -- show ---------------------------------------------------------------------------------------

_BLOCKS = " ▁▂▃▄▅▆▇█"


def chart(schedule: Any, steps: int, width: int = 64, height: int = 10) -> str:
    """A unicode block chart of ``schedule`` over ``[0, steps]``: each column shows its largest value."""
    from lrkit._plot import sample_steps

    xs = sample_steps(schedule, steps)
    ys = np.asarray(schedule(xs), dtype=np.float64)
    width = max(2, min(width, steps + 1))
    cols = np.minimum((xs * width) // (steps + 1), width - 1)
    top = np.full(width, -np.inf)
    np.maximum.at(top, cols, ys)
    top = np.where(np.isfinite(top), top, np.nan)
    # Columns with no sample (fewer samples than columns) take the previous column's value.
    for i in range(width):
        if np.isnan(top[i]):
            top[i] = top[i - 1] if i else ys[0]
    lo, hi = float(np.min(ys)), float(np.max(ys))
    span = hi - lo
    if span <= 0:
        height = 1  # a flat curve needs one row
    rows = []
    for r in range(height):
        level = height - 1 - r  # 0 = bottom row
        if span > 0:
            fill = np.clip((top - lo) / span * (height - 1) + 1 - level, 0.0, 1.0)
        else:
            fill = np.full(width, 1.0 if level == 0 else 0.0)
        rows.append("".join(_BLOCKS[round(float(f) * 8)] for f in fill))
    lab_hi, lab_lo = f"{hi:.3g}", f"{lo:.3g}"
    pad = max(len(lab_hi), len(lab_lo))
    out = []
    for r, row in enumerate(rows):
        label = lab_lo if r == height - 1 else lab_hi if r == 0 else ""
        out.append(f"{label:>{pad}} │{row}".rstrip())
    out.append(" " * pad + " └" + "─" * width)
    right = f"{steps}"
    out.append(" " * pad + "  0" + right.rjust(width - 1))
    return "\n".join(out)


def cmd_show(args: argparse.Namespace) -> int:
    """``lrkit show``: rows ``step lr`` for steps 0, K, 2K, ... and N, then a unicode chart."""
    s = bind_run(load_spec(args.spec), args)
    steps = _steps_for([s], args.steps)
    every = args.every if args.every is not None else max(1, steps // 20)
    rows = steps // every + 1 + (steps % every != 0)
    if rows > MAX_ROWS:
        wanted = every
        every = -(-steps // (MAX_ROWS - 2))  # then steps // every <= MAX_ROWS - 2: at most MAX_ROWS rows
        _note("show", f"--every {wanted} would print {rows} rows; printing one row every {every} steps "
                      f"instead (at most {MAX_ROWS} rows)")
    width = max(4, len(str(steps)))
    print(f"{'step':>{width}}  lr")
    chunk = 100_000 * every  # rows are computed and printed in blocks: --every 1 over 1e9 steps streams
    for lo in range(0, steps + 1, chunk):
        xs = np.arange(lo, min(lo + chunk, steps + 1), every, dtype=np.int64)
        if lo + chunk > steps and xs[-1] != steps:
            xs = np.append(xs, steps)
        ys = s(xs.astype(np.float64))
        print("\n".join(f"{x:>{width}}  {float(y):.10g}" for x, y in zip(xs.tolist(), ys.tolist())))
    if not args.no_chart:
        print()
        print(chart(s, steps))
    return 0


# -- plot ---------------------------------------------------------------------------------------


def _save_or_show(fig: Any, out: str | None) -> None:
    from lrkit._plot import _has_display, require_matplotlib

    plt = require_matplotlib()
    if out is None:
        if not _has_display():
            raise UsageError("argument -o/--output: no display is available; pass -o FILE.png to write the plot")
        plt.show()
        return
    try:
        fig.savefig(out, dpi=120)
    except (OSError, ValueError) as e:
        raise Failure(f"argument -o/--output: cannot write {out!r}: {_one_line(e)}") from None
    finally:
        plt.close(fig)
    print(f"wrote {out}")


def cmd_plot(args: argparse.Namespace) -> int:
    """``lrkit plot``: one matplotlib figure with every SPEC overlaid."""
    from lrkit._plot import figure, require_matplotlib

    names = [f"SPEC #{i + 1}" if len(args.spec) > 1 else "SPEC" for i in range(len(args.spec))]
    schedules = [(text, bind_run(load_spec(text, name), args, name)) for text, name in zip(args.spec, names)]
    require_matplotlib()
    steps = _steps_for([s for _, s in schedules], args.steps)
    from lrkit._plot import PLOT_BREAKPOINTS

    if any(len(s.breakpoints(steps + 1)) >= PLOT_BREAKPOINTS for _, s in schedules):
        _note("plot", f"a curve has {PLOT_BREAKPOINTS} or more breakpoints: the first {PLOT_BREAKPOINTS} are drawn "
                      "exactly (b-1, b), the rest at screen resolution")
    fig = figure(schedules, steps, log=args.log)
    _save_or_show(fig, args.output)
    return 0


# -- diff ---------------------------------------------------------------------------------------


#: Steps evaluated per pass (float64 temporaries stay small).
_CHUNK = 1 << 20
#: Largest gap between two samples that ``diff`` scans step by step to find where a difference begins.
_REFINE = 1_000_000


class _Gaps:
    """Running comparison of two schedules over increasing batches of steps."""

    def __init__(self, a: Any, b: Any, rtol: float, atol: float, refine: int) -> None:
        self.a, self.b, self.rtol, self.atol, self.refine = a, b, rtol, atol, refine
        self.first: int | None = None
        self.after = -1  # the sample before ``first`` (``first - 1`` when ``first`` is exact)
        self.gap, self.at, self.last = -1.0, 0, -1

    def bad(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ya, yb = self.a(xs.astype(np.float64)), self.b(xs.astype(np.float64))
        d = np.abs(ya - yb)
        return d, d > self.atol + self.rtol * np.maximum(np.abs(ya), np.abs(yb))

    def feed(self, xs: np.ndarray) -> None:
        if not len(xs):
            return
        d, bad = self.bad(xs)
        if self.first is None and bad.any():
            j = int(np.argmax(bad))
            prev = int(xs[j - 1]) if j else self.last
            first, after = int(xs[j]), prev
            if first - prev > 1 and first - prev - 1 <= self.refine:  # a sampled gap: find where it begins
                between = np.arange(prev + 1, first, dtype=np.int64)
                _, inner = self.bad(between)
                if inner.any():
                    first = int(between[int(np.argmax(inner))])
                after = first - 1
            self.first, self.after = first, after
        i = int(np.argmax(d))
        if d[i] > self.gap:
            self.gap, self.at = float(d[i]), int(xs[i])
        self.last = int(xs[-1])


def first_difference(
    a: Any, b: Any, steps: int, rtol: float = 1e-9, atol: float = 0.0, max_samples: int | None = None
) -> dict[str, Any]:
    """Compare two schedules over ``[0, steps]``: at every step, or at most ``max_samples`` steps.

    Up to ``max_samples`` steps every step is compared. Beyond, the comparison covers every
    breakpoint ``b - 1``, ``b``, ``b + 1`` of either schedule (where pieces change) and evenly spread
    steps in between; where a difference first shows at a sample, the gap before it is scanned step
    by step (if at most ``_REFINE`` steps long, fewer for big schedules) so ``first`` is the first
    differing step there. ``max_samples`` defaults to ``MAX_SAMPLES``, fewer for schedules of many
    nodes (``lrkit._plot.sample_budget``), so the work stays bounded whatever the schedules.

    Returns:
      A dict with ``first`` (first step where ``|a - b| > atol + rtol * max(|a|, |b|)``, or
      ``None``), ``exact`` (``False`` when ``first`` could start after step ``after`` only),
      ``gap``/``at`` (the largest ``|a - b|`` found and the first step where it occurs), ``sampled``
      (the number of steps compared when not every step was, else ``None``) and ``capped`` (some
      schedule had more breakpoints than were included).
    """
    from lrkit._plot import sample_budget

    if max_samples is None:
        max_samples = sample_budget([a, b])
    refine = min(_REFINE, max_samples // 10)
    g = _Gaps(a, b, rtol, atol, refine)
    sampled, capped = None, False
    if steps + 1 <= max_samples:
        for lo in range(0, steps + 1, _CHUNK):
            g.feed(np.arange(lo, min(steps + 1, lo + _CHUNK), dtype=np.int64))
    else:
        from lrkit._plot import sorted_unique, special_steps, uniform_steps

        special, capped = special_steps([a, b], steps, limit=max_samples // 10)
        n = max(2, max_samples - len(special) - refine)
        sampled, start = 0, 0
        for lo in range(0, n, _CHUNK):
            grid = uniform_steps(steps, n, lo, min(n, lo + _CHUNK))
            top = steps if lo + _CHUNK >= n else int(grid[-1])
            stop = int(np.searchsorted(special, top, side="right"))
            xs = sorted_unique(np.concatenate([grid, special[start:stop]]))
            start = stop
            sampled += len(xs)
            g.feed(xs)
    exact = g.first is None or g.after == g.first - 1
    return {"first": g.first, "exact": exact, "after": g.after, "gap": g.gap, "at": g.at,
            "sampled": sampled, "capped": capped}


def cmd_diff(args: argparse.Namespace) -> int:
    """``lrkit diff``: the first step where two schedules differ and their largest gap.

    Exit status 0 when they are equal within ``--rtol``, 1 when they differ, 2 on error.
    """
    a = bind_run(load_spec(args.spec_a, "SPEC_A"), args, "SPEC_A")
    b = bind_run(load_spec(args.spec_b, "SPEC_B"), args, "SPEC_B")
    steps = _steps_for([a, b], args.steps)
    from lrkit._plot import sample_budget

    budget = sample_budget([a, b])
    r = first_difference(a, b, steps, rtol=args.rtol, max_samples=budget)
    if r["sampled"] is not None:
        more = " (the first ones only: too many to list)" if r["capped"] else ""
        _note("diff", f"{steps + 1} steps are more than {budget}: compared {r['sampled']} of them, "
                      f"every breakpoint b-1, b, b+1 of either schedule{more} and evenly spread steps between")
    print(f"A: {args.spec_a}")
    print(f"B: {args.spec_b}")
    over = f"steps 0..{steps}" + (" (sampled)" if r["sampled"] is not None else "")
    if r["first"] is None:
        print(f"identical over {over} (largest gap {r['gap']:.3g})")
    else:
        f, g = r["first"], r["at"]
        where = f"{f}" if r["exact"] else f"{f} (sampled: it begins after step {r['after']})"
        print(f"first difference at step {where}: A={a(f):.10g} B={b(f):.10g}")
        print(f"largest gap {r['gap']:.6g} at step {g}: A={a(g):.10g} B={b(g):.10g}")
    if args.output:
        from lrkit._plot import figure

        fig = figure([(f"A: {args.spec_a}", a), (f"B: {args.spec_b}", b)], steps)
        if r["first"] is not None:
            ax = fig.axes[0]
            ax.axvline(r["first"], color="red", linewidth=0.8, label=f"first difference (step {r['first']})")
            ax.legend(loc="best", fontsize=8)
        _save_or_show(fig, args.output)
    return 0 if r["first"] is None else DIFFERENT


# -- compare ------------------------------------------------------------------------------------


def _probe(schedule: Any, steps: int, n: int = 400) -> np.ndarray:
    """About ``n`` evenly spread steps plus every breakpoint b-1, b, b+1, within ``[0, steps]``."""
    xs = set(np.linspace(0, steps, min(n, steps + 1)).round().astype(np.int64).tolist())
    from lrkit._plot import breakpoints

    for bp in breakpoints(schedule, steps, limit=1000):
        xs.update((bp - 1, bp, bp + 1))
    return np.asarray(sorted(x for x in xs if 0 <= x <= steps), dtype=np.int64)


#: ``compare`` runs real torch updates contiguously up to here; later probes are reached by
#: loading a state dict one step short (a resumed run), so any step is reported in bounded time.
TORCH_CONTIGUOUS = 2_000

#: optax counts (and Keras's ``optimizer.iterations`` on JAX) are int32.
INT32_MAX = 2**31 - 1

#: Steps past 2**53 are not integers in float64, the reference's own precision.
FLOAT64_EXACT = 2**53


def _run_torch(schedule: Any, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    import torch

    from lrkit.backends.torch import LRScheduler

    # A float32 parameter reset to 0 before each update, gradient 1: -param is the applied lr.
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=1.0)
    sched = LRScheduler(opt, schedule)
    out = np.empty(len(xs))
    done = 0  # updates applied so far
    for i, k in enumerate(xs.tolist()):
        if k - done > TORCH_CONTIGUOUS:
            if done == 0:
                opt.step()  # no gradient yet: nothing moves; keeps torch's step-order check quiet
            state = sched.state_dict()
            state["last_epoch"] = k - 1
            sched.load_state_dict(state)
            sched.step()
            done = k
        while done < k:
            if done == 0:
                opt.step()  # no gradient yet: nothing moves; keeps torch's step-order check quiet
            sched.step()
            done += 1
        with torch.no_grad():
            param.zero_()
        param.grad = torch.ones(1)
        opt.step()
        out[i] = -float(param.item())
        sched.step()
        done += 1
    return xs, out, f"LRScheduler in torch.optim.SGD (float32 parameter), {len(xs)} steps"


def _run_keras(schedule: Any, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    import keras

    from lrkit.backends.keras import LearningRateSchedule

    lrs = LearningRateSchedule(schedule)
    dtype = "int32" if keras.backend.backend() == "jax" else "int64"  # optimizer.iterations
    how = f"LearningRateSchedule on the {keras.backend.backend()} backend ({dtype} step), {len(xs)} steps"
    out = keras.ops.convert_to_numpy(lrs(keras.ops.convert_to_tensor(xs, dtype=dtype)))
    return xs, np.asarray(out, dtype=np.float64), how


def _run_optax(schedule: Any, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    import jax
    import jax.numpy as jnp

    from lrkit.backends.optax import schedule as to_optax

    got = jax.jit(jax.vmap(to_optax(schedule)))(jnp.asarray(xs, dtype=jnp.int32))
    return xs, np.asarray(got, dtype=np.float64), f"schedule under jax.jit + jax.vmap ({got.dtype}), {len(xs)} steps"


def _installed(module: str) -> bool:
    import importlib.util

    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _keras_unavailable() -> str | None:
    """Why Keras cannot run here (its backend missing), in one line; ``None`` if it imports."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import keras  # noqa: F401
    except ImportError as e:
        missing = getattr(e, "name", None)
        if missing and missing.split(".")[0] != "keras":
            backend = os.environ.get("KERAS_BACKEND", "tensorflow")
            return (f"Keras backend {backend!r} is not installed (no module {missing!r}): "
                    f"pip install {missing.split('.')[0]}, or set KERAS_BACKEND=jax or torch")
        return f"keras cannot be imported ({type(e).__name__}: {_one_line(e)})"
    return None


def _counter_top(name: str) -> int:
    """The largest step a framework's update counter holds (and the reference can say exactly)."""
    if name == "optax":
        return INT32_MAX
    if name == "keras":
        import keras

        return INT32_MAX if keras.backend.backend() == "jax" else FLOAT64_EXACT
    return FLOAT64_EXACT


def float32_ulps(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """float32 ulps between applied values and ``float32`` of the float64 reference.

    Exact 0 where the reference is 0 (anything else counts as 2**40); a subnormal reference may
    be flushed to 0.
    """
    g = np.asarray(got, dtype=np.float64).astype(np.float32)
    r = np.asarray(ref, dtype=np.float64).astype(np.float32)
    d = np.abs(g.view(np.int32).astype(np.int64) - r.view(np.int32).astype(np.int64))
    d[(np.abs(r) < np.finfo(np.float32).tiny) & (g == 0)] = 0
    bad = ~(np.asarray(got) >= 0) | ((np.asarray(ref) == 0) & (np.asarray(got) != 0))
    d[bad] = 2**40
    return d


_ADAPTERS = (
    ("torch", ("torch",), _run_torch, "torch"),
    ("keras", ("keras",), _run_keras, "keras"),
    ("optax", ("jax", "optax"), _run_optax, "jax"),
)


def compare(schedule: Any, steps: int) -> list[dict[str, Any]]:
    """Run ``schedule`` through every installed adapter; one result dict per framework.

    Each adapter is evaluated at the probe steps its step counter can hold (``capped`` says up to
    where, when that is below ``steps``) and measured in float32 ulps against ``float32`` of the
    float64 core value.
    """
    results = []
    probes = _probe(schedule, steps)
    for name, modules, run, extra in _ADAPTERS:
        missing = [m for m in modules if not _installed(m)]
        if missing:
            results.append({"name": name, "status": "skipped",
                            "note": f"{' and '.join(missing)} not installed (pip install 'lrkit[{extra}]')"})
            continue
        if name == "keras":
            why = _keras_unavailable()
            if why:
                results.append({"name": name, "status": "skipped", "note": why})
                continue
        try:
            top = _counter_top(name)
            xs = probes[probes <= top]
            if top < steps:
                xs = np.unique(np.append(xs, top))
            xs, got, how = run(schedule, xs)
        except Exception as e:  # an adapter that is missing or fails is reported, not fatal
            results.append({"name": name, "status": "error", "note": f"{type(e).__name__}: {_one_line(e)}"})
            continue
        ref = schedule(xs.astype(np.float64))
        d = float32_ulps(got, ref)
        i = int(np.argmax(d))
        results.append({"name": name, "status": "ok", "note": how, "xs": xs, "values": got,
                        "ulps": int(d[i]), "at": int(xs[i]), "exact": float(np.mean(d == 0)),
                        "max_abs": float(np.max(np.abs(got - ref))),
                        "capped": top if top < steps else None})
    return results


def cmd_compare(args: argparse.Namespace) -> int:
    """``lrkit compare``: every installed adapter against the float64 core, in float32 ulps."""
    s = bind_run(load_spec(args.spec), args)
    steps = _steps_for([s], args.steps)
    if steps > FLOAT64_EXACT:
        print(f"lrkit compare: note: steps capped at 2**53 = {FLOAT64_EXACT} (the largest a float64 "
              f"reference holds exactly); asked for {steps}", file=sys.stderr)
        steps = FLOAT64_EXACT
    print(f"schedule: {s!r}")
    print(f"reference: float32 of lrkit's float64 core value, probe steps in 0..{steps}")
    results = compare(s, steps)
    failed, off = False, []
    for r in results:
        if r["status"] == "ok":
            verdict = "exact" if r["ulps"] == 0 else "within one ulp" if r["ulps"] == 1 else "MORE THAN ONE ULP"
            print(f"{r['name']:<6} max deviation {r['ulps']} float32 ulp at step {r['at']} ({verdict}; "
                  f"float32(s(k)) exactly at {r['exact']:.2%} of steps)  [{r['note']}]")
            if r["ulps"] > 1:
                off.append(f"{r['name']} ({r['ulps']} ulps at step {r['at']})")
            if r["capped"] is not None:
                print(f"lrkit compare: note: {r['name']} counts updates in int32: probed up to step "
                      f"{r['capped']} (of {steps})", file=sys.stderr)
        else:
            failed |= r["status"] == "error"
            print(f"{r['name']:<6} {r['status']}: {r['note']}")
    if args.output:
        from lrkit._plot import figure

        fig = figure([("lrkit float64 reference", s)], steps)
        ax = fig.axes[0]
        for r in results:
            if r["status"] == "ok":
                ax.plot(r["xs"], r["values"], ".", markersize=2, label=f"{r['name']} (max {r['ulps']} float32 ulp)")
        ax.legend(loc="best", fontsize=8)
        _save_or_show(fig, args.output)
    if failed:
        print("lrkit compare: error: an adapter failed (see above)", file=sys.stderr)
        return FAILURE
    if off:
        print(f"lrkit compare: error: more than one float32 ulp from the core: {', '.join(off)}", file=sys.stderr)
        return FAILURE
    return 0


# -- convert ------------------------------------------------------------------------------------


def cmd_convert(args: argparse.Namespace) -> int:
    """``lrkit convert``: the JSON config and native torch / Keras / optax code."""
    from lrkit._convert import render

    s = load_spec(args.spec)
    if args.total_steps is not None:
        bind_run(s, args)  # a bad --total-steps is a usage error
    print(render(s, total_steps=args.total_steps), end="")
    return 0


# -- entry point --------------------------------------------------------------------------------

_SPEC_HELP = ("a JSON config file (Schedule.to_config()) or an expression such as "
              "\"warmup(cosine(3e-4, 3e-5, 10000), 500)\"")


def build_parser() -> argparse.ArgumentParser:
    """The ``lrkit`` argument parser."""
    import lrkit

    p = _Parser(prog="lrkit", description="Inspect, plot, compare and convert learning-rate schedules.",
                epilog="SPEC: " + _SPEC_HELP)
    p.add_argument("--version", action="version", version=f"lrkit {lrkit.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    steps = {"type": _positive_int("steps"), "default": None, "metavar": "N",
             "help": "last step (default: the schedule's duration + 10%%, or 1000)"}
    total = {"type": _positive_int("total-steps"), "default": None, "metavar": "N", "dest": "total_steps",
             "help": "the run's number of optimizer updates: resolves durations written as percentages "
                     "of the run ('5%%')"}

    sp = sub.add_parser("show", help="print `step lr` rows and a terminal chart")
    sp.add_argument("spec", metavar="SPEC", help=_SPEC_HELP)
    sp.add_argument("--steps", **steps)
    sp.add_argument("--total-steps", **total)
    sp.add_argument("--every", type=_positive_int("every"), default=None, metavar="K",
                    help="print every K-th step (default: steps // 20)")
    sp.add_argument("--no-chart", action="store_true", help="rows only")
    sp.set_defaults(func=cmd_show)

    sp = sub.add_parser("plot", help="draw one or more curves with matplotlib")
    sp.add_argument("spec", metavar="SPEC", nargs="+", help=_SPEC_HELP)
    sp.add_argument("--steps", **steps)
    sp.add_argument("--total-steps", **total)
    sp.add_argument("-o", "--output", metavar="FILE.png", help="write the figure to this file")
    sp.add_argument("--log", action="store_true", help="logarithmic value axis")
    sp.set_defaults(func=cmd_plot)

    sp = sub.add_parser("compare", help="run the schedule through every installed adapter")
    sp.add_argument("spec", metavar="SPEC", help=_SPEC_HELP)
    sp.add_argument("--steps", **steps)
    sp.add_argument("--total-steps", **total)
    sp.add_argument("-o", "--output", metavar="FILE.png", help="also plot the curves")
    sp.set_defaults(func=cmd_compare)

    sp = sub.add_parser("diff", help="where two schedules differ (exit status 1 if they do, 0 if equal, 2 on error)")
    sp.add_argument("spec_a", metavar="SPEC_A", help=_SPEC_HELP)
    sp.add_argument("spec_b", metavar="SPEC_B", help=_SPEC_HELP)
    sp.add_argument("--steps", **steps)
    sp.add_argument("--total-steps", **total)
    sp.add_argument("--rtol", type=_tolerance("rtol"), default=1e-9, metavar="R",
                    help="relative tolerance, a finite non-negative number (default 1e-9)")
    sp.add_argument("-o", "--output", metavar="FILE.png", help="also plot both curves")
    sp.set_defaults(func=cmd_diff)

    sp = sub.add_parser("convert", help="print the JSON config and native torch/Keras/optax code")
    sp.add_argument("spec", metavar="SPEC", help=_SPEC_HELP)
    sp.add_argument("--total-steps", **total)
    sp.set_defaults(func=cmd_convert)
    # Each command's option strings, for `_check_dashes` (argparse keeps them in `_actions`).
    p._lrkit_options = {  # type: ignore[attr-defined]
        name: [o for a in cmd._actions for o in a.option_strings] for name, cmd in sub.choices.items()
    }
    return p


def _options_of(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Command name -> its option strings (``--steps``, ``-o``, ...)."""
    return parser._lrkit_options  # type: ignore[attr-defined, no-any-return]


def _check_dashes(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Refuse, in one clear line, a token that argparse would take for an unknown option.

    argparse reads a SPEC such as ``-cosine(1.0, 0.0, 10)`` as an option and then complains that
    SPEC is missing; a misspelled ``--stpes`` gets the same confusing complaint.
    """
    commands = _options_of(parser)
    i = next((k for k, a in enumerate(argv) if not a.startswith("-")), None)
    if i is None or argv[i] not in commands:
        return
    command, known = argv[i], commands[argv[i]]
    for tok in argv[i + 1:]:
        if tok == "--":
            return
        if not tok.startswith("-") or tok == "-" or " " in tok or re.fullmatch(r"-\d+|-\d*\.\d+", tok):
            continue
        name = tok.split("=", 1)[0]
        if tok.startswith("--"):
            if any(o.startswith(name) for o in known if o.startswith("--")):
                continue
        elif tok[:2] in known:
            continue
        if "(" in tok or not re.fullmatch(r"--?[A-Za-z][A-Za-z0-9-]*(=.*)?", tok):
            raise UsageError(
                f"argument SPEC: {_short(tok)!r} starts with '-' and reads as an option; put `--` before "
                f"SPECs that start with '-': lrkit {command} -- {_short(tok)!r}"
            )
        import difflib

        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise UsageError(
            f"unrecognized option {_short(name)!r}.{hint} Options: {' '.join(o for o in known if o.startswith('--'))}"
            f" (a SPEC that starts with '-' goes after `--`)"
        )


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 bad usage).

    ``lrkit diff`` returns 1 when the schedules differ and 2 on any error (``diff``'s convention).
    """
    from lrkit._errors import BackendUnavailableError

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        _check_dashes(parser, argv)
    except UsageError as e:
        command = next((a for a in argv if not a.startswith("-")), "")
        print(f"lrkit {command}: error: {_one_line(e)}", file=sys.stderr)
        return USAGE_ERROR
    args = parser.parse_args(argv)
    prog = f"lrkit {args.command}"
    failure = USAGE_ERROR if args.command == "diff" else FAILURE
    try:
        return int(args.func(args))
    except UsageError as e:
        print(f"{prog}: error: {_one_line(e)}", file=sys.stderr)
        return USAGE_ERROR
    except (Failure, BackendUnavailableError) as e:
        print(f"{prog}: error: {_one_line(e)}", file=sys.stderr)
        return failure
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError:
        print(f"{prog}: error: out of memory", file=sys.stderr)
        return failure
    except Exception as e:
        print(f"{prog}: error: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return failure

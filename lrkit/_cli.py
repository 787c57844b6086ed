"""The ``lrkit`` command line (also ``python -m lrkit``).

Commands::

    lrkit show SPEC [--steps N] [--every K]        rows `step lr`, then a terminal chart
    lrkit plot SPEC [SPEC ...] [--steps N] [-o FILE.png] [--log]
    lrkit compare SPEC [--steps N] [-o FILE.png]   every installed adapter vs the float64 reference
    lrkit diff SPEC_A SPEC_B [--steps N] [-o FILE.png]
    lrkit convert SPEC                             JSON config and native torch/Keras/optax code

``SPEC`` is a path to a JSON file written from ``Schedule.to_config()`` or an expression over
lrkit's constructors, e.g. ``"warmup(cosine(3e-4, 3e-5, 10000), 500)"`` (see ``lrkit._expr``; it
is parsed, never evaluated). Every failure is one line on stderr and a non-zero exit status: 2 for
bad usage (options, SPECs, constructor arguments), 1 for anything else (a missing optional
dependency, an unwritable file, an adapter that disagrees).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, NoReturn

import numpy as np

USAGE_ERROR = 2
FAILURE = 1


class UsageError(Exception):
    """Bad input from the command line: exit status 2."""


class Failure(Exception):
    """The command could not do its job: exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage block
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _positive_int(name: str) -> Any:
    def parse(text: str) -> int:
        try:
            v = int(text.replace("_", ""))
        except ValueError:
            v = 0
        if v <= 0:
            raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {name}={text!r}")
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
        if os.path.isfile(text) or (text.strip().endswith(".json") and "(" not in text):
            try:
                with open(text, encoding="utf-8") as f:
                    config = json.load(f)
            except OSError as e:
                raise UsageError(f"argument {arg}: cannot read {text!r}: {e.strerror or e}") from None
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise UsageError(f"argument {arg}: {text!r} is not a JSON config: {e}") from None
            return lk.from_config(config)
        return _expr.parse(text)
    except UsageError:
        raise
    except RecursionError:
        raise UsageError(f"argument {arg}: the SPEC is nested too deeply") from None
    except Exception as e:  # a constructor's own ValueError/TypeError, a port not available...
        msg = _one_line(e)
        raise UsageError(f"argument {arg}: {msg.removeprefix('SPEC: ')}") from None


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
    return max(settled) if settled else max(default_steps(s) for s in schedules)


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
    s = load_spec(args.spec)
    steps = _steps_for([s], args.steps)
    every = args.every if args.every is not None else max(1, steps // 20)
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

    schedules = [(text, load_spec(text, f"SPEC #{i + 1}" if len(args.spec) > 1 else "SPEC"))
                 for i, text in enumerate(args.spec)]
    require_matplotlib()
    steps = _steps_for([s for _, s in schedules], args.steps)
    fig = figure(schedules, steps, log=args.log)
    _save_or_show(fig, args.output)
    return 0


# -- diff ---------------------------------------------------------------------------------------


def first_difference(a: Any, b: Any, steps: int, rtol: float = 1e-9, atol: float = 0.0) -> dict[str, Any]:
    """Compare two schedules at every step in ``[0, steps]``.

    Returns:
      A dict with ``first`` (first step where ``|a - b| > atol + rtol * max(|a|, |b|)``, or
      ``None``), ``gap``/``at`` (the largest ``|a - b|`` and the first step where it occurs) and the
      values there.
    """
    first, gap, at = None, -1.0, 0
    chunk = 1 << 20
    for lo in range(0, steps + 1, chunk):
        xs = np.arange(lo, min(steps + 1, lo + chunk), dtype=np.float64)
        ya, yb = a(xs), b(xs)
        d = np.abs(ya - yb)
        bad = d > atol + rtol * np.maximum(np.abs(ya), np.abs(yb))
        if first is None and bad.any():
            first = lo + int(np.argmax(bad))
        i = int(np.argmax(d))
        if d[i] > gap:
            gap, at = float(d[i]), lo + i
    return {"first": first, "gap": gap, "at": at}


def cmd_diff(args: argparse.Namespace) -> int:
    """``lrkit diff``: the first step where two schedules differ and their largest gap."""
    a, b = load_spec(args.spec_a, "SPEC_A"), load_spec(args.spec_b, "SPEC_B")
    steps = _steps_for([a, b], args.steps)
    r = first_difference(a, b, steps, rtol=args.rtol)
    print(f"A: {args.spec_a}")
    print(f"B: {args.spec_b}")
    if r["first"] is None:
        print(f"identical over steps 0..{steps} (largest gap {r['gap']:.3g})")
    else:
        f, g = r["first"], r["at"]
        print(f"first difference at step {f}: A={a(f):.10g} B={b(f):.10g}")
        print(f"largest gap {r['gap']:.6g} at step {g}: A={a(g):.10g} B={b(g):.10g}")
    if args.output:
        from lrkit._plot import figure

        fig = figure([(f"A: {args.spec_a}", a), (f"B: {args.spec_b}", b)], steps)
        if r["first"] is not None:
            ax = fig.axes[0]
            ax.axvline(r["first"], color="red", linewidth=0.8, label=f"first difference (step {r['first']})")
            ax.legend(loc="best", fontsize=8)
        _save_or_show(fig, args.output)
    return 0


# -- compare ------------------------------------------------------------------------------------


def _probe(schedule: Any, steps: int, n: int = 400) -> np.ndarray:
    """About ``n`` evenly spread steps plus every breakpoint b-1, b, b+1, within ``[0, steps]``."""
    xs = set(np.linspace(0, steps, min(n, steps + 1)).round().astype(int).tolist())
    from lrkit._plot import breakpoints

    for bp in breakpoints(schedule, steps, limit=1000):
        xs.update((bp - 1, bp, bp + 1))
    return np.asarray(sorted(x for x in xs if 0 <= x <= steps), dtype=np.int64)


#: ``compare`` steps a real torch optimizer through at most this many updates.
TORCH_STEPS = 100_000


def _run_torch(schedule: Any, steps: int) -> tuple[np.ndarray, np.ndarray, str]:
    import torch

    from lrkit.backends.torch import LRScheduler

    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=1.0)
    sched = LRScheduler(opt, schedule)
    steps = min(steps, TORCH_STEPS)
    out = np.empty(steps + 1)
    for k in range(steps + 1):
        out[k] = opt.param_groups[0]["lr"]
        param.grad = torch.ones(1)
        opt.step()
        sched.step()
    return np.arange(steps + 1), out, f"LRScheduler in torch.optim.SGD, {steps + 1} steps"


def _run_keras(schedule: Any, steps: int) -> tuple[np.ndarray, np.ndarray, str]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from lrkit.backends.keras import LearningRateSchedule

    lrs = LearningRateSchedule(schedule)
    xs = _probe(schedule, steps)
    how = f"LearningRateSchedule on the {keras.backend.backend()} backend, {len(xs)} probe steps"
    try:  # one call on a vector of steps; the optimizer's scalar int64 counter is the fallback
        out = np.asarray(keras.ops.convert_to_numpy(lrs(keras.ops.convert_to_tensor(xs, dtype="int64"))),
                         dtype=np.float64)
        if out.shape == xs.shape:
            return xs, out, how
    except Exception:
        pass
    out = np.asarray([float(keras.ops.convert_to_numpy(lrs(keras.ops.convert_to_tensor(int(x), dtype="int64"))))
                      for x in xs])
    return xs, out, how


def _run_optax(schedule: Any, steps: int) -> tuple[np.ndarray, np.ndarray, str]:
    import jax
    import jax.numpy as jnp

    from lrkit.backends.optax import schedule as to_optax

    fn = to_optax(schedule)
    xs = _probe(schedule, steps, n=2000)
    got = jax.jit(jax.vmap(fn))(jnp.asarray(xs, dtype=jnp.int32))
    return xs, np.asarray(got, dtype=np.float64), f"schedule under jax.jit + jax.vmap ({got.dtype}), {len(xs)} probe steps"


def _installed(module: str) -> bool:
    import importlib.util

    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


_ADAPTERS = (
    ("torch", ("torch",), _run_torch, "torch"),
    ("keras", ("keras",), _run_keras, "keras"),
    ("optax", ("jax", "optax"), _run_optax, "jax"),
)


def compare(schedule: Any, steps: int) -> list[dict[str, Any]]:
    """Run ``schedule`` through every installed adapter; one result dict per framework."""
    results = []
    for name, modules, run, extra in _ADAPTERS:
        missing = [m for m in modules if not _installed(m)]
        if missing:
            results.append({"name": name, "status": "skipped",
                            "note": f"{' and '.join(missing)} not installed (pip install 'lrkit[{extra}]')"})
            continue
        try:
            xs, got, how = run(schedule, steps)
        except Exception as e:  # an adapter that is missing or fails is reported, not fatal
            results.append({"name": name, "status": "error", "note": f"{type(e).__name__}: {_one_line(e)}"})
            continue
        ref = schedule(xs.astype(np.float64))
        dev = np.abs(got - ref)
        rel = dev / np.maximum(np.abs(ref), np.finfo(np.float64).tiny)
        i = int(np.argmax(dev))
        results.append({"name": name, "status": "ok", "note": how, "xs": xs, "values": got,
                        "max_abs": float(dev[i]), "at": int(xs[i]), "max_rel": float(rel.max())})
    return results


def cmd_compare(args: argparse.Namespace) -> int:
    """``lrkit compare``: every installed adapter against the float64 reference."""
    s = load_spec(args.spec)
    steps = _steps_for([s], args.steps)
    print(f"schedule: {s!r}")
    print(f"reference: lrkit float64 (numpy), steps 0..{steps}")
    results = compare(s, steps)
    failed = False
    for r in results:
        if r["status"] == "ok":
            print(f"{r['name']:<6} max |deviation| {r['max_abs']:.3g} at step {r['at']}, "
                  f"max relative {r['max_rel']:.3g}  [{r['note']}]")
        else:
            failed |= r["status"] == "error"
            print(f"{r['name']:<6} {r['status']}: {r['note']}")
    if args.output:
        from lrkit._plot import figure

        fig = figure([("lrkit float64 reference", s)], steps)
        ax = fig.axes[0]
        for r in results:
            if r["status"] == "ok":
                ax.plot(r["xs"], r["values"], ".", markersize=2, label=f"{r['name']} (max dev {r['max_abs']:.2g})")
        ax.legend(loc="best", fontsize=8)
        _save_or_show(fig, args.output)
    if failed:
        print("lrkit compare: error: an adapter failed (see above)", file=sys.stderr)
        return FAILURE
    return 0


# -- convert ------------------------------------------------------------------------------------


def cmd_convert(args: argparse.Namespace) -> int:
    """``lrkit convert``: the JSON config and native torch / Keras / optax code."""
    from lrkit._convert import render

    print(render(load_spec(args.spec)), end="")
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

    sp = sub.add_parser("show", help="print `step lr` rows and a terminal chart")
    sp.add_argument("spec", metavar="SPEC", help=_SPEC_HELP)
    sp.add_argument("--steps", **steps)
    sp.add_argument("--every", type=_positive_int("every"), default=None, metavar="K",
                    help="print every K-th step (default: steps // 20)")
    sp.add_argument("--no-chart", action="store_true", help="rows only")
    sp.set_defaults(func=cmd_show)

    sp = sub.add_parser("plot", help="draw one or more curves with matplotlib")
    sp.add_argument("spec", metavar="SPEC", nargs="+", help=_SPEC_HELP)
    sp.add_argument("--steps", **steps)
    sp.add_argument("-o", "--output", metavar="FILE.png", help="write the figure to this file")
    sp.add_argument("--log", action="store_true", help="logarithmic value axis")
    sp.set_defaults(func=cmd_plot)

    sp = sub.add_parser("compare", help="run the schedule through every installed adapter")
    sp.add_argument("spec", metavar="SPEC", help=_SPEC_HELP)
    sp.add_argument("--steps", **steps)
    sp.add_argument("-o", "--output", metavar="FILE.png", help="also plot the curves")
    sp.set_defaults(func=cmd_compare)

    sp = sub.add_parser("diff", help="where two schedules differ")
    sp.add_argument("spec_a", metavar="SPEC_A", help=_SPEC_HELP)
    sp.add_argument("spec_b", metavar="SPEC_B", help=_SPEC_HELP)
    sp.add_argument("--steps", **steps)
    sp.add_argument("--rtol", type=float, default=1e-9, help="relative tolerance (default 1e-9)")
    sp.add_argument("-o", "--output", metavar="FILE.png", help="also plot both curves")
    sp.set_defaults(func=cmd_diff)

    sp = sub.add_parser("convert", help="print the JSON config and native torch/Keras/optax code")
    sp.add_argument("spec", metavar="SPEC", help=_SPEC_HELP)
    sp.set_defaults(func=cmd_convert)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 bad usage)."""
    from lrkit._errors import BackendUnavailableError

    parser = build_parser()
    args = parser.parse_args(argv)
    prog = f"lrkit {args.command}"
    try:
        return int(args.func(args))
    except UsageError as e:
        print(f"{prog}: error: {_one_line(e)}", file=sys.stderr)
        return USAGE_ERROR
    except (Failure, BackendUnavailableError) as e:
        print(f"{prog}: error: {_one_line(e)}", file=sys.stderr)
        return FAILURE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:
        print(f"{prog}: error: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return FAILURE

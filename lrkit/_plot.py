"""Drawing schedules with matplotlib (optional: ``pip install 'lrkit[plot]'``).

matplotlib is imported inside the functions only, so ``import lrkit`` never loads it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lrkit._errors import BackendUnavailableError

#: Above this many steps a curve is sampled instead of drawn at every step (breakpoints kept).
MAX_POINTS = 4000
INSTALL_HINT = "pip install 'lrkit[plot]'"


def require_matplotlib() -> Any:
    """Import and return ``matplotlib.pyplot``, or raise ``BackendUnavailableError`` with the fix."""
    try:
        import matplotlib

        if not _has_display():
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise BackendUnavailableError(
            f"plotting needs matplotlib, which is not installed: {INSTALL_HINT}"
        ) from None
    return plt


def _has_display() -> bool:
    import os
    import sys

    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def default_steps(schedule: Any) -> int:
    """A horizon that shows the whole curve: its duration plus 10%, or 1000 steps if it never settles."""
    d = schedule.duration
    if d is None or d <= 0:
        return 1000 if d is None else 100
    return int(d + max(1, d // 10))


#: Most steps the command line evaluates for one schedule (``diff``, ``plot``, ``compare``; SPEC §11).
MAX_SAMPLES = 10_000_000
#: Most breakpoints a plot draws exactly.
PLOT_BREAKPOINTS = 10_000
#: Largest step the command line accepts: durations are at most ``2**53`` (exact in float64).
MAX_STEPS = 2**53
#: Most breakpoints a sampler keeps per schedule (each brings ``b - 1``, ``b``, ``b + 1``).
MAX_BREAKPOINTS = 1_000_000


#: Node evaluations (schedule nodes times steps) a sampler spends at most: a big schedule (a product
#: of a hundred nodes, a config of a million numbers) gets proportionally fewer samples.
MAX_WORK = 4 * MAX_SAMPLES


def nodes(schedule: Any) -> int:
    """The number of nodes in a schedule's tree (the cost of evaluating it at one step, roughly)."""
    count, stack = 0, [schedule]
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(node._child_nodes())
    return count


def sample_budget(schedules: list[Any]) -> int:
    """Steps a sampler may evaluate for ``schedules`` together: ``MAX_SAMPLES``, fewer for big trees
    (``MAX_WORK`` node evaluations in all), and never fewer than 10,000."""
    return max(10_000, min(MAX_SAMPLES, MAX_WORK // max(1, sum(nodes(s) for s in schedules))))


def breakpoints(schedule: Any, steps: int, limit: int = 10_000) -> tuple[int, ...]:
    """The first ``limit`` breakpoints ``b`` with ``0 < b <= steps``."""
    return schedule.breakpoints(steps + 1)[:limit]


def special_steps(schedules: list[Any], steps: int, limit: int = MAX_BREAKPOINTS) -> tuple[np.ndarray, bool]:
    """``b - 1``, ``b`` and ``b + 1`` for the first ``limit`` breakpoints ``b`` of each schedule, and ``0``
    and ``steps``: sorted unique int64 steps in ``[0, steps]``.

    Returns:
      The steps, and whether some schedule had more than ``limit`` breakpoints (then only its first
      ``limit`` are included).
    """
    parts, capped = [np.asarray([0, steps], dtype=np.int64)], False
    for s in schedules:
        bps = s.breakpoints(steps + 1)
        capped |= len(bps) > limit
        b = np.asarray(bps[:limit], dtype=np.int64)
        parts += [b - 1, b, b + 1]
    out = sorted_unique(np.concatenate(parts))
    return out[(out >= 0) & (out <= steps)], capped


def sorted_unique(xs: np.ndarray) -> np.ndarray:
    """``np.unique`` for integer steps by sorting (numpy 2's hash-based ``unique`` is far slower here)."""
    xs = np.sort(xs)
    if len(xs) < 2:
        return xs
    keep = np.empty(len(xs), dtype=bool)
    keep[0] = True
    np.not_equal(xs[1:], xs[:-1], out=keep[1:])
    return xs[keep]


def sample_steps(schedule: Any, steps: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """Integer steps in ``[0, steps]``: all of them, or ``max_points`` plus every breakpoint ``b-1, b``."""
    if steps + 1 <= max_points:
        return np.arange(steps + 1, dtype=np.int64)
    base = np.unique(np.linspace(0, steps, max_points).round().astype(np.int64))
    extra = [x for b in breakpoints(schedule, steps, PLOT_BREAKPOINTS) for x in (b - 1, b)]
    return np.unique(np.concatenate([base, np.asarray(extra, dtype=np.int64)]).clip(0, steps))


def uniform_steps(steps: int, n: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """Entries ``lo..hi-1`` of ``n`` evenly spread integer steps from ``0`` to ``steps`` (both included).

    Entry ``i`` is ``round(i * steps / (n - 1))``, computed in float64 (exact for ``steps <= 2**53``
    up to the last bit of rounding) without building the whole grid.
    """
    hi = n if hi is None else hi
    i = np.arange(lo, hi, dtype=np.float64)
    if n <= 1:
        return np.zeros(len(i), dtype=np.int64)
    return np.minimum(np.round(i * (steps / (n - 1))), steps).astype(np.int64)


def plot(
    schedule: Any,
    steps: int | None = None,
    ax: Any = None,
    *,
    mark: bool = True,
    log: bool = False,
    **kwargs: Any,
) -> Any:
    """Draw ``schedule`` over steps ``0..steps`` on a matplotlib axes and return the axes.

    Args:
      schedule: an ``lrkit.Schedule``.
      steps: last step drawn, a positive integer; by default the schedule's duration plus 10%
        (1000 steps for a schedule that never settles).
      ax: the axes to draw on; a new figure is made when ``None``.
      mark: draw dotted vertical lines at the schedule's breakpoints and where it settles
        (``duration``), and shade a top-level warmup.
      log: logarithmic value axis.
      **kwargs: passed to ``ax.plot`` (``label``, ``color``, ...). ``label`` defaults to ``repr``.

    Returns:
      The matplotlib axes.

    Raises:
      BackendUnavailableError: matplotlib is not installed (``pip install 'lrkit[plot]'``).

    Examples:
      >>> import lrkit as lk
      >>> ax = lk.warmup(lk.cosine(3e-4, 3e-5, 1000), 100).plot()  # doctest: +SKIP
    """
    from lrkit import _errors

    steps = default_steps(schedule) if steps is None else _errors.positive_int("plot", "steps", steps)
    plt = require_matplotlib()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    xs = sample_steps(schedule, steps)
    ys = schedule(xs)
    kwargs.setdefault("label", _short(repr(schedule)))
    (line,) = ax.plot(xs, ys, **kwargs)
    if mark:
        _mark(ax, schedule, steps, line.get_color())
    if log:
        ax.set_yscale("log")
    ax.set_xlim(0, steps)
    ax.set_xlabel("step (updates applied)")
    ax.set_ylabel("learning rate")
    ax.grid(True, alpha=0.3)
    return ax


def _mark(ax: Any, schedule: Any, steps: int, color: str) -> None:
    from lrkit._compose import Warmup

    bps = set(breakpoints(schedule, steps, limit=61))
    d = schedule.duration
    if d is not None and 0 < d <= steps:
        bps.add(d)  # where the curve settles
    if len(bps) <= 60:
        for b in bps:
            ax.axvline(b, color=color, linestyle=":", linewidth=0.9, alpha=0.6)
    if isinstance(schedule, Warmup):
        ax.axvspan(0, schedule.steps, color=color, alpha=0.08)
        ax.annotate(
            "warmup", xy=(schedule.steps / 2, 0.98), xycoords=("data", "axes fraction"),
            ha="center", va="top", fontsize=8, color=color,
        )


def _short(s: str, n: int = 70) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def figure(
    schedules: list[tuple[str, Any]], steps: int | None = None, *, log: bool = False, title: str | None = None
) -> Any:
    """A new figure with several labelled schedules overlaid; returns the figure."""
    plt = require_matplotlib()
    if steps is None:
        steps = max(default_steps(s) for _, s in schedules)
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    for label, s in schedules:
        plot(s, steps, ax, label=_short(label), log=log)
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig

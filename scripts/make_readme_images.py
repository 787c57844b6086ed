"""Render the README's images into ``docs/images/`` (committed; rerun after changing a curve).

    python scripts/make_readme_images.py

Needs matplotlib (``pip install 'lrkit[plot]'``). Every curve is drawn by lrkit itself through
``Schedule.plot``; the fidelity figure's three curves are the closed forms of transformers/optax,
Keras and timm "cosine with warmup" for 10 warmup steps and 100 total steps (the tests in
``tests/cli`` and ``tests/ports`` check those forms against the real libraries).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import lrkit as lk

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"


def tour() -> Path:
    curves = [
        "warmup(cosine(3e-4, 3e-5, 9000), 1000)",
        "one_cycle(3e-4, 10000)",
        "warmup_stable_decay(3e-4, 1000, 7000, 2000)",
        "cosine_restarts(3e-4, 1e-5, 1000, period_mult=2.0)",
        "multistep(3e-4, [5000, 8000], 0.1)",
        "cyclic(3e-5, 3e-4, 1000, mode='triangular2')",
    ]
    from lrkit._expr import parse

    fig, axes = plt.subplots(2, 3, figsize=(12, 5.5), layout="constrained", sharex=True)
    for ax, spec in zip(axes.flat, curves):
        parse(spec).plot(steps=10_000, ax=ax, label=spec)
        ax.set_title(spec, fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel("")
    fig.supxlabel("step (updates applied)", fontsize=9)
    fig.supylabel("learning rate", fontsize=9)
    path = OUT / "tour.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def fidelity() -> Path:
    curves = [
        ("transformers / optax: warmup(cosine(1.0, 0.0, 90), 10)", lk.warmup(lk.cosine(1.0, 0.0, 90), 10)),
        ("Keras CosineDecay: warmup(cosine(1.0, 0.0, 100), 10)", lk.warmup(lk.cosine(1.0, 0.0, 100), 10)),
        ("timm CosineLRScheduler: warmup(cosine(1.0, 0.0, 100), 10, overlay=True)",
         lk.warmup(lk.cosine(1.0, 0.0, 100), 10, overlay=True)),
    ]
    fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    for label, s in curves:
        s.plot(steps=110, ax=ax, label=f"{label}: step 50 = {s(50):.3f}", mark=False)
    ax.axvline(50, color="grey", linestyle=":", linewidth=0.8)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title('"cosine with 10 warmup steps, 100 steps" in three libraries', fontsize=10)
    path = OUT / "fidelity.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for make in (tour, fidelity):
        print(f"wrote {make()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``import lrkit`` and evaluating, printing and rebuilding a schedule load no framework."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import need

import lrkit

need("core")

HEAVY = ("torch", "tensorflow", "jax", "jaxlib", "keras", "optax", "matplotlib", "transformers", "scipy", "pandas")

SCRIPT = """
import json, sys
import numpy as np
import lrkit as lk
s = lk.warmup(lk.cosine(3e-4, 3e-5, 10_000), 500) * lk.per_epoch(lk.multistep(1.0, [2], 0.5), 100)
s(0); s(10**9); s(np.arange(1000)); repr(s); lk.from_config(json.loads(json.dumps(s.to_config())))
lk.cosine_restarts(1.0, 0.0, 10, period_mult=2.0)(np.arange(100))
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_import_and_evaluate_load_no_framework() -> None:
    root = str(Path(lrkit.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "numpy" in loaded and "lrkit" in loaded  # the probe itself works
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


IMPORT_ONLY = """
import json, sys
import numpy
before = set(sys.modules)
import lrkit
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_import_loads_only_the_core() -> None:
    """``import lrkit`` costs little beyond numpy (issue 14): ports, plateau, range test, plot, CLI,
    conversion and retiming code, and the stdlib modules only they need, load when first used."""
    root = str(Path(lrkit.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_ONLY], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    added = set(json.loads(out.stdout.strip().splitlines()[-1]))
    ours = {m for m in added if m.split(".")[0] == "lrkit"}
    assert ours == {"lrkit", "lrkit._base", "lrkit._compose", "lrkit._errors", "lrkit._ops", "lrkit._recipes",
                    "lrkit._schedules"}, sorted(ours)
    others = {m for m in added - ours if not m.startswith("_")}
    # bisect (joins search their pieces), __future__ and gc (built into the interpreter); nothing that
    # only an error path or bind needs.
    assert others <= {"bisect", "__future__", "gc"}, sorted(others)
    for lazy in ("difflib", "fractions", "decimal"):
        assert lazy not in added, lazy
    # The lazy parts still load on first use.
    probe = "import lrkit as lk, sys; lk.ReduceOnPlateau; lk.from_torch; print('lrkit._plateau' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.strip() == "True"

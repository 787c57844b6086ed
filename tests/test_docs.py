"""Every python block in README.md and docs/*.md runs as pasted, and prints what the page says.

Each block runs on its own (a fresh namespace: no names carried over from an earlier block), in every
environment that has the frameworks it imports. A block may name them in a first line
``# needs: torch, keras``; otherwise they are read from its imports. The ``# ...`` comment lines right
after a ``print(...)`` line are the output the page promises.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import helpers
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]

# top-level module imported by a block -> the LRKIT_TEST_BACKENDS name that provides it
_MODULES = {
    "torch": "torch", "keras": "keras", "jax": "jax", "optax": "optax", "tensorflow": "tensorflow",
    "transformers": "transformers", "lightning": "lightning", "accelerate": "accelerate",
    "matplotlib": "matplotlib", "timm": "timm", "flax": "flax", "orbax": "orbax",
}
_BACKENDS = {"lrkit.backends.torch": "torch", "lrkit.backends.keras": "keras", "lrkit.backends.optax": "optax"}


def blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.M | re.S)


def needs(code: str) -> list[str]:
    m = re.match(r"# needs: (.+)\n", code)
    if m:
        return [x.strip() for x in m.group(1).split(",")]
    found: set[str] = set()
    for mod in re.findall(r"^\s*(?:import|from)\s+([\w.]+)", code, flags=re.M):
        for name in re.findall(r"(?:^|,\s*)([\w.]+)", mod):
            if name in _BACKENDS or any(name.startswith(b + ".") for b in _BACKENDS):
                found.add(next(v for k, v in _BACKENDS.items() if name == k or name.startswith(k + ".")))
            elif name.split(".")[0] in _MODULES:
                found.add(_MODULES[name.split(".")[0]])
    for line in re.findall(r"^\s*import\s+(.+)$", code, flags=re.M):  # import a, b as c
        for part in line.split(","):
            top = part.strip().split(" ")[0].split(".")[0]
            if top in _MODULES:
                found.add(_MODULES[top])
    return sorted(found) or ["core"]


def expected_output(code: str) -> list[str]:
    out, lines = [], code.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("print("):
            j = i + 1
            while j < len(lines) and lines[j].startswith("# "):
                out.append(lines[j][2:])
                j += 1
    return out


CASES = [(page, i, code) for page in PAGES for i, code in enumerate(blocks(page))]


def test_pages_have_blocks() -> None:
    assert len(CASES) >= 10, [str(p) for p in PAGES]


@pytest.mark.parametrize(
    ("page", "index", "code"),
    CASES,
    ids=[f"{p.relative_to(ROOT)}:{i}-{'+'.join(needs(c))}" for p, i, c in CASES],
)
def test_block_runs_as_pasted(page: Path, index: int, code: str, tmp_path: Path) -> None:
    for n in needs(code):
        helpers.need(n)
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)  # files a block writes (checkpoints, plots) land in a scratch directory
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{page.name} block {index}", "exec"), {"__name__": "__docs__"})
    finally:
        os.chdir(cwd)
    assert out.getvalue().splitlines() == expected_output(code)

"""The README's promises: its first two commands, its placeholders, its images, and every Python
example runs (bare-env ones always; framework ones when that framework is requested) and prints what
the README says it prints."""

from __future__ import annotations

import re
from pathlib import Path

import cli_run
import helpers

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.M | re.S)


def test_first_two_commands() -> None:
    helpers.need("core")
    first, second = blocks("bash")[:2]
    assert first.strip() == 'pip install . && lrkit show "warmup(cosine(3e-4, 3e-5, 10000), 500)" --steps 10500 --every 1000'
    assert second.strip() == "python -m pip install tox && python -m tox -p auto"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m pip install --quiet \"tox>=4.11\" && python3 -m tox -p auto" in ci


def test_sections_and_images() -> None:
    helpers.need("core")
    text = README.read_text(encoding="utf-8")
    assert "## Port a recipe once, run it anywhere" in text and "## Reduce on plateau" in text
    assert "<!--" not in text
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        data = (ROOT / image).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, image


def test_cli_examples_print_what_the_readme_says() -> None:
    helpers.need("core")
    text = next(b for b in blocks("bash") if "lrkit diff " in b)  # the command-line examples
    p = cli_run.run("show", "warmup(cosine(3e-4, 3e-5, 10000), 500)", "--steps", "10500", "--every", "1500")
    printed = [ln.strip() for ln in p.stdout.splitlines()]
    for line in text.splitlines():
        if line.startswith(("#  ", "# 1")):
            row = line[1:].strip()
            if row != "...":
                assert row in printed, row
    p = cli_run.run("diff", "warmup(cosine(1.0, 0.0, 100), 10)",
                    "from_transformers('cosine', lr=1.0, num_warmup_steps=10, num_training_steps=100)")
    assert p.returncode == 1, p.stderr  # they differ: diff's convention
    # The README shows diff's whole output, line for line.
    shown = text.split("lrkit diff ", 1)[1].split("\nlrkit ", 1)[0].splitlines()
    shown = [ln[2:] for ln in shown if ln.startswith("# ")]
    assert shown == p.stdout.splitlines()
    assert shown[2] == "first difference at step 11: A=0.9997532802 B=0.9996954135"

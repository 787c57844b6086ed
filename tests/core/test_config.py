"""``from_config`` builds lrkit's own schedule types and nothing else; it never imports or runs code."""

from __future__ import annotations

import builtins
import json

import pytest
from conformance_cases_core import ALL_KINDS
from helpers import need

import lrkit as lk
from lrkit._base import _REGISTRY

need("core")

GOOD = lk.warmup(lk.join([lk.cosine(1.0, 0.1, 10), lk.constant(0.1)], [10]), 5) * lk.constant(2.0)


@pytest.mark.parametrize(
    "config, exc, words",
    [
        (None, TypeError, "config"),
        ([], TypeError, "config"),
        ("cosine(1.0, 0.0, 10)", TypeError, "config"),
        ({}, ValueError, "type"),
        ({"type": "os.system", "command": "echo hi"}, ValueError, "os.system"),
        ({"type": "__import__", "name": "os"}, ValueError, "__import__"),
        ({"type": "Cosine", "start": 1.0, "end": 0.0, "steps": 10}, ValueError, "Did you mean 'cosine'"),
        ({"type": "cosin", "start": 1.0, "end": 0.0, "steps": 10}, ValueError, "Did you mean 'cosine'"),
        ({"type": ["cosine"]}, ValueError, "type"),
        ({"type": "cosine", "start": 1.0, "end": 0.0}, ValueError, "steps"),
        ({"type": "cosine", "start": 1.0, "end": 0.0, "steps": 10, "extra": 1}, ValueError, "extra"),
        ({"type": "cosine", "start": 1.0, "end": 0.0, "steps": 10, "__class__": "x"}, ValueError, "__class__"),
        ({"type": "cosine", "start": {"a": 1}, "end": 0.0, "steps": 10}, TypeError, "start"),
        ({"type": "cosine", "start": "1.0", "end": 0.0, "steps": 10}, TypeError, "start"),
        ({"type": "cosine", "start": 1.0, "end": 0.0, "steps": 10.5}, ValueError, "steps"),
        ({"type": "cosine", "start": 1.0, "end": 0.0, "steps": -1}, ValueError, "steps"),
        ({"type": "warmup", "schedule": 0.1, "steps": 3}, TypeError, "schedule"),
        ({"type": "warmup", "schedule": {"type": "nope"}, "steps": 3}, ValueError, "config.schedule.type"),
        ({"type": "join", "schedules": [{"type": "constant", "value": 1.0}, "x"], "boundaries": [3]},
         TypeError, "schedules[1]"),
        ({"type": "join", "schedules": {"type": "constant", "value": 1.0}, "boundaries": []},
         TypeError, "schedules"),
        ({"type": "product", "schedules": [{"type": "constant", "value": 1.0}]}, ValueError, "schedules"),
    ],
    ids=lambda x: repr(x)[:30],
)
def test_bad_configs_are_refused(config, exc, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc) as info:
        lk.from_config(config)
    assert words in str(info.value)


def test_every_kind_round_trips_without_importing_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    configs = [json.loads(json.dumps(s.to_config())) for s in ALL_KINDS]
    assert {c["type"] for c in configs} == set(_REGISTRY)

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError(f"from_config imported {args[0]!r}")

    monkeypatch.setattr(builtins, "__import__", refuse)
    rebuilt = [lk.from_config(c) for c in configs]
    monkeypatch.undo()
    assert rebuilt == list(ALL_KINDS)


def test_config_is_plain_json() -> None:
    config = GOOD.to_config()
    assert json.loads(json.dumps(config, allow_nan=False)) == config
    assert lk.from_config(config) == GOOD
    # The config is a copy: editing it does not touch the schedule.
    config["schedules"][1]["value"] = 99.0
    assert GOOD.to_config() != config


def test_refusals_import_nothing_either(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        # The one import allowed: the standard library's difflib, for "did you mean" in the message
        # (imported on that error path only, so that ``import lrkit`` stays light). Never a name
        # taken from the config.
        if args[0] == "difflib":
            return real_import(*args, **kwargs)
        raise AssertionError(f"from_config imported {args[0]!r}")

    monkeypatch.setattr(builtins, "__import__", refuse)
    for bad in ({"type": "cosin"}, {"type": "os.system"}, {"type": "cosine", "x": 1}, [1]):
        with pytest.raises((ValueError, TypeError)):
            lk.from_config(bad)

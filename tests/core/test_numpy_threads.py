"""Large numpy arrays of steps are evaluated on several threads, one contiguous span each
(``lrkit._base._spans``, ``LRKIT_NUM_THREADS``): every span holds the values of the independent
reference, in particular at the span borders b - 1, b, b + 1, the split changes no bit, and a bad
array names its first bad step whatever thread meets it first.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from helpers import need
from reference import evaluate_config
from schedule_strategies import mixed_join

import lrkit as lk
from lrkit import _base

need("core")

N = 3 * (_base.PARALLEL_MIN // 2) + 5  # three spans with three threads


@pytest.fixture
def three(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Three threads, and the names of the threads that evaluate a chunk."""
    monkeypatch.setenv("LRKIT_NUM_THREADS", "3")
    seen: list[str] = []
    real = _base.Schedule._fill

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(threading.current_thread().name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(_base.Schedule, "_fill", spy)
    return seen


def test_spans_cover_the_array_on_chunk_borders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRKIT_NUM_THREADS", "3")
    spans = _base._spans(N)
    assert len(spans) == 3
    assert spans[0][0] == 0 and spans[-1][1] == N
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert all(lo % _base._CHUNK == 0 for lo, _ in spans)
    assert _base._spans(_base.PARALLEL_MIN - 1) == [(0, _base.PARALLEL_MIN - 1)]  # below: one span
    monkeypatch.setenv("LRKIT_NUM_THREADS", "1")
    assert _base._spans(N) == [(0, N)]


def test_warmup_cosine_matches_a_formula_written_here(three: list[str]) -> None:
    w, total = 1000, N - 1000
    s = lk.warmup(lk.cosine(2.0, 0.1, total), w)
    t = np.arange(N)
    got = s(t)
    assert sorted(set(three)) == ["MainThread", "lrkit-eval-1", "lrkit-eval-2"]
    tf = t.astype(np.float64)
    want = np.where(tf < w, 2.0 * tf / w, 0.1 + (2.0 - 0.1) * 0.5 * (1.0 + np.cos(np.pi * (tf - w) / total)))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    borders = np.array([lo for lo, _ in _base._spans(N)][1:])
    for k in np.concatenate([borders - 1, borders, borders + 1, [0, w - 1, w, w + 1, N - 1]]):
        assert got[k] == pytest.approx(evaluate_config(s.to_config(), int(k)), rel=1e-12, abs=1e-15)


def test_the_split_changes_no_bit(three: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_base, "PARALLEL_MIN", 2 * _base._CHUNK)  # three one-chunk spans: a faster test
    n = 3 * _base._CHUNK
    join = mixed_join(300)
    s = join * lk.cosine_wave(1.0, 0.5, 977)
    t = np.random.default_rng(0).integers(0, join.boundaries[-1] + 50, n)  # each span crosses every piece
    split = s(t)
    assert len(set(three)) == 3
    monkeypatch.setenv("LRKIT_NUM_THREADS", "1")
    np.testing.assert_array_equal(split, s(t))
    config = s.to_config()
    for k in range(0, n, n // 97):
        assert split[k] == pytest.approx(evaluate_config(config, int(t[k])), rel=1e-12, abs=1e-15)


def test_float_and_2d_steps(three: list[str]) -> None:
    s = lk.linear(1.0, 0.0, 2 * N)
    t = (np.arange(N - 1, dtype=np.float64) + 0.5).reshape(-1, 2)
    np.testing.assert_allclose(s(t), 1.0 - t / (2 * N), rtol=1e-13)


@pytest.mark.parametrize("bad", [math.nan, -1.0, math.inf])
def test_the_first_bad_step_is_named_whatever_thread_meets_it(three: list[str], bad: float) -> None:
    s = lk.linear(1.0, 0.0, 100)
    t = np.arange(N, dtype=np.float64)
    spans = _base._spans(N)
    t[spans[1][0] + 7] = bad  # in the second span
    t[spans[2][0]] = -2.5  # and at the very start of the third, met first by its thread
    with pytest.raises(ValueError, match=rf"Received: step containing {bad!r}"):
        s(t)
    t[spans[1][0] + 7] = 1.0
    with pytest.raises(ValueError, match=r"Received: step containing -2\.5"):
        s(t)


@pytest.mark.parametrize("raw", ["0", "-2", "two", "1.5", "٣"])
def test_a_bad_thread_count_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("LRKIT_NUM_THREADS", raw)
    with pytest.raises(ValueError, match=rf"LRKIT_NUM_THREADS must be a positive integer. Received: '{raw}'"):
        lk.constant(1.0)(np.arange(_base.PARALLEL_MIN))


def test_small_arrays_stay_on_the_calling_thread(three: list[str]) -> None:
    lk.constant(1.0)(np.arange(_base.PARALLEL_MIN - 1))
    assert set(three) == {"MainThread"}


def test_without_new_threads_the_calling_thread_does_every_span(three: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """At interpreter shutdown ``Thread.start`` raises: the spans still run, here, with the same values."""

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    s = lk.linear(1.0, 0.0, 2 * N)
    t = np.arange(N)
    np.testing.assert_allclose(s(t), 1.0 - t / (2 * N), rtol=1e-13)
    assert set(three) == {"MainThread"} and len(three) == 3

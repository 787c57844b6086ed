"""numpy arrays of steps over a join of many pieces: evaluated with one search and each group of
alike pieces once (``NumpyOps.gathered_piecewise``) where the steps cross many pieces, and still the
values of the independent reference (``tests/reference.py``) at every step, in particular at each
boundary b - 1, b, b + 1, for sorted, shuffled and 2-D arrays of steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import need
from reference import evaluate_config
from schedule_strategies import mixed_join

from lrkit._ops import NumpyOps

need("core")


@pytest.mark.parametrize(("n", "gathers"), [(12, False), (200, True)])  # 12 pieces: under 4 per group
def test_many_pieces_match_the_reference_at_every_step(n: int, gathers: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    s = mixed_join(n)
    gathered = []
    real = NumpyOps.gathered_piecewise
    monkeypatch.setattr(NumpyOps, "gathered_piecewise",
                        lambda self, *a: gathered.append(1) or real(self, *a))  # type: ignore[func-returns-value]
    config = s.to_config()
    edges = np.asarray(s.boundaries)
    t = np.arange(int(edges[-1]) + 30)
    want = np.array([evaluate_config(config, int(k)) for k in t])
    np.testing.assert_allclose(s(t), want, rtol=1e-12, atol=1e-15)
    assert bool(gathered) == gathers
    probes = np.unique(np.concatenate([edges - 1, edges, edges + 1]))
    np.testing.assert_allclose(s(probes), want[probes], rtol=1e-12, atol=1e-15)
    perm = np.random.default_rng(0).permutation(t.size)
    np.testing.assert_allclose(s(t[perm]), want[perm], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(s(t.reshape(-1, 2) if t.size % 2 == 0 else t[:-1].reshape(-1, 2)),
                               (want if t.size % 2 == 0 else want[:-1]).reshape(-1, 2), rtol=1e-12, atol=1e-15)


def test_gathered_and_piece_by_piece_give_the_same_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same arithmetic per step either way: the values are identical, not only close."""
    s = mixed_join(300)
    t = np.arange(int(s.boundaries[-1]) + 30)
    gathered = s(t)
    monkeypatch.setattr(NumpyOps, "_worth_gathering", staticmethod(lambda *a: False))
    by_piece = s(t)
    np.testing.assert_array_equal(gathered, by_piece)


def test_few_pieces_crossed_stay_piece_by_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    s = mixed_join(200)
    used: list[Any] = []
    monkeypatch.setattr(NumpyOps, "gathered_piecewise", lambda self, *a: used.append(1))
    t = np.arange(20, 60)  # inside a few pieces
    assert np.isfinite(s(t)).all() and not used

"""One schedule of every registered node type (with non-default options), for whole-registry tests."""

from __future__ import annotations

import lrkit as lk
from lrkit._compose import shift

ALL_KINDS = (
    lk.constant(0.1),
    lk.linear(0.0, 0.2, 20),
    lk.cosine(0.3, 0.01, 40),
    lk.cosine_wave(0.3, 0.0, 30, cycles=2.5, restart=True),
    lk.exponential(0.5, 0.5, 4, staircase=True, end=0.05),
    lk.polynomial(0.5, 0.01, 10, power=0.5, cycle=True),
    lk.step(0.4, 0.5, 7),
    lk.multistep(0.4, [5, 12, 12, 30], 0.3),
    lk.piecewise_constant([3, 10, 25], [0.4, 0.2, 0.05, 0.01]),
    lk.piecewise_linear([0, 5, 20, 30], [0.0, 0.4, 0.1, 0.2]),
    lk.inverse_sqrt(0.3, 10),
    lk.inverse_time(0.3, 0.5, 4, staircase=True),
    lk.cyclic(0.01, 0.3, 4, 6, mode="exp_range", gamma=0.97),
    lk.one_cycle(0.4, 60, pct_start=0.25, anneal="linear", three_phase=True),
    lk.cosine_restarts(0.3, 0.01, 5, period_mult=2.0, decay=0.5),
    lk.restarts(0.3, 0.01, 5, "tanh", period_mult=1.5, decay=0.5, limit=3, k=2.0, lb=-5.0, ub=4.0),
    lk.warmup_stable_decay(0.3, 5, 10, 10, end=0.01, shape="cosine"),
    lk.join([lk.linear(0.0, 0.3, 5), lk.constant(0.3)], [5]),
    lk.warmup(lk.exponential(0.3, 0.9, 2), 8, start=0.01, shape="cosine", overlay=True),
    lk.per_epoch(lk.multistep(0.3, [2, 4], 0.1), 7),
    lk.cosine(1.0, 0.1, 30) * lk.step(0.3, 0.5, 10),
    lk.constant(0.01) + lk.cosine(0.2, 0.0, 6),
    0.5 * lk.cyclic(0.0, 0.4, 5),
    lk.cosine(1.0, 0.0, 30) ** 2.0,
    shift(lk.linear(0.0, 1.0, 10), 3),
    lk.cooldown(lk.cosine(0.3, 0.1, 50), 20, 10, end=0.01, shape="square"),
    lk.rounded(lk.linear(8.0, 20.0, 30)),
    lk.per_tokens(lk.cosine(0.3, 0.0, 5000), lk.rounded(lk.warmup(lk.constant(64.0), 10, start=8.0))),
)

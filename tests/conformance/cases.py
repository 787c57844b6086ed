"""The conformance cases: every constructor and composition form, with a horizon to probe up to.

Each backend harness applies these schedules through its real optimizer; the applied learning
rates are compared with the independent reference interpreter (``tests/reference.py``) at the
steps from ``helpers.probe_steps`` (every boundary at b-1, b, b+1) plus far steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import lrkit as lk


@dataclass(frozen=True)
class Case:
    id: str
    schedule: lk.Schedule
    horizon: int


def _join_many() -> lk.Schedule:
    """40 pieces of 1 to 16 steps: linear, cosine, constant, exponential and polynomial leaves with
    different parameters, and a few compositions evaluated on their own."""
    kinds = [
        lambda i: lk.linear(0.01 * (i % 7), 0.3 - 0.01 * (i % 5), 3 + i % 9),
        lambda i: lk.cosine(0.3 - 0.005 * i, 0.001 * i, 2 + i % 11),
        lambda i: lk.constant(0.02 + 0.003 * i),
        lambda i: lk.exponential(0.3 - 0.004 * i, 0.9, 1 + i % 3),
        lambda i: lk.polynomial(0.25, 0.001 * i, 4 + i % 6, power=2.0),
        lambda i: lk.linear(0.2, 0.2, 5),
    ]
    pieces = [kinds[(i * 7) % len(kinds)](i) for i in range(36)]
    pieces[5] = lk.warmup(lk.cosine(0.3, 0.0, 6), 3)
    pieces[17] = lk.join([lk.constant(0.1), lk.linear(0.1, 0.0, 4)], [2])
    pieces[29] = lk.exponential(0.2, 1.05, 2, end=0.25)
    pieces += [lk.constant(0.05), lk.linear(0.05, 0.2, 8), lk.cosine(0.2, 0.01, 9), lk.constant(0.01)]
    lengths = [1 + (i * 5) % 16 for i in range(len(pieces) - 1)]
    boundaries = [sum(lengths[: i + 1]) for i in range(len(lengths))]
    return lk.join(pieces, boundaries)


CASES = [
    Case("constant", lk.constant(0.1), 50),
    Case("linear", lk.linear(0.0, 0.2, 20), 60),
    Case("cosine", lk.cosine(0.3, 0.01, 40), 80),
    Case("cosine_wave", lk.cosine_wave(0.3, 0.01, 20), 90),
    Case("cosine_wave_restart", lk.cosine_wave(0.3, 0.0, 30, cycles=2.5, restart=True), 70),
    Case("exponential", lk.exponential(0.5, 0.9, 3), 60),
    Case("exponential_staircase_end", lk.exponential(0.5, 0.5, 4, staircase=True, end=0.05), 60),
    Case("exponential_growth_end", lk.exponential(0.01, 1.5, 2, end=0.4), 60),
    Case("polynomial", lk.polynomial(0.5, 0.01, 30, power=2.0), 60),
    Case("polynomial_cycle", lk.polynomial(0.5, 0.01, 10, power=0.5, cycle=True), 45),
    Case("step", lk.step(0.4, 0.5, 7), 50),
    Case("multistep", lk.multistep(0.4, [5, 12, 12, 30], 0.3), 50),
    Case("piecewise_constant", lk.piecewise_constant([3, 10, 25], [0.4, 0.2, 0.05, 0.01]), 40),
    Case("piecewise_linear", lk.piecewise_linear([0, 5, 20, 30], [0.0, 0.4, 0.1, 0.2]), 45),
    Case("inverse_sqrt", lk.inverse_sqrt(0.3, 10), 80),
    Case("inverse_time", lk.inverse_time(0.3, 0.5, 4), 60),
    Case("inverse_time_staircase", lk.inverse_time(0.3, 0.5, 4, staircase=True), 60),
    Case("cyclic", lk.cyclic(0.01, 0.3, 5, 8), 60),
    Case("cyclic_triangular2", lk.cyclic(0.01, 0.3, 4, mode="triangular2"), 60),
    Case("cyclic_exp_range", lk.cyclic(0.01, 0.3, 4, 6, mode="exp_range", gamma=0.97), 60),
    Case("one_cycle", lk.one_cycle(0.4, 50), 60),
    Case("one_cycle_linear_3phase", lk.one_cycle(0.4, 60, pct_start=0.25, anneal="linear", three_phase=True), 70),
    Case("cosine_restarts", lk.cosine_restarts(0.3, 0.01, 8), 50),
    Case("cosine_restarts_mult_decay", lk.cosine_restarts(0.3, 0.01, 5, period_mult=2.0, decay=0.5), 80),
    Case("restarts_cosine_k_limit", lk.restarts(0.3, 0.01, 6, period_mult=1.5, decay=0.7, limit=3, k=1.7), 50),
    Case("restarts_tanh", lk.restarts(0.3, 0.01, 10, shape="tanh", decay=0.5), 45),
    Case("restarts_polynomial", lk.restarts(0.3, 0.02, 8, shape="polynomial", power=0.5, k=0.6, limit=2), 30),
    Case("wsd_linear", lk.warmup_stable_decay(0.3, 5, 10, 10), 40),
    Case("wsd_cosine", lk.warmup_stable_decay(0.3, 5, 10, 10, end=0.01, shape="cosine"), 40),
    Case("wsd_sqrt", lk.warmup_stable_decay(0.3, 0, 10, 16, end=0.02, shape="sqrt"), 40),
    Case("join", lk.join([lk.linear(0.0, 0.3, 5), lk.constant(0.3), lk.cosine(0.3, 0.0, 20)], [5, 12]), 50),
    # Many pieces: array backends evaluate a join by groups of alike leaves (Ops.gathered_piecewise).
    Case("join_many", _join_many(), 420),
    Case("warmup_linear", lk.warmup(lk.cosine(0.3, 0.0, 30), 6), 50),
    Case("warmup_cosine_start", lk.warmup(lk.exponential(0.3, 0.9, 2), 8, start=0.01, shape="cosine"), 50),
    Case("warmup_exponential", lk.warmup(lk.linear(0.3, 0.0, 30), 5, start=0.001, shape="exponential"), 50),
    Case("warmup_overlay", lk.warmup(lk.polynomial(0.3, 0.0, 40), 10, overlay=True), 50),
    Case("product", lk.cosine(1.0, 0.1, 30) * lk.step(0.3, 0.5, 10), 50),
    Case("scale", 0.5 * lk.cyclic(0.0, 0.4, 5), 40),
    Case("sum", lk.constant(0.01) + lk.cosine_restarts(0.2, 0.0, 6, period_mult=1.5, decay=0.8), 50),
    Case("power", lk.cosine(1.0, 0.0, 30) ** 2.0 * 0.3, 40),
    Case("per_epoch", lk.per_epoch(lk.multistep(0.3, [2, 4], 0.1), 7), 50),
    # SPEC section 9: WSD 1-square, cooldown branches, integer values, token clocks, bound percentages.
    Case("wsd_square", lk.warmup_stable_decay(0.3, 4, 6, 13, end=0.01, shape="square"), 40),
    Case("cooldown_linear", lk.cooldown(lk.warmup(lk.constant(0.3), 5), 17, 9, end=0.01), 40),
    Case("cooldown_sqrt", lk.cooldown(lk.cosine(0.3, 0.1, 60), 20, 15, shape="sqrt"), 50),
    Case("cooldown_square_at_0", lk.cooldown(lk.constant(0.3), 0, 12, end=0.05, shape="square"), 30),
    Case("cooldown_cosine", lk.cooldown(lk.step(0.3, 0.5, 8), 25, 10, shape="cosine"), 50),
    Case("rounded", lk.rounded(lk.linear(8.0, 64.0, 40)) * 0.005, 60),
    Case("per_tokens_int", lk.per_tokens(lk.warmup(lk.cosine(0.3, 0.0, 4096), 512), 64), 90),
    Case(
        "per_tokens_batch_ramp",
        lk.per_tokens(lk.join([lk.linear(0.0, 0.3, 300), lk.cosine(0.3, 0.01, 4000)], [300]),
                      lk.rounded(lk.warmup(lk.piecewise_constant([30], [32.0, 64.0]), 25, start=4.0))),
        80,
    ),
    Case("per_tokens_linear_batch", lk.per_tokens(lk.cosine(0.3, 0.0, 2000), lk.linear(10.0, 40.0, 15)), 70),
    Case("bound_percent_wsd", lk.warmup_stable_decay(0.3, "5%", "70%", "25%", shape="sqrt").bind(37), 45),
    Case("bound_percent_join", lk.join([lk.linear(0.0, 0.3, "12.5%"), lk.cosine(0.3, 0.0, "87.5%")],
                                       ["12.5%"]).bind(61), 70),
    Case("stretched", lk.stretch(lk.warmup(lk.multistep(0.3, [10, 17], 0.5), 6), 1.7), 50),
    Case(
        "nested",
        lk.per_epoch(lk.warmup(lk.join([lk.constant(0.2), lk.step(0.2, 0.5, 2)], [3]), 2), 4),
        60,
    ),
]

#: Far steps probed by the seeking harnesses (below optax's int32 limit; float32 paths keep one ulp
#: there too: the step counter is exact, and lrkit evaluates it in float64).
FAR_STEPS = (1_000, 10**6, 2**24 - 1, 2**24 + 1, 10**9, 2**31 - 2)

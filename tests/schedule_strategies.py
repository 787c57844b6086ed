"""Hypothesis strategies drawing lrkit schedules: every leaf constructor and random composition trees.

``leaves()`` / ``leaf(kind)`` draw ``(schedule, horizon)`` pairs, ``horizon`` being a step range that
covers the interesting part of the curve (a few cycles, the whole decay and some steps past it).
``trees()`` draws nested compositions (join, warmup, per_epoch, products, sums, scaling, powers)
whose values stay finite at every step.

Every drawn schedule is one lrkit accepts: its values stay finite up to step 2**53 (SPEC section 11),
so growth is capped (an exponential growing without ``end`` overflows long before 2**53 and is refused
at construction). ``hostile_leaves()`` and ``hostile_trees()`` draw anything, absurd arguments included,
for the tests that check what construction refuses.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

import lrkit as lk

values = st.one_of(st.just(0.0), st.floats(1e-4, 10.0), st.sampled_from([1e-3, 0.1, 1.0]))
positive_values = st.one_of(st.floats(1e-4, 10.0), st.sampled_from([1e-3, 0.1, 1.0]))
durations = st.one_of(st.integers(1, 500), st.sampled_from([1, 2, 3, 10, 100]))
small_durations = st.integers(1, 60)

Drawn = tuple[lk.Schedule, int]


@st.composite
def _constant(draw: Any) -> Drawn:
    return lk.constant(draw(values)), 10


@st.composite
def _linear(draw: Any) -> Drawn:
    n = draw(durations)
    return lk.linear(draw(values), draw(values), n), 2 * n + 2


@st.composite
def _cosine(draw: Any) -> Drawn:
    n = draw(durations)
    return lk.cosine(draw(values), draw(values), n), 2 * n + 2


@st.composite
def _cosine_wave(draw: Any) -> Drawn:
    n = draw(durations)
    cycles = draw(st.one_of(st.sampled_from([0.5, 1.0, 2.5]), st.floats(0.1, 4.0)))
    return lk.cosine_wave(draw(values), draw(values), n, cycles, draw(st.booleans())), 3 * n + 2


@st.composite
def _exponential(draw: Any, bounded: bool = False) -> Drawn:
    rate = draw(st.one_of(st.floats(0.01, 0.999), st.floats(1.001, 3.0), st.just(1.0)))
    # Growth without `end` would overflow before step 2**53: refused, so growth always has an end.
    end = draw(values) if rate > 1 else draw(st.one_of(st.none(), values))
    every = draw(durations)
    return lk.exponential(draw(values), rate, every, draw(st.booleans()), end), 5 * every + 2


@st.composite
def _polynomial(draw: Any) -> Drawn:
    n = draw(durations)
    p = draw(st.one_of(st.floats(0.1, 4.0), st.sampled_from([0.5, 1.0, 2.0])))
    return lk.polynomial(draw(values), draw(values), n, p, draw(st.booleans())), 3 * n + 2


@st.composite
def _step(draw: Any, bounded: bool = False) -> Drawn:
    every = draw(durations)
    gamma = draw(st.floats(0.01, 1.0))  # growth (gamma > 1) overflows before step 2**53: refused
    return lk.step(draw(values), gamma, every), 5 * every + 2


@st.composite
def _multistep(draw: Any) -> Drawn:
    ms = sorted(draw(st.lists(st.integers(1, 1000), max_size=6)))
    return lk.multistep(draw(values), ms, draw(st.floats(0.01, 2.0))), (ms[-1] if ms else 0) + 10


@st.composite
def _piecewise_constant(draw: Any) -> Drawn:
    bs = sorted(draw(st.sets(st.integers(1, 1000), max_size=6)))
    vs = draw(st.lists(values, min_size=len(bs) + 1, max_size=len(bs) + 1))
    return lk.piecewise_constant(bs, vs), (bs[-1] if bs else 0) + 10


@st.composite
def _piecewise_linear(draw: Any) -> Drawn:
    xs = sorted(draw(st.sets(st.integers(0, 1000), min_size=1, max_size=6)))
    vs = draw(st.lists(values, min_size=len(xs), max_size=len(xs)))
    return lk.piecewise_linear(xs, vs), xs[-1] + 10


@st.composite
def _inverse_sqrt(draw: Any) -> Drawn:
    n = draw(durations)
    return lk.inverse_sqrt(draw(values), n), 4 * n


@st.composite
def _inverse_time(draw: Any) -> Drawn:
    every = draw(durations)
    return lk.inverse_time(draw(values), draw(st.floats(0.01, 10.0)), every, draw(st.booleans())), 5 * every


@st.composite
def _cyclic(draw: Any) -> Drawn:
    up = draw(st.integers(1, 200))
    down = draw(st.one_of(st.none(), st.integers(1, 200)))
    mode = draw(st.sampled_from(["triangular", "triangular2", "exp_range"]))
    gamma = draw(st.floats(0.9, 1.0))
    s = lk.cyclic(draw(values), draw(values), up, down, mode, gamma)
    return s, 3 * (up + (down if down is not None else up)) + 2


@st.composite
def _one_cycle(draw: Any) -> Drawn:
    n = draw(st.integers(2, 2000))
    pct = draw(st.one_of(st.floats(0.05, 0.95), st.sampled_from([0.25, 0.3, 0.5])))
    div = draw(st.floats(1.0, 100.0))
    final = draw(st.one_of(st.floats(1.0, 1e5), st.just(1e4)))
    anneal = draw(st.sampled_from(["cosine", "linear"]))
    three = draw(st.booleans())
    try:
        s = lk.one_cycle(draw(values), n, pct, div, final, anneal, three)
    except ValueError:  # an empty phase (torch divides by zero there)
        assume(False)
    return s, n + 5


@st.composite
def _cosine_restarts(draw: Any, bounded: bool = False) -> Drawn:
    period = draw(st.integers(1, 100))
    # Multipliers as users write them (1.1, 1.25); very close to 1 would mean millions of cycles.
    mult = draw(st.one_of(st.sampled_from([1.0, 1.5, 2.0, 3.0]), st.integers(105, 300).map(lambda k: k / 100)))
    # Growing restarts stay finite up to step 2**53 only when the cycles grow fast (few cycles): with
    # mult >= 1.5 at most ~90 cycles fit, and 1.5 ** 90 is finite; slower growth is refused (SPEC 11).
    decay = draw(st.floats(0.1, 1.0 if bounded or mult < 1.5 else 1.5))
    horizon = min(int(period * sum(mult**i for i in range(4))) + 2, 5000)
    return lk.cosine_restarts(draw(values), draw(values), period, mult, decay), horizon


@st.composite
def _restarts(draw: Any, bounded: bool = False) -> Drawn:
    period = draw(st.integers(1, 100))
    mult = draw(st.one_of(st.sampled_from([1.0, 1.5, 2.0]), st.integers(105, 300).map(lambda k: k / 100)))
    limit = draw(st.one_of(st.none(), st.integers(1, 4)))
    # Growing restarts stay finite only over few cycles: a cycle limit, or cycles that grow fast.
    decay = draw(st.floats(0.1, 1.0 if bounded or (limit is None and mult < 1.5) else 1.5))
    shape = draw(st.sampled_from(["cosine", "tanh", "polynomial"]))
    k = draw(st.one_of(st.just(1.0), st.floats(0.2, 3.0)))
    power = draw(st.floats(0.1, 3.0)) if shape == "polynomial" else 1.0
    lb, ub = (-7.0, 3.0)
    if shape == "tanh" and draw(st.booleans()):
        lb = draw(st.floats(-10.0, 5.0))
        ub = lb + draw(st.floats(0.1, 10.0))
    horizon = min(int(period * sum(mult**i for i in range(4))) + 2, 5000)
    s = lk.restarts(draw(values), draw(values), period, shape, mult, decay, limit, k, power, lb, ub)
    return s, horizon


@st.composite
def _warmup_stable_decay(draw: Any) -> Drawn:
    w, s, d = draw(st.integers(0, 200)), draw(st.integers(0, 200)), draw(st.integers(1, 200))
    shape = draw(st.sampled_from(["linear", "cosine", "sqrt", "square"]))
    return lk.warmup_stable_decay(draw(values), w, s, d, draw(values), shape), w + s + d + 10


LEAVES = {
    "constant": _constant,
    "linear": _linear,
    "cosine": _cosine,
    "cosine_wave": _cosine_wave,
    "exponential": _exponential,
    "polynomial": _polynomial,
    "step": _step,
    "multistep": _multistep,
    "piecewise_constant": _piecewise_constant,
    "piecewise_linear": _piecewise_linear,
    "inverse_sqrt": _inverse_sqrt,
    "inverse_time": _inverse_time,
    "cyclic": _cyclic,
    "one_cycle": _one_cycle,
    "cosine_restarts": _cosine_restarts,
    "restarts": _restarts,
    "warmup_stable_decay": _warmup_stable_decay,
}


@functools.cache
def leaf(kind: str) -> st.SearchStrategy[Drawn]:
    """``(schedule, horizon)`` for the leaf constructor ``kind``."""
    return LEAVES[kind]()


@functools.cache
def leaves(bounded: bool = True) -> st.SearchStrategy[Drawn]:
    """Any leaf; with ``bounded`` nothing grows at all (every leaf stays finite up to step 2**53
    either way; without ``bounded`` restarts with growing cycles may also grow their peak)."""
    growing = {
        "exponential": _exponential, "step": _step, "cosine_restarts": _cosine_restarts, "restarts": _restarts
    }
    parts = [f() for k, f in LEAVES.items() if k not in growing]
    return st.one_of(*parts, *(f(bounded) for f in growing.values()))


def _extend(children: st.SearchStrategy[Drawn]) -> st.SearchStrategy[Drawn]:
    @st.composite
    def join(draw: Any) -> Drawn:
        kids = draw(st.lists(children, min_size=1, max_size=3))
        gaps = draw(st.lists(st.integers(1, 300), min_size=len(kids) - 1, max_size=len(kids) - 1))
        bs, b = [], 0
        for g in gaps:
            b += g
            bs.append(b)
        return lk.join([k for k, _ in kids], bs), b + max(h for _, h in kids)

    @st.composite
    def warmup(draw: Any) -> Drawn:
        child, h = draw(children)
        n = draw(st.integers(1, 300))
        shape = draw(st.sampled_from(["linear", "cosine", "exponential"]))
        start = draw(positive_values if shape == "exponential" else values)
        overlay = draw(st.booleans())
        if shape == "exponential":
            assume(child(0) > 0)
        return lk.warmup(child, n, start, shape, overlay), n + h

    @st.composite
    def per_epoch(draw: Any) -> Drawn:
        child, h = draw(children)
        k = draw(st.integers(1, 20))
        return lk.per_epoch(child, k), min(k * h, 20_000)

    @st.composite
    def product(draw: Any) -> Drawn:
        (a, ha), (b, hb) = draw(children), draw(children)
        return a * b, max(ha, hb)

    @st.composite
    def total(draw: Any) -> Drawn:
        (a, ha), (b, hb) = draw(children), draw(children)
        return a + b, max(ha, hb)

    @st.composite
    def scaled(draw: Any) -> Drawn:
        a, h = draw(children)
        k = draw(values)
        return (k * a if draw(st.booleans()) else a * k), h

    @st.composite
    def powered(draw: Any) -> Drawn:
        # A power below 1 magnifies rounding near 0 without bound (d sqrt(x) = dx / 2 sqrt(x)):
        # it is applied only to schedules kept away from 0.
        a, h = draw(children)
        if draw(st.booleans()):
            return a ** draw(st.floats(1.0, 3.0)), h
        return (a + draw(st.floats(0.01, 1.0))) ** draw(st.floats(0.25, 1.0)), h

    @st.composite
    def shifted(draw: Any) -> Drawn:
        from lrkit._compose import shift

        a, h = draw(children)
        return shift(a, draw(st.integers(1, 100))), h

    @st.composite
    def cooled(draw: Any) -> Drawn:
        a, h = draw(children)
        at, n = draw(st.integers(0, 300)), draw(st.integers(1, 300))
        shape = draw(st.sampled_from(["linear", "cosine", "sqrt", "square"]))
        return lk.cooldown(a, at, n, draw(values), shape), max(h, at + n) + 10

    @st.composite
    def rounded(draw: Any) -> Drawn:
        a, h = draw(children)
        return lk.rounded(a * draw(st.floats(1.0, 1000.0))), h

    return st.one_of(join(), warmup(), per_epoch(), product(), total(), scaled(), powered(), shifted(),
                     cooled(), rounded())


#: Composition node types ``trees()`` draws (``product``/``sum``/``scale``/``power`` via operators).
COMPOSITIONS = ("join", "warmup", "per_epoch", "product", "sum", "scale", "power", "shift", "cooldown",
                "rounded")
#: Drawn by ``batch_sizes()``/``tests/core/test_recipes.py`` (defined at whole steps only).
RECIPES = ("per_tokens",)


@functools.cache
def trees(max_leaves: int = 6) -> st.SearchStrategy[Drawn]:
    """Random composition trees over bounded leaves."""
    return st.recursive(leaves(bounded=True), _extend, max_leaves=max_leaves)


#: Far steps probed everywhere: past float32's exact integers and near int32's limit.
FAR_STEPS = (10_000, 2**24 + 1, 10**9, 2**31 - 1)


@st.composite
def probe_steps_for(draw: Any, schedule: lk.Schedule, horizon: int, limit: int = 400) -> list[int]:
    """``helpers.probe_steps`` (every breakpoint b-1, b, b+1, the end) plus far and random steps.

    When a periodic schedule has more probes than ``limit``, the first breakpoints are all kept and
    a random sample of the rest is drawn.
    """
    from helpers import probe_steps

    steps = probe_steps(schedule, horizon, extra=FAR_STEPS)
    if len(steps) > limit:
        head, rest = steps[: limit // 2], steps[limit // 2 :]
        steps = head + sorted(draw(st.lists(st.sampled_from(rest), min_size=1, max_size=limit // 2, unique=True)))
    steps += draw(st.lists(st.integers(0, 10**7), max_size=5))
    return sorted(set(steps))


# -- hostile input (SPEC section 11): any argument, absurd ones included ------------------------------

#: The largest float64.
HUGE = 1.7976931348623157e308
#: Steps and durations lrkit guarantees (2**53, SPEC section 11).
MAX_STEP = 2**53



@functools.cache
def hostile_values(top: float = HUGE, bottom: float = 0.0) -> st.SearchStrategy[float]:
    """Values from the whole float range (0 and ``bottom`` to ``top``), edges and subnormals included."""
    edges = [0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 1e-8, 0.1, 1.0, 3.0, 1e8, 1e150, 1e300, HUGE]
    return st.one_of(
        st.sampled_from([x for x in edges if x == 0.0 or bottom <= x <= top]),
        st.one_of(st.just(0.0), st.floats(bottom, top)) if bottom else st.floats(0.0, top),
        st.floats(0.0, 10.0),
    )


hostile_durations = st.one_of(
    st.sampled_from([1, 2, 3, 7, 100, 2**24 + 1, 2**31 - 1, 2**31, 2**52, MAX_STEP - 1, MAX_STEP]),
    st.integers(1, MAX_STEP),
    st.integers(1, 1000),
)


@functools.cache
def hostile_factors(top: float = HUGE, bottom: float = 5e-324) -> st.SearchStrategy[float]:
    """Rates, gammas and factors: ``bottom`` (subnormal) to ``top``, with the edges around 1."""
    edges = [5e-324, 1e-300, 1e-8, 0.01, 0.5, 0.999999, 1 - 2**-53, 1.0, 1 + 2**-52, 1.000001, 1.1, 2.0, 10.0,
             1e8, 1e300, HUGE]
    return st.one_of(st.sampled_from([x for x in edges if bottom <= x <= top]), st.floats(bottom, top),
                     st.floats(0.01, 3.0))


#: Things that are not valid values at all: each must be refused with a message naming the argument.
nonsense = st.sampled_from([-1.0, -5e-324, math.nan, math.inf, -math.inf, "1", None, True, 2**53 + 1, 10**400, 0])


class Call:
    """A constructor call to make inside the test, so a refusal can be checked there.

    ``args``/``kwargs`` may hold other ``Call``s (child schedules), built first.
    """

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.name, self.args, self.kwargs = name, args, kwargs

    def build(self) -> Any:
        def make(v: Any) -> Any:
            if isinstance(v, Call):
                return v.build()
            if isinstance(v, list):
                return [make(x) for x in v]
            return v

        args = [make(a) for a in self.args]
        kwargs = {k: make(v) for k, v in self.kwargs.items()}
        if self.name in ("*", "+", "**"):
            a, b = args
            return a * b if self.name == "*" else a + b if self.name == "+" else a**b
        return getattr(lk, self.name)(*args, **kwargs)

    def __repr__(self) -> str:
        if self.name in ("*", "+", "**"):
            return f"({self.args[0]!r} {self.name} {self.args[1]!r})"
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"


def _maybe(draw: Any, strategy: st.SearchStrategy[Any], p_nonsense: int = 25) -> Any:
    """Mostly ``strategy``; now and then (1 in ``p_nonsense``) something that is not valid at all."""
    return draw(nonsense) if draw(st.integers(0, p_nonsense - 1)) == 0 else draw(strategy)


@st.composite
def hostile_leaves(draw: Any, top: float = HUGE, bottom: float = 0.0) -> Call:
    """A call of any leaf constructor with arguments from the whole float range (values and factors
    from ``bottom`` to ``top``, and 0) and durations up to 2**53."""
    values, factors = hostile_values(top, bottom), hostile_factors(top, bottom or 5e-324)
    v, d, f = (lambda: _maybe(draw, values)), (lambda: _maybe(draw, hostile_durations)), (
        lambda: _maybe(draw, factors))
    kind = draw(st.sampled_from(sorted(LEAVES)))
    if kind == "constant":
        return Call(kind, v())
    if kind in ("linear", "cosine"):
        return Call(kind, v(), v(), d())
    if kind == "cosine_wave":
        return Call(kind, v(), v(), d(), f(), draw(st.booleans()))
    if kind == "exponential":
        end = draw(st.one_of(st.none(), values))
        return Call(kind, v(), f(), d(), draw(st.booleans()), end)
    if kind == "polynomial":
        return Call(kind, v(), v(), d(), f(), draw(st.booleans()))
    if kind == "step":
        return Call(kind, v(), f(), d())
    if kind == "multistep":
        ms = sorted(draw(st.lists(hostile_durations, max_size=5)))
        return Call(kind, v(), ms, f())
    if kind == "piecewise_constant":
        bs = sorted(set(draw(st.lists(hostile_durations, max_size=4))))
        return Call(kind, bs, [v() for _ in range(len(bs) + 1)])
    if kind == "piecewise_linear":
        xs = sorted(set(draw(st.lists(st.one_of(st.just(0), hostile_durations), min_size=1, max_size=4))))
        return Call(kind, xs, [v() for _ in xs])
    if kind == "inverse_sqrt":
        return Call(kind, v(), d())
    if kind == "inverse_time":
        return Call(kind, v(), f(), d(), draw(st.booleans()))
    if kind == "cyclic":
        down = draw(st.one_of(st.none(), hostile_durations))
        mode = draw(st.sampled_from(["triangular", "triangular2", "exp_range"]))
        return Call(kind, v(), v(), d(), down, mode, f())
    if kind == "one_cycle":
        pct = draw(st.one_of(st.floats(1e-9, 1 - 1e-9), st.sampled_from([0.3, 0.5, 1e-300, 1 - 2**-53])))
        anneal = draw(st.sampled_from(["cosine", "linear"]))
        return Call(kind, v(), d(), pct, f(), f(), anneal, draw(st.booleans()))
    if kind == "cosine_restarts":
        mult = draw(st.one_of(st.just(1.0), st.floats(1.0, 1e6), st.sampled_from([1 + 2**-52, 1.0001, 2.0, 1e15])))
        return Call(kind, v(), v(), d(), mult, f())
    if kind == "restarts":
        mult = draw(st.one_of(st.just(1.0), st.floats(1.0, 1e6), st.sampled_from([1 + 2**-52, 1.0001, 2.0, 1e15])))
        shape = draw(st.sampled_from(["cosine", "tanh", "polynomial"]))
        limit = draw(st.one_of(st.none(), hostile_durations))
        power = f() if shape == "polynomial" else 1.0
        lb, ub = (-7.0, 3.0)
        if shape == "tanh":
            lb = draw(st.floats(-1e300, 1e300))
            ub = draw(st.floats(-1e300, 1e300))
        return Call(kind, v(), v(), d(), shape, mult, f(), limit, f(), power, lb, ub)
    assert kind == "warmup_stable_decay", kind
    counts = st.one_of(st.just(0), hostile_durations)
    shape = draw(st.sampled_from(["linear", "cosine", "sqrt", "square"]))
    return Call(kind, v(), draw(counts), draw(counts), d(), v(), shape)


def _hostile_extend(children: st.SearchStrategy[Call], top: float = HUGE, bottom: float = 0.0) -> st.SearchStrategy[Call]:
    values, factors = hostile_values(top, bottom), hostile_factors(top, bottom or 5e-324)

    @st.composite
    def node(draw: Any) -> Call:
        kind = draw(st.sampled_from(
            ["join", "warmup", "per_epoch", "*", "+", "scale", "**", "shift", "cooldown", "rounded", "per_tokens",
             "stretch"]
        ))
        a = draw(children)
        if kind == "join":
            kids = [a, *draw(st.lists(children, max_size=2))]
            bs = sorted(set(draw(st.lists(hostile_durations, min_size=len(kids) - 1, max_size=len(kids) - 1))))
            return Call("join", kids[: len(bs) + 1], bs)
        if kind == "warmup":
            shape = draw(st.sampled_from(["linear", "cosine", "exponential"]))
            return Call("warmup", a, draw(hostile_durations), draw(values), shape, draw(st.booleans()))
        if kind == "per_epoch":
            return Call("per_epoch", a, draw(hostile_durations))
        if kind in ("*", "+"):
            return Call(kind, a, draw(children))
        if kind == "scale":
            return Call("*", a, draw(values))
        if kind == "**":
            return Call("**", a, draw(factors))
        if kind == "shift":
            return Call("shift", a, draw(hostile_durations))
        if kind == "cooldown":
            shape = draw(st.sampled_from(["linear", "cosine", "sqrt", "square"]))
            return Call("cooldown", a, draw(st.one_of(st.just(0), hostile_durations)), draw(hostile_durations),
                        draw(values), shape)
        if kind == "rounded":
            return Call("rounded", a)
        if kind == "per_tokens":
            return Call("per_tokens", a, draw(hostile_durations))
        return Call("stretch", a, draw(st.one_of(st.sampled_from([0.5, 1.5, 2.0, 1e6]), st.floats(1e-3, 1e3))))

    return node()


@functools.cache
def hostile_trees(max_leaves: int = 4, top: float = HUGE, bottom: float = 0.0) -> st.SearchStrategy[Call]:
    """Composition trees over ``hostile_leaves()``, with absurd factors, powers, shifts and boundaries
    (values and factors from ``bottom`` to ``top``, and 0)."""
    return st.recursive(
        hostile_leaves(top, bottom), lambda ch: _hostile_extend(ch, top, bottom), max_leaves=max_leaves
    )


@st.composite
def hostile_steps(draw: Any, schedule: lk.Schedule, limit: int = 40) -> list[int]:
    """0, 1, 2**53 - 1, 2**53, random steps up to 2**53 and a few breakpoints b-1, b, b+1."""
    steps = {0, 1, 2, MAX_STEP - 1, MAX_STEP, *FAR_STEPS}
    steps.update(draw(st.lists(st.integers(0, MAX_STEP), max_size=8)))
    steps.update(draw(st.lists(st.integers(0, 10_000), max_size=4)))
    bs = schedule.breakpoints(MAX_STEP + 1)
    if bs:
        picked = draw(st.lists(st.sampled_from(bs), max_size=min(limit // 3, len(bs)), unique=True))
        steps.update(x for b in (*picked, bs[0], bs[-1]) for x in (b - 1, b, b + 1))
    d = schedule.duration
    if d is not None:
        steps.update((d - 1, d, d + 1))
    return sorted(t for t in steps if 0 <= t <= MAX_STEP)


def mixed_join(n: int) -> lk.Schedule:
    """A join of ``n`` pieces of 1 to 16 steps: linear (rising and falling), cosine (falling, and rising
    in every other cosine piece: a group of its own), constant, exponential and polynomial leaves with
    different parameters (groups of alike leaves), and every sixth a warmup (a composition, alike to
    none). Deterministic; n <= 300 keeps every value positive."""
    kinds = [
        lambda i: lk.linear(0.01 * (i % 7), 0.3 - 0.01 * (i % 5), 3 + i % 9),
        lambda i: (lk.cosine(0.3 - 0.001 * i, 0.0001 * i, 2 + i % 11) if i % 4 == 3
                   else lk.cosine(0.0001 * i, 0.3 - 0.001 * i, 2 + i % 11)),
        lambda i: lk.constant(0.02 + 0.0003 * i),
        lambda i: lk.exponential(0.3 - 0.0004 * i, 0.9, 1 + i % 3),
        lambda i: lk.polynomial(0.25, 0.0001 * i, 4 + i % 6, power=2.0),
        lambda i: lk.warmup(lk.cosine(0.3, 0.0, 6), 3),
    ]
    pieces = [kinds[(i * 7) % len(kinds)](i) for i in range(n)]
    lengths = [1 + (i * 5) % 16 for i in range(n - 1)]
    return lk.join(pieces, [sum(lengths[: i + 1]) for i in range(n - 1)])

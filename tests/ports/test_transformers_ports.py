"""``lk.from_transformers`` against the real ``transformers.get_scheduler``.

Each test draws the scheduler's arguments with hypothesis, builds the native with
``transformers.get_scheduler`` on a real torch optimizer, runs a real update loop to about three
times ``num_training_steps`` and records the optimizer's lr before each update. The port must give
that value at every step (numpy path) and at each probe step (scalar path, boundaries b-1, b, b+1).

transformers evaluates a closed-form multiplier per step (``LambdaLR``), so the tolerance is
float64-tight: ``rtol=1e-12`` and ``atol = 1e-15 * lr`` scaled by the cosine's phase in radians
(the argument ``2 pi c t / T`` carries a relative rounding of ``eps`` in both implementations, and
transformers' ``0.5 * (1 + cos x)`` loses relative precision near zero, which lrkit's
half-angle form does not).
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from typing import Any

import helpers
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import lrkit as lk

torch = helpers.need("torch")
transformers = helpers.need("transformers")

SWEEP = settings(max_examples=min(settings.default.max_examples, 40))

lr_st = st.floats(1e-6, 1.0)
warm_st = st.integers(0, 40)
total_st = st.integers(0, 150)
cycles_st = st.one_of(st.integers(0, 5), st.floats(0.0, 4.0))


def native_curve(name: str, lr: float, n: int, w: Any, total: Any, kw: dict[str, Any]) -> np.ndarray:
    param = torch.zeros(3, requires_grad=True)
    opt = torch.optim.AdamW([param], lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = transformers.get_scheduler(
            name, opt, num_warmup_steps=w, num_training_steps=total, scheduler_specific_kwargs=dict(kw)
        )
    out = []
    for _ in range(n):
        out.append(float(opt.param_groups[0]["lr"]))
        param.grad = torch.ones_like(param)
        opt.step()
        sched.step()
    return np.asarray(out)


def check(name: str, lr: float, w: Any, total: Any, phase: float = 0.0, **kw: Any) -> lk.Schedule:
    n = 3 * max(total or 0, w or 0, 10) + 3
    want = native_curve(name, lr, n, w, total, kw)
    s = lk.from_transformers(name, lr=lr, num_warmup_steps=w, num_training_steps=total, **kw)
    atol = 1e-15 * lr * (4.0 + 2 * math.pi * phase * n)
    got = s(np.arange(n))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=atol, err_msg=repr(s))
    probes = [t for t in helpers.probe_steps(s, n, (w or 0, total or 0)) if t < n]
    np.testing.assert_allclose([s(t) for t in probes], want[probes], rtol=1e-12, atol=atol, err_msg=repr(s))
    return s


def cycles_per_step(cycles: float, w: int, total: int) -> float:
    return abs(cycles) / max(1, total - w)


@SWEEP
@given(lr_st, warm_st, total_st)
def test_linear(lr: float, w: int, total: int) -> None:
    check("linear", lr, w, total)


@SWEEP
@given(lr_st, warm_st, total_st, cycles_st)
def test_cosine_rises_again_past_the_end(lr: float, w: int, total: int, cycles: float) -> None:
    check("cosine", lr, w, total, cycles_per_step(cycles, w, total), num_cycles=cycles)


@SWEEP
@given(lr_st, warm_st, total_st, cycles_st)
def test_cosine_with_restarts(lr: float, w: int, total: int, cycles: float) -> None:
    check("cosine_with_restarts", lr, w, total, cycles_per_step(cycles, w, total), num_cycles=cycles)


def test_cosine_with_restarts_lands_restarts_like_transformers() -> None:
    # 49 * (1 / 49) rounds to 0.999...: transformers stays at the bottom of the cycle there. The port
    # computes the phase in the same order, so it does too.
    check("cosine_with_restarts", 1e-3, 3, 52, 1.0, num_cycles=49)


@SWEEP
@given(lr_st, warm_st, total_st, st.floats(0.0, 0.999), st.floats(0.1, 3.0))
def test_polynomial(lr: float, w: int, total: int, end_frac: float, power: float) -> None:
    assume(total != w)  # transformers divides by total - w
    check("polynomial", lr, w, total, lr_end=lr * end_frac, power=power)


@SWEEP
@given(lr_st, warm_st, total_st)
def test_constant_and_constant_with_warmup(lr: float, w: int, total: int) -> None:
    check("constant", lr, None, None)
    check("constant_with_warmup", lr, w, total)


@SWEEP
@given(lr_st, warm_st, st.one_of(st.none(), st.integers(1, 100)))
def test_inverse_sqrt(lr: float, w: int, timescale: Any) -> None:
    kw = {} if timescale is None else {"timescale": timescale}
    check("inverse_sqrt", lr, w, None, **kw)


@SWEEP
@given(lr_st, warm_st, total_st, cycles_st, st.floats(0.0, 1.0), st.booleans())
def test_cosine_with_min_lr(lr: float, w: int, total: int, cycles: float, rate: float, absolute: bool) -> None:
    kw: dict[str, Any] = {"min_lr": rate * lr} if absolute else {"min_lr_rate": rate}
    check("cosine_with_min_lr", lr, w, total, cycles_per_step(cycles, w, total), num_cycles=cycles, **kw)


@SWEEP
@given(
    lr_st, warm_st, total_st, cycles_st, st.floats(0.0, 1.0), st.one_of(st.none(), st.floats(0.0, 1.0))
)
def test_cosine_warmup_with_min_lr(
    lr: float, w: int, total: int, cycles: float, rate: float, warmup_rate: Any
) -> None:
    kw: dict[str, Any] = {"min_lr_rate": rate}
    if warmup_rate is not None:
        kw["warmup_lr_rate"] = warmup_rate
    check(
        "cosine_warmup_with_min_lr", lr, w, total, cycles_per_step(cycles, w, total), num_cycles=cycles, **kw
    )


SHAPES = st.sampled_from(["linear", "cosine", "1-sqrt"])


@SWEEP
@given(
    lr_st,
    warm_st,
    st.integers(0, 50),
    st.one_of(st.none(), st.integers(0, 50)),
    total_st,
    SHAPES,
    SHAPES,
    st.one_of(st.just(0.0), st.floats(0.0, 1.0)),
    st.one_of(st.just(0.5), cycles_st),
)
def test_warmup_stable_decay(
    lr: float,
    w: int,
    decay: int,
    stable: Any,
    total: int,
    warmup_type: str,
    decay_type: str,
    ratio: float,
    cycles: float,
) -> None:
    # With only num_training_steps the stable phase is total - w - decay, which may be negative:
    # transformers then enters the decay part-way; the port does too.
    kw: dict[str, Any] = {
        "num_decay_steps": decay, "warmup_type": warmup_type, "decay_type": decay_type,
        "min_lr_ratio": ratio, "num_cycles": cycles,
    }
    if stable is not None:
        kw["num_stable_steps"] = stable
    s = check("warmup_stable_decay", lr, w, total, abs(cycles) / max(1, decay), **kw)
    if stable is not None and warmup_type == "linear" and ratio == 0.0 and (decay_type != "cosine" or cycles == 0.5) and decay:
        assert isinstance(s, type(lk.warmup_stable_decay(1.0, 1, 1, 1)))  # the plain leaf


def test_scheduler_type_enum_and_readable_trees() -> None:
    s = lk.from_transformers(transformers.SchedulerType.LINEAR, lr=1e-3, num_warmup_steps=10, num_training_steps=100)
    assert repr(s) == "warmup(linear(0.001, 0.0, 90), 10)"
    s = lk.from_transformers("cosine", lr=1e-3, num_warmup_steps=10, num_training_steps=110)
    assert repr(s) == "warmup(cosine_wave(0.001, 0.0, 100), 10)"
    assert lk.from_config(s.to_config()) == s


def test_every_transformers_name_is_known() -> None:
    from lrkit._ports.transformers import NAMES

    assert set(NAMES) == {t.value for t in transformers.SchedulerType}


def test_round_trip_through_the_lrkit_torch_adapter() -> None:
    """transformers -> lrkit -> lrkit.backends.torch.LRScheduler applies the same lrs in training."""
    from lrkit.backends.torch import LRScheduler

    lr, n = 3e-4, 120
    kw = {"num_cycles": 1.5, "min_lr_rate": 0.1}
    want = native_curve("cosine_warmup_with_min_lr", lr, n, 7, 40, kw)
    s = lk.from_transformers("cosine_warmup_with_min_lr", lr=lr, num_warmup_steps=7, num_training_steps=40, **kw)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=0.0)
    sched = LRScheduler(opt, s)
    got = []
    for _ in range(n):
        got.append(float(opt.param_groups[0]["lr"]))
        opt.zero_grad()
        model(torch.ones(4, 3)).pow(2).mean().backward()
        opt.step()
        sched.step()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-17)


# -- errors -------------------------------------------------------------------------------------


def test_unknown_name_lists_names_with_a_hint() -> None:
    with pytest.raises(ValueError, match=r"`name` must be one of .*'cosine_with_restarts'.*Did you mean 'cosine'"):
        lk.from_transformers("cosin", lr=1e-3, num_warmup_steps=1, num_training_steps=10)


@pytest.mark.parametrize(
    ("name", "kw", "missing"),
    [
        ("linear", {"num_training_steps": 10}, "num_warmup_steps"),
        ("linear", {"num_warmup_steps": 1}, "num_training_steps"),
        ("cosine", {"num_warmup_steps": 1}, "num_training_steps"),
        ("constant_with_warmup", {}, "num_warmup_steps"),
        ("inverse_sqrt", {}, "num_warmup_steps"),
        ("warmup_stable_decay", {"num_warmup_steps": 1, "num_decay_steps": 3}, "num_stable_steps"),
        ("cosine_with_min_lr", {"num_warmup_steps": 1, "num_training_steps": 10}, "min_lr"),
    ],
)
def test_missing_arguments_are_value_errors_like_transformers(name: str, kw: dict[str, Any], missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        lk.from_transformers(name, lr=1e-3, **kw)
    # transformers refuses the same call.
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3)
    specific = {k: v for k, v in kw.items() if k not in ("num_warmup_steps", "num_training_steps")}
    with pytest.raises(ValueError):
        transformers.get_scheduler(
            name, opt, num_warmup_steps=kw.get("num_warmup_steps"),
            num_training_steps=kw.get("num_training_steps"), scheduler_specific_kwargs=specific,
        )


def test_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="num_cycles"):
        lk.from_transformers("linear", lr=1e-3, num_warmup_steps=1, num_training_steps=10, num_cycles=2)


@pytest.mark.parametrize("name", ["reduce_lr_on_plateau", "greedy"])
def test_metric_driven_schedulers_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="ReduceOnPlateau"):
        lk.from_transformers(name, lr=1e-3)


@pytest.mark.parametrize(
    ("kw", "arg"),
    [
        ({"lr": -1.0}, "lr"),
        ({"lr": 1e-3, "num_warmup_steps": -1, "num_training_steps": 10}, "num_warmup_steps"),
        ({"lr": 1e-3, "num_warmup_steps": 1.5, "num_training_steps": 10}, "num_warmup_steps"),
    ],
)
def test_bad_values_name_the_argument(kw: dict[str, Any], arg: str) -> None:
    with pytest.raises((ValueError, TypeError), match=f"`{arg}`.*Received: {arg}="):
        lk.from_transformers("linear", **kw)


def test_polynomial_end_must_be_below_lr_like_transformers() -> None:
    with pytest.raises(ValueError, match="lr_end"):
        lk.from_transformers("polynomial", lr=1e-3, num_warmup_steps=1, num_training_steps=10, lr_end=1e-3)


def test_no_transformers_or_torch_import() -> None:
    code = (
        "import sys, lrkit as lk\n"
        "lk.from_transformers('cosine', lr=1e-3, num_warmup_steps=5, num_training_steps=50)(7)\n"
        "print('transformers' in sys.modules, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"

"""Cost of a plateau evaluation: lrkit vs the natives, measured side by side in one process.

* torch: ``LRScheduler(opt, lk.constant(lr), plateau=p).report(m)`` vs
  ``torch.optim.lr_scheduler.ReduceLROnPlateau(opt).step(m)`` on the same metric sequence
  (the learning rates are checked equal first).
* optax (if installed): one jitted update of ``lrkit.backends.optax.reduce_on_plateau`` vs
  ``optax.chain(optax.scale(-lr), optax.contrib.reduce_on_plateau())`` on a 1000-float pytree.

Rounds are interleaved and the best round kept. Prints microseconds per call and the ratio
lrkit / native (below 1.0 means lrkit is faster).

Run: ``python benchmarks/bench_plateau.py``
"""

from __future__ import annotations

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout too

import lrkit as lk

ROUNDS = 5
N = 2000
METRICS = [1.0 / (1 + (i // 7)) for i in range(N)]  # plateaus of 7 evaluations


def _best(fn) -> float:  # type: ignore[no-untyped-def]
    return min(fn() for _ in range(ROUNDS))


def bench_torch() -> None:
    import torch

    from lrkit.backends.torch import LRScheduler

    kw = {"patience": 3, "factor": 0.5, "min_lr": 1e-6}

    def opt():  # type: ignore[no-untyped-def]
        return torch.optim.SGD([torch.nn.Parameter(torch.zeros(4))], lr=0.1)

    def native() -> float:
        o = opt()
        s = torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kw)
        t = time.perf_counter()
        for m in METRICS:
            s.step(m)
        return (time.perf_counter() - t) / N

    def lrkit() -> float:
        o = opt()
        s = LRScheduler(o, lk.constant(0.1), plateau=lk.ReduceOnPlateau(**kw))
        t = time.perf_counter()
        for m in METRICS:
            s.report(m)
        return (time.perf_counter() - t) / N

    # same learning rates first
    o1, o2 = opt(), opt()
    s1 = torch.optim.lr_scheduler.ReduceLROnPlateau(o1, **kw)
    s2 = LRScheduler(o2, lk.constant(0.1), plateau=lk.ReduceOnPlateau(**kw))
    for m in METRICS[:200]:
        s1.step(m)
        s2.report(m)
        assert abs(o1.param_groups[0]["lr"] - o2.param_groups[0]["lr"]) <= 1e-12 * o1.param_groups[0]["lr"]
    times = {"native": [], "lrkit": []}
    for _ in range(ROUNDS):
        times["native"].append(native())
        times["lrkit"].append(lrkit())
    a, b = min(times["native"]), min(times["lrkit"])
    print(f"torch  report/step: native {a * 1e6:7.1f} us  lrkit {b * 1e6:7.1f} us  ratio {b / a:5.2f}")


def bench_optax() -> None:
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError:
        print("optax  (not installed: skipped)")
        return
    from lrkit.backends.optax import reduce_on_plateau

    params = jnp.zeros(1000)
    grads = jnp.ones(1000)
    txs = {
        "native": optax.chain(optax.scale(-0.1), optax.contrib.reduce_on_plateau(patience=3, factor=0.5)),
        "lrkit": reduce_on_plateau(lk.constant(0.1), lk.ReduceOnPlateau(patience=3, factor=0.5)),
    }
    steps = {k: jax.jit(lambda s, v, tx=tx: tx.update(grads, s, params, value=v)) for k, tx in txs.items()}
    values = jnp.asarray(METRICS[:500])

    def run(k: str) -> float:
        s = txs[k].init(params)
        u, s = steps[k](s, values[0])
        jax.block_until_ready(u)
        t = time.perf_counter()
        for v in values:
            u, s = steps[k](s, v)
        jax.block_until_ready(u)
        return (time.perf_counter() - t) / len(values)

    times = {"native": [], "lrkit": []}
    for _ in range(ROUNDS):
        for k in times:
            times[k].append(run(k))
    a, b = min(times["native"]), min(times["lrkit"])
    print(f"optax  jitted update: native {a * 1e6:7.1f} us  lrkit {b * 1e6:7.1f} us  ratio {b / a:5.2f}")


if __name__ == "__main__":
    bench_torch()
    bench_optax()

"""The bucket table that finds a step's piece in a join of many pieces on traced backends.

``lrkit._ops.bucket_table`` packs, per bucket of ``2**shift`` steps, the number of boundaries before
it and the position of the one boundary in it. The piece it gives must be the number of boundaries
``<= t`` (``np.searchsorted(..., side="right")``, the independent reference) at every step, in
particular at each boundary b - 1, b, b + 1 and past the last one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lrkit._ops import LOOKUP_MAX, bucket_table


def _lookup(edges: list[int], t: np.ndarray) -> np.ndarray:
    shift, table = bucket_table(edges)  # type: ignore[misc]
    tc = np.minimum(t, edges[-1])  # as the backends do: steps past the last edge read as the last
    return (table[tc >> shift] + (tc & ((1 << shift) - 1))) >> (shift + 1)


@settings(max_examples=200)
@given(st.lists(st.integers(1, 1000), min_size=1, max_size=40), st.integers(0, 20_000))
@example([1], 0)
@example([1, 1, 1], 0)
@example([2**29, 2**29 - 1], 2**30)  # the last edge at the int32 maximum
@example([1, 2**20, 2**20, 2**30], 0)
@example([1, 2**45], 2**52)  # near 2**53 (float64 steps)
def test_lookup_counts_the_edges_at_and_below_every_step(gaps: list[int], origin: int) -> None:
    edges = np.cumsum([origin, *gaps])[1:].tolist()
    e = np.asarray(edges, dtype=np.int64)
    t = np.unique(np.concatenate([e - 1, e, e + 1, [0, origin, e[-1] + 10**6, 2**53 - 1]]))
    np.testing.assert_array_equal(_lookup(edges, t), np.searchsorted(e, t, side="right"))
    if edges[-1] < 70_000:  # and at every step
        t = np.arange(edges[-1] + 3)
        np.testing.assert_array_equal(_lookup(edges, t), np.searchsorted(e, t, side="right"))


def test_table_size_and_refusals() -> None:
    # buckets as wide as the boundaries allow: 10 steps apart -> 8-step buckets
    shift, table = bucket_table([10 * i for i in range(1, 2000)])  # type: ignore[misc]
    assert shift == 3 and len(table) == 19990 // 8 + 1
    # one step apart at the start and far apart at the end: too many buckets
    assert bucket_table([1, 2, 3, LOOKUP_MAX + 10]) is None
    assert bucket_table([1, 2, 3, LOOKUP_MAX - 10]) is not None
    # not integers (percentages not bound yet), none, or past 2**53
    assert bucket_table([1.0, 2.0]) is None
    assert bucket_table([]) is None
    assert bucket_table([2**53]) is None


def test_table_cache_converts_once_per_table_and_stays_bounded() -> None:
    from lrkit._ops import TableCache

    made: list[int] = []
    cache = TableCache(entries=4, numbers=12)

    def make(n: int) -> Any:
        made.append(n)
        return np.arange(n)

    a, b = tuple(range(4)), tuple(range(4))  # equal, not the same object: cached apart
    assert cache.get(a, "f8", lambda: make(4)) is cache.get(a, "f8", lambda: make(4))
    cache.get(b, "f8", lambda: make(4))
    cache.get(a, "f4", lambda: make(4))  # another key: another array
    assert made == [4, 4, 4]
    cache.get(a, "f8", lambda: make(4))  # still held: 12 numbers in 3 arrays
    assert made == [4, 4, 4]
    cache.get(tuple(range(5)), None, lambda: make(5))  # 12 + 5 numbers > 12: starts afresh
    cache.get(a, "f8", lambda: make(4))
    assert made == [4, 4, 4, 5, 4]
    small = TableCache(entries=2, numbers=100)
    c = tuple(range(6))
    for t in (a, b, a, c, a):  # a third table passes 2 entries: the cache starts afresh, a is made again
        small.get(t, None, lambda: make(1))
    assert made[5:] == [1, 1, 1, 1]

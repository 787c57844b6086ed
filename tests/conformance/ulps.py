"""Distances in float32 ulps between what an adapter applied and ``float32`` of the reference value.

SPEC section 10: at every update an adapter applies a value within one float32 ulp of
``float32(s(k))`` (``s(k)`` the float64 value, here from the independent reference interpreter),
exactly that value at 99.9% of steps or more, exactly 0 where ``s(k)`` is 0; float32 subnormals may
flush to 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: A value the check never accepts (a non-zero where the reference is exactly 0, a NaN, a negative).
FAR = 2**40

#: Most ulps allowed at any step, and the least fraction of steps that must match exactly.
MAX_ULPS = 1
MIN_EXACT = 0.999


def ulps(applied: object, expected: object) -> np.ndarray:
    """Per step: float32 ulps between ``applied`` and ``float32(expected)``.

    ``applied`` holds the applied learning rates (float32 values, possibly stored as float64);
    ``expected`` the float64 reference values. A non-float32 ``applied`` (a float64 value that
    float32 cannot hold), a negative or NaN one, or a non-zero one where ``expected`` is exactly 0,
    counts as ``FAR``. Where ``float32(expected)`` is subnormal, 0 is accepted (flush to zero).
    """
    a64 = np.asarray(applied, dtype=np.float64).ravel()
    e64 = np.asarray(expected, dtype=np.float64).ravel()
    a = a64.astype(np.float32)
    e = e64.astype(np.float32)
    d = np.abs(a.view(np.int32).astype(np.int64) - e.view(np.int32).astype(np.int64))
    tiny = np.abs(e) < np.finfo(np.float32).tiny
    d[tiny & (a == 0)] = 0
    bad = (a.astype(np.float64) != a64) | ~(a64 >= 0) | ((e64 == 0) & (a64 != 0))
    d[bad] = FAR
    return d


@dataclass
class Tally:
    """Max ulps and exact-match fraction of one adapter path, per case and overall."""

    path: str
    rows: list[tuple[str, int, int, int]] = field(default_factory=list)  # (case, steps, exact, max)
    worst: list[str] = field(default_factory=list)

    def add(self, case: str, steps: object, applied: object, expected: object) -> None:
        d = ulps(applied, expected)
        steps = np.asarray(steps).ravel()
        self.rows.append((case, d.size, int(np.sum(d == 0)), int(d.max()) if d.size else 0))
        if d.size and d.max() > MAX_ULPS:
            i = int(np.argmax(d))
            self.worst.append(
                f"{case} at step {int(steps[i])}: applied {float(np.asarray(applied, np.float64).ravel()[i])!r}, "
                f"float32(s) {float(np.float32(np.asarray(expected, np.float64).ravel()[i]))!r} ({int(d[i])} ulps)"
            )

    @property
    def total(self) -> int:
        return sum(r[1] for r in self.rows)

    @property
    def exact(self) -> float:
        return sum(r[2] for r in self.rows) / max(1, self.total)

    @property
    def max_ulps(self) -> int:
        return max((r[3] for r in self.rows), default=0)

    def report(self) -> str:
        lines = [f"{self.path}: max {self.max_ulps} ulp, exact at {self.exact:.5%} of {self.total} steps"]
        lines += [f"  {c}: {n} steps, max {m} ulp, {n - e} inexact" for c, n, e, m in self.rows if e < n]
        lines += [f"  WORST {w}" for w in self.worst]
        return "\n".join(lines)

    def check(self) -> None:
        text = self.report()
        print(text)
        assert self.max_ulps <= MAX_ULPS and self.exact >= MIN_EXACT, text

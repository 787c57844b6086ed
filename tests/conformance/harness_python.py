"""Reference harness: Python-float evaluation, one step at a time (what a torch scheduler does)."""

import numpy as np


class _Python:
    rtol, atol = 1e-12, 1e-15

    def applied_lrs(self, schedule, steps):  # type: ignore[no-untyped-def]
        return [schedule(int(t)) for t in steps]


HARNESS = _Python()
_ = np

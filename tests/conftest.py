"""Shared pytest configuration.

Hypothesis runs the same everywhere: derandomized (examples drawn from a fixed seed per test), so a run
on a laptop is exactly the run on CI, with or without `CI` set. Long random exploration is opt-in:
`LRKIT_HYPOTHESIS_PROFILE=explore` draws fresh random examples, many more of them; run it before
landing a change to the curves and pin what it finds as explicit `@example`s.
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    "print_blob": True,
}
settings.register_profile("lrkit", derandomize=True, max_examples=60, database=None, **_COMMON)
settings.register_profile("explore", derandomize=False, max_examples=2000, database=None, **_COMMON)
settings.load_profile(os.environ.get("LRKIT_HYPOTHESIS_PROFILE", "lrkit"))

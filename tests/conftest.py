import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "lrkit",
    deadline=None,
    max_examples=int(os.environ.get("LRKIT_HYPOTHESIS_EXAMPLES", "150")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("lrkit")

"""The public surface: ``lrkit.__all__`` is a committed list, and every export is documented.

Adding or removing a public name is a deliberate act: update ``PUBLIC`` below in the same change.
"""

from __future__ import annotations

import inspect

import lrkit

PUBLIC = """
BackendUnavailableError PlateauMetricWarning RangeTestResult ReduceOnPlateau Schedule ScheduleError
constant cosine cosine_restarts cosine_wave cyclic exponential
from_config from_keras from_optax from_timm from_torch from_transformers
inverse_sqrt inverse_time join linear lr_range_test multistep one_cycle per_epoch
piecewise_constant piecewise_linear polynomial range_test_ramp restarts shift step warmup warmup_stable_decay
cooldown per_tokens rounded stretch
""".split()

#: Constructors of the core (SPEC section 2): each documents its arguments and shows an example.
CORE = """
constant linear cosine cosine_wave exponential polynomial step multistep piecewise_constant
piecewise_linear inverse_sqrt inverse_time cyclic one_cycle cosine_restarts restarts warmup_stable_decay
join warmup per_epoch shift from_config cooldown per_tokens rounded stretch
""".split()


def test_all_is_the_committed_list() -> None:
    assert sorted(lrkit.__all__) == sorted(PUBLIC)
    assert len(set(lrkit.__all__)) == len(lrkit.__all__)
    for name in lrkit.__all__:
        assert hasattr(lrkit, name), name


def test_every_export_has_a_docstring() -> None:
    for name in lrkit.__all__:
        doc = inspect.getdoc(getattr(lrkit, name)) or ""
        summary = doc.strip().splitlines()[0] if doc.strip() else ""
        assert len(summary) > 10, f"lrkit.{name} has no docstring summary"


def test_core_constructors_document_args_and_examples() -> None:
    for name in CORE:
        fn = getattr(lrkit, name)
        doc = inspect.getdoc(fn) or ""
        assert "Args:" in doc and ">>>" in doc, f"lrkit.{name} lacks an Args or Examples section"
        for param in inspect.signature(fn).parameters:
            assert param in doc.split("Args:", 1)[1], f"lrkit.{name} does not document `{param}`"


def test_schedule_public_methods_are_documented() -> None:
    for name, member in inspect.getmembers(lrkit.Schedule):
        if name.startswith("_"):
            continue
        assert inspect.getdoc(member), f"Schedule.{name} has no docstring"


def test_private_modules_stay_private() -> None:
    assert not any(name.startswith("_") for name in lrkit.__all__)
    assert isinstance(lrkit.__version__, str)

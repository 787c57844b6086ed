"""Crash and resume in new processes: a real training run is killed with SIGKILL after it wrote a
checkpoint (HF ``Trainer``, accelerate ``save_state``, Lightning ``ModelCheckpoint``); a fresh
process resumes from that checkpoint. Every update of both processes must apply the lr the schedule
gives, written here from its definition (``crash_worker.py`` runs each phase).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import need

need("torch")

HERE = Path(__file__).resolve().parent


def _phase(stack: str, phase: str, out: Path) -> tuple[subprocess.CompletedProcess[str], list[float] | None]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, str(HERE / "crash_worker.py"), stack, phase, str(out)], env=env,
                          capture_output=True, text=True, timeout=600)
    path = out / f"{phase}.json"
    return proc, json.loads(path.read_text()) if path.exists() else None


def _crash_then_resume(stack: str, tmp_path: Path) -> tuple[list[float], list[float]]:
    run, before = _phase(stack, "run", tmp_path)
    assert run.returncode == -signal.SIGKILL, run.stderr[-3000:]
    assert before is not None
    resume, after = _phase(stack, "resume", tmp_path)
    assert resume.returncode == 0, resume.stderr[-3000:]
    assert after is not None
    return before, after


@pytest.mark.slow
def test_hf_trainer_killed_after_a_checkpoint_resumes_exactly(tmp_path: Any) -> None:
    need("transformers")
    from test_stack_hf import TOTAL, expected

    before, after = _crash_then_resume("hf", tmp_path)
    assert before == pytest.approx([expected(t) for t in range(7)], rel=1e-12, abs=1e-15)  # killed at 7
    assert after == pytest.approx([expected(t) for t in range(5, TOTAL)], rel=1e-12, abs=1e-15)  # from checkpoint-5


@pytest.mark.slow
def test_accelerate_killed_after_save_state_resumes_exactly(tmp_path: Any) -> None:
    need("accelerate")
    from test_stack_accelerate import TOTAL, expected

    before, after = _crash_then_resume("accelerate", tmp_path)
    assert before == pytest.approx([expected(t) for t in range(4)], rel=1e-12, abs=1e-15)
    assert after == pytest.approx([expected(t) for t in range(4, TOTAL)], rel=1e-12, abs=1e-15)


@pytest.mark.slow
def test_lightning_plateau_reported_by_the_module_resumes_exactly(tmp_path: Any) -> None:
    """The module reports the metric in ``on_validation_epoch_end``: before ``ModelCheckpoint``
    writes the epoch's checkpoint, so the checkpoint holds the plateau after that epoch's report."""
    need("lightning")
    from test_stack_lightning import BATCHES, EPOCHS, expected

    before, after = _crash_then_resume("lightning_report", tmp_path)
    want = expected(BATCHES * EPOCHS)  # the plateau's reductions included (torch's ReduceLROnPlateau replayed)
    assert before == pytest.approx(want[: 3 * BATCHES + 2], rel=1e-12, abs=1e-15)  # killed mid-epoch 4
    assert after == pytest.approx(want[3 * BATCHES :], rel=1e-12, abs=1e-15)  # from the end of epoch 3


@pytest.mark.slow
def test_lightning_reduce_on_plateau_loses_the_checkpointed_epochs_report_as_torch_does(tmp_path: Any) -> None:
    """Lightning's own protocol steps plateau schedulers after its checkpoint callbacks, and not
    again when it restarts from that checkpoint ("metrics are not saved in the checkpoint",
    ``fit_loop.on_advance_end`` in Lightning 2.6): the resumed run misses the report of the epoch
    the checkpoint ends, whatever the scheduler. lrkit then does exactly what torch's
    ``ReduceLROnPlateau`` does when it misses that report: the reference replays torch's scheduler
    on the reports the resumed run received."""
    need("lightning")
    torch = need("torch")
    from test_stack_lightning import BATCHES, EPOCHS, PLATEAU, VAL, expected, schedule_ref

    before, after = _crash_then_resume("lightning", tmp_path)
    assert before == pytest.approx(expected(BATCHES * EPOCHS)[: 3 * BATCHES + 2], rel=1e-12, abs=1e-15)

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(()))], lr=1.0)
    native = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **PLATEAU)
    for v in VAL[:2]:  # the reports before the checkpoint at the end of the third epoch
        native.step(v)
    want = []
    for epoch in range(3, EPOCHS):  # VAL[2] is never reported in the resumed run
        want += [schedule_ref(t) * opt.param_groups[0]["lr"] for t in range(epoch * BATCHES, (epoch + 1) * BATCHES)]
        native.step(VAL[epoch])
    assert after == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert after[0] == pytest.approx(schedule_ref(3 * BATCHES))  # scale 1.0: the uninterrupted run had 0.5

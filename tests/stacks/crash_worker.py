"""A training run that is killed (SIGKILL) after it wrote a checkpoint, and its resume in a new process.

Run by ``test_stack_crash.py`` as ``python crash_worker.py STACK PHASE OUT_DIR``: ``STACK`` is ``hf``,
``accelerate`` or ``lightning``, ``PHASE`` is ``run`` (train, checkpoint, keep training, then die
without any cleanup) or ``resume`` (a fresh process resumes from the checkpoint and finishes). Each
phase writes the learning rates of the real updates it made to ``OUT_DIR/PHASE.json`` (the ``run``
phase just before it kills itself). The setups are the stack tests' own.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import torch

torch.set_num_threads(1)


def _dump(out: Path, phase: str, lrs: list[float]) -> None:
    (out / f"{phase}.json").write_text(json.dumps(lrs))


def _die(out: Path, lrs: list[float]) -> None:
    _dump(out, "run", lrs)
    os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no flush, no atexit: a crash


def hf(phase: str, out: Path) -> None:
    import transformers
    from test_stack_hf import Recorder, _trainer

    rec = Recorder()
    if phase == "run":

        class Crash(transformers.TrainerCallback):
            def on_step_end(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
                if state.global_step == 7:  # two updates after checkpoint-5
                    _die(out, rec.lrs)

        trainer = _trainer(out / "run", rec, save_strategy="steps", save_steps=5)
        trainer.add_callback(Crash())
        trainer.train()
        raise SystemExit("the run was not killed")
    _trainer(out / "run", rec, save_strategy="no").train(resume_from_checkpoint=True)  # the latest checkpoint
    _dump(out, phase, rec.lrs)


def accelerate(phase: str, out: Path) -> None:
    import accelerate as acc
    from test_stack_accelerate import TOTAL, _run

    if phase == "run":
        lrs = _run(acc.Accelerator(cpu=True, gradient_accumulation_steps=2), "optimizer", n_batches=2 * TOTAL,
                   state_dir=out / "state", save_at=4)
        _die(out, lrs)
    lrs = _run(acc.Accelerator(cpu=True, gradient_accumulation_steps=2), "optimizer", n_batches=2 * TOTAL,
               resume_from=out / "state", skip=4 * 2)
    _dump(out, phase, lrs)


def lightning(phase: str, out: Path, variant: str = "plateau") -> None:
    """``variant``: ``plateau`` (Lightning's ``reduce_on_plateau`` protocol steps lrkit's scheduler)
    or ``report`` (the module reports the metric to lrkit in ``on_validation_epoch_end``)."""
    import lightning as L
    from test_stack_lightning import BATCHES, EPOCHS, VAL, Probe, _trainer

    class Report(Probe):
        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            config = super().configure_optimizers()
            del config["lr_scheduler"]["monitor"], config["lr_scheduler"]["reduce_on_plateau"]
            return config

        def on_validation_epoch_end(self) -> None:
            self.lr_schedulers().report(VAL[self.current_epoch])

    model = {"plateau": Probe, "report": Report}[variant]()
    if phase == "run":

        class Crash(L.Callback):
            def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):  # type: ignore[no-untyped-def]
                if trainer.global_step == 3 * BATCHES + 2:  # mid-epoch 4, after the epoch-3 checkpoint
                    _die(out, model.applied)

        ckpt = L.pytorch.callbacks.ModelCheckpoint(dirpath=str(out / "ckpt"), save_last=True, save_top_k=-1,
                                                   every_n_epochs=1)
        _trainer(out, EPOCHS, checkpoints=True, callbacks=[ckpt, Crash()]).fit(model)
        raise SystemExit("the run was not killed")
    _trainer(out, EPOCHS).fit(model, ckpt_path=str(out / "ckpt" / "last.ckpt"))
    _dump(out, phase, model.applied)


STACKS = {
    "hf": hf,
    "accelerate": accelerate,
    "lightning": lightning,
    "lightning_report": lambda phase, out: lightning(phase, out, "report"),
}

if __name__ == "__main__":
    stack, phase, out_dir = sys.argv[1:]
    STACKS[stack](phase, Path(out_dir))

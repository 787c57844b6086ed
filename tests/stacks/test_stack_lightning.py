"""Reduce-on-plateau through Lightning's own plateau protocol, in real ``Trainer.fit`` runs.

``{"scheduler": sched, "interval": "epoch", "monitor": "val_loss", "reduce_on_plateau": True}``
makes Lightning call ``sched.step(val_loss)`` after each validation: lrkit reports it. With
``clock="optimizer"`` the schedule still follows every update. The same dict without
``"reduce_on_plateau"`` never passes a metric (Lightning ignores ``monitor`` for a scheduler that
is not torch's ``ReduceLROnPlateau``): lrkit warns when Lightning checkpoints it.

References: the schedule written here from its definition, and torch's own ``ReduceLROnPlateau``
replaying the same validation losses (its lr on a base of 1.0 is the product of reductions).
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from helpers import need

torch = need("torch")
L = need("lightning")

import lrkit as lk  # noqa: E402
from lrkit.backends.torch import LRScheduler  # noqa: E402

BATCHES, EPOCHS = 4, 6
START, END = 0.2, 0.02
VAL = [1.0, 0.8, 0.8, 0.79, 0.6, 0.6]  # validation loss by epoch: plateaus at epochs 2-3 and 5
PLATEAU = {"patience": 0, "factor": 0.5, "threshold": 0.05}


def schedule_ref(t: int) -> float:
    n = BATCHES * EPOCHS
    return START + (END - START) * min(t, n) / n


def expected(n_updates: int) -> list[float]:
    p = torch.nn.Parameter(torch.zeros(()))
    native_opt = torch.optim.SGD([p], lr=1.0)
    native = torch.optim.lr_scheduler.ReduceLROnPlateau(native_opt, **PLATEAU)
    scales = []
    for v in VAL:
        scales.append(native_opt.param_groups[0]["lr"])  # the scale during this epoch's updates
        native.step(v)
    return [schedule_ref(t) * scales[t // BATCHES] for t in range(n_updates)]


class Probe(L.LightningModule):
    """One float64 weight, SGD, loss = w: each update subtracts exactly the lr it applied."""

    def __init__(self, reduce_on_plateau: bool = True) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
        self.applied: list[float] = []
        self._before = 0.0
        self.reduce_on_plateau = reduce_on_plateau

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        self._before = float(self.w.detach())
        return self.w * 1.0

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        self.applied.append(self._before - float(self.w.detach()))

    def validation_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        self.log("val_loss", VAL[self.current_epoch])

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        opt = torch.optim.SGD(self.parameters(), lr=1.0)
        sched = LRScheduler(opt, lk.linear(START, END, BATCHES * EPOCHS), plateau=lk.ReduceOnPlateau(**PLATEAU),
                            clock="optimizer")
        config = {"scheduler": sched, "interval": "epoch", "monitor": "val_loss"}
        if self.reduce_on_plateau:
            config["reduce_on_plateau"] = True
        return {"optimizer": opt, "lr_scheduler": config}

    def train_dataloader(self):  # type: ignore[no-untyped-def]
        return torch.utils.data.DataLoader(torch.zeros(BATCHES, 1), batch_size=1)

    def val_dataloader(self):  # type: ignore[no-untyped-def]
        return torch.utils.data.DataLoader(torch.zeros(1, 1), batch_size=1)


def _trainer(tmp_path: Any, epochs: int, checkpoints: bool = False, callbacks: Any = None) -> Any:
    return L.Trainer(
        max_epochs=epochs, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
        enable_model_summary=False, default_root_dir=str(tmp_path), enable_checkpointing=checkpoints,
        num_sanity_val_steps=0, callbacks=callbacks,
    )


def test_lightning_reduce_on_plateau_reports_and_resumes(tmp_path: Any) -> None:
    full = Probe()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*without receiving a metric")  # no false alarm at epoch ends
        _trainer(tmp_path / "full", EPOCHS, checkpoints=True).fit(full)
    want = expected(BATCHES * EPOCHS)
    assert full.applied == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert min(w / schedule_ref(t) for t, w in enumerate(want)) == 0.25  # two reductions happened

    first = Probe()
    trainer = _trainer(tmp_path, 3)
    trainer.fit(first)
    ckpt = tmp_path / "epoch3.ckpt"
    trainer.save_checkpoint(str(ckpt))
    state = torch.load(str(ckpt), weights_only=True)["lr_schedulers"][0]
    assert state["last_epoch"] == 3 * BATCHES and state["plateau_state"]["num_reductions"] == 1
    second = Probe()
    _trainer(tmp_path, EPOCHS).fit(second, ckpt_path=str(ckpt))
    assert first.applied + second.applied == full.applied  # every update, exactly


def test_lightning_monitor_without_reduce_on_plateau_is_detected(tmp_path: Any) -> None:
    model = Probe(reduce_on_plateau=False)
    # Lightning's epoch checkpoints: the second one finds the plateau rule never got a metric,
    # and the warning names the working configuration.
    with pytest.warns(UserWarning, match=r'without receiving a metric.*"reduce_on_plateau": True'):
        _trainer(tmp_path, 3, checkpoints=True).fit(model)
    # The schedule ran, but no reduction ever happened although the validation loss plateaued.
    assert model.applied == pytest.approx([schedule_ref(t) for t in range(3 * BATCHES)], rel=1e-12, abs=1e-15)

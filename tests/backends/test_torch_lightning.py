"""The torch adapter where Lightning users put schedulers: ``configure_optimizers`` with
``interval: "step"``, in a real ``Trainer.fit``, including a checkpoint resume."""

from __future__ import annotations

import math

import pytest
from helpers import need

torch = need("torch")
L = need("lightning")

import lrkit as lk  # noqa: E402
from lrkit.backends.torch import LRScheduler  # noqa: E402

PEAK, FLOOR, WARM, TOTAL = 0.2, 0.02, 5, 30


def expected(t: int) -> float:
    """Written from the definition, not from lrkit: linear warmup from 0, then cosine to FLOOR."""
    if t < WARM:
        return PEAK * t / WARM
    u = min(t - WARM, TOTAL - WARM) / (TOTAL - WARM)
    return FLOOR + (PEAK - FLOOR) * (1 + math.cos(math.pi * u)) / 2


class Probe(L.LightningModule):
    """One scalar weight, SGD, loss = w: each update subtracts exactly the lr applied."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
        self.applied: list[float] = []
        self._before = 0.0

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        self._before = float(self.w.detach())
        return self.w * 1.0

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        self.applied.append(self._before - float(self.w.detach()))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        opt = torch.optim.SGD(self.parameters(), lr=1.0)
        s = lk.warmup(lk.cosine(PEAK, FLOOR, TOTAL - WARM), WARM)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": LRScheduler(opt, s), "interval": "step"}}

    def train_dataloader(self):  # type: ignore[no-untyped-def]
        return torch.utils.data.DataLoader(torch.zeros(64, 1), batch_size=1)


def _trainer(tmp_path, max_steps: int):  # type: ignore[no-untyped-def]
    return L.Trainer(
        max_steps=max_steps, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
        enable_model_summary=False, default_root_dir=str(tmp_path), enable_checkpointing=False,
    )


def test_lightning_step_interval_applies_the_schedule(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = Probe()
    _trainer(tmp_path, TOTAL + 5).fit(model)
    assert model.applied == pytest.approx([expected(t) for t in range(TOTAL + 5)], rel=1e-12, abs=1e-12)


# The checkpoint is taken mid-epoch on purpose (the resume must continue the curve at that very step);
# Lightning warns that a plain DataLoader cannot resume mid-epoch, which this test does not rely on.
@pytest.mark.filterwarnings("ignore:You're resuming from a checkpoint that ended before the epoch ended")
def test_lightning_checkpoint_resume_continues_the_curve(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = Probe()
    trainer = _trainer(tmp_path, 12)
    trainer.fit(first)
    ckpt = tmp_path / "mid.ckpt"
    trainer.save_checkpoint(str(ckpt))
    state = torch.load(str(ckpt), weights_only=True)  # scheduler state is primitives only
    assert state["lr_schedulers"][0]["last_epoch"] == 12
    second = Probe()
    _trainer(tmp_path, 25).fit(second, ckpt_path=str(ckpt))
    assert second.applied == pytest.approx([expected(t) for t in range(12, 25)], rel=1e-12, abs=1e-12)

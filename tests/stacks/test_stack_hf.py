"""lrkit's torch adapter inside a real Hugging Face ``Trainer`` run: gradient accumulation, a
checkpoint resume (``resume_from_checkpoint``), and a plateau fed from evaluation.

The model is a one-layer GPT-2 built from a config (no downloads). Each test records the learning
rate of every real optimizer update (read from the optimizer when HF is about to step it) and
compares it with the schedule written here from its definition; each resume is compared, update
by update, with an uninterrupted run.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from helpers import need

torch = need("torch")
transformers = need("transformers")

import lrkit as lk  # noqa: E402
from lrkit.backends.torch import HyperparameterScheduler, LRScheduler  # noqa: E402

PEAK, FLOOR, WARM, TOTAL = 0.05, 0.005, 3, 12


def expected(t: int) -> float:
    """Linear warmup from 0 over WARM updates, then cosine from PEAK to FLOOR over TOTAL - WARM."""
    if t < WARM:
        return PEAK * t / WARM
    u = min(t - WARM, TOTAL - WARM) / (TOTAL - WARM)
    return FLOOR + (PEAK - FLOOR) * (1 + math.cos(math.pi * u)) / 2


SCHEDULE = lk.warmup(lk.cosine(PEAK, FLOOR, TOTAL - WARM), WARM)


def _data(n: int, seed: int) -> list[dict[str, Any]]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 16, (n, 6), generator=g)
    return [{"input_ids": x, "labels": x} for x in ids]


class Recorder(transformers.TrainerCallback):
    """The lr of every real update, and (optionally) reports eval_loss to a plateau scheduler."""

    def __init__(self, report: bool = False) -> None:
        self.lrs: list[float] = []
        self.evals: list[tuple[int, float]] = []
        self.report = report

    def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kw):  # type: ignore[no-untyped-def]
        self.lrs.append(float(optimizer.param_groups[0]["lr"]))

    def on_evaluate(self, args, state, control, metrics=None, lr_scheduler=None, **kw):  # type: ignore[no-untyped-def]
        self.evals.append((state.global_step, metrics["eval_loss"]))
        if self.report:
            lr_scheduler.report(metrics["eval_loss"])


def _trainer(tmp_path: Any, rec: Recorder, *, clock: str = "scheduler", plateau: Any = None, **kw: Any) -> Any:
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=16, n_positions=8, n_embd=8, n_layer=1, n_head=1)
    model = transformers.GPT2LMHeadModel(config)
    opt = torch.optim.AdamW(model.parameters(), lr=0.0)
    sched = LRScheduler(opt, SCHEDULE, plateau=plateau, clock=clock)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path), per_device_train_batch_size=2, per_device_eval_batch_size=4,
        gradient_accumulation_steps=2, max_steps=TOTAL, report_to="none", use_cpu=True,
        logging_strategy="no", disable_tqdm=True, seed=0, dataloader_num_workers=0, save_only_model=False,
        **kw,
    )
    return transformers.Trainer(
        model=model, args=args, train_dataset=_data(64, 1), eval_dataset=_data(8, 2),
        optimizers=(opt, sched), callbacks=[rec],
    )


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: Any) -> list[float]:
    full = Recorder()
    _trainer(tmp_path_factory.mktemp("full"), full, save_strategy="no").train()
    return full.lrs


def test_hf_trainer_with_accumulation_applies_the_schedule(uninterrupted: list[float]) -> None:
    assert uninterrupted == pytest.approx([expected(t) for t in range(TOTAL)], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("clock", ["scheduler", "optimizer"])
def test_hf_trainer_resume_from_checkpoint(tmp_path: Any, clock: str, uninterrupted: list[float]) -> None:
    first = Recorder()
    _trainer(tmp_path / "run", first, clock=clock, save_strategy="steps", save_steps=5).train()
    ckpt = tmp_path / "run" / "checkpoint-5"
    state = torch.load(ckpt / "scheduler.pt", weights_only=True)
    assert state["last_epoch"] == 5 and state["clock"] == clock
    resumed = Recorder()
    _trainer(tmp_path / "run", resumed, clock=clock, save_strategy="no").train(resume_from_checkpoint=str(ckpt))
    assert first.lrs == uninterrupted
    assert resumed.lrs == uninterrupted[5:]  # every update of the resumed run, exactly


def _plateau_expected(evals: list[tuple[int, float]], n: int, **kw: Any) -> list[float]:
    """torch's own ReduceLROnPlateau on lr 1.0 replays the reports: its lr is the scale."""
    p = torch.nn.Parameter(torch.zeros(()))
    native_opt = torch.optim.SGD([p], lr=1.0)
    native = torch.optim.lr_scheduler.ReduceLROnPlateau(native_opt, **kw)
    scale_after: dict[int, float] = {}
    for step, metric in evals:
        native.step(metric)
        scale_after[step] = native_opt.param_groups[0]["lr"]
    out, scale = [], 1.0
    for t in range(n):
        scale = scale_after.get(t, scale)  # an eval at global step g applies from update g on
        out.append(expected(t) * scale)
    return out


def test_hf_trainer_plateau_from_evaluation_and_resume(tmp_path: Any) -> None:
    kw = {"patience": 0, "factor": 0.5, "threshold": 0.05}  # evaluation losses rarely improve by 5%
    evaluation = {"eval_strategy": "steps", "eval_steps": 2}
    full = Recorder(report=True)
    _trainer(tmp_path / "full", full, plateau=lk.ReduceOnPlateau(**kw), save_strategy="no", **evaluation).train()
    want = _plateau_expected(full.evals, TOTAL, **kw)
    assert full.lrs == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert min(a / b for a, b in zip(want[WARM:], map(expected, range(WARM, TOTAL)))) < 1  # a reduction happened

    first = Recorder(report=True)
    _trainer(tmp_path / "run", first, plateau=lk.ReduceOnPlateau(**kw), save_strategy="steps", save_steps=6,
             **evaluation).train()
    ckpt = tmp_path / "run" / "checkpoint-6"
    assert torch.load(ckpt / "scheduler.pt", weights_only=True)["plateau_state"]["num_reductions"] >= 1
    resumed = Recorder(report=True)
    _trainer(tmp_path / "run", resumed, plateau=lk.ReduceOnPlateau(**kw), save_strategy="no",
             **evaluation).train(resume_from_checkpoint=str(ckpt))
    assert resumed.lrs == full.lrs[6:]


class Beta1(Recorder):
    """README's recipe: Adam's beta1 driven from a callback, built where the Trainer's step is known.

    The Trainer checkpoints only its own lr_scheduler, so the HyperparameterScheduler starts at the
    restored global step; the callback's optimizer is accelerate's AcceleratedOptimizer.
    """

    def on_train_begin(self, args, state, control, optimizer=None, **kw):  # type: ignore[no-untyped-def]
        self.hp = HyperparameterScheduler(optimizer, "beta1", lk.linear(0.8, 0.95, TOTAL), clock="optimizer",
                                          last_epoch=state.global_step - 1)

    def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kw):  # type: ignore[no-untyped-def]
        self.lrs.append(float(optimizer.param_groups[0]["betas"][0]))


def test_hf_trainer_beta1_from_a_callback_resumes_at_the_restored_step(tmp_path: Any) -> None:
    want = [0.8 + 0.15 * t / TOTAL for t in range(TOTAL)]
    first = Beta1()
    _trainer(tmp_path / "run", first, save_strategy="steps", save_steps=5).train()
    assert first.lrs == pytest.approx(want, rel=1e-12)
    resumed = Beta1()
    _trainer(tmp_path / "run", resumed, save_strategy="no").train(resume_from_checkpoint=str(tmp_path / "run" / "checkpoint-5"))
    assert resumed.lrs == pytest.approx(want[5:], rel=1e-12)

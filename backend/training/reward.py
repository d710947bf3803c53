"""A reward model from the person's verdicts, with TRL's `RewardTrainer` (Bradley-Terry loss) on a
backbone with a scalar head (the embedded model by default).

Trains on person-decided answer pairs, optionally plus reward-decided ones, each weighted (`weight`
column; a person's pair weighs 1). The result is always a whole `*ForSequenceClassification` folder in
`runs/<id>/model/` (a LoRA adapter is merged in), so `backend.scorers.classifier.ClassifierScorer` loads
it like any reward model (`ScorerSpec(kind="classifier", model="<project>/runs/<id>/model")`). Agreement
with the person is measured through that same scorer on the pairs kept aside.
"""

from __future__ import annotations

from pathlib import Path

from backend.training.config import TrainingConfig
from backend.training.evaluation import pairwise_agreement
from backend.training.events import RunResult
from backend.training.run_folder import RunFolder
from backend.training.session import EventSink, Output, StopCheck, load_dtype, run_session, trainer_arguments
from backend.training.snapshot import Snapshot

REWARD_COLUMNS = ["prompt", "chosen", "rejected", "weight"]


def train(run_dir: Path | str, on_event: EventSink | None = None, should_stop: StopCheck | None = None,
          base_folder: str | None = None) -> RunResult:
    """Train (or resume, or report the finished) reward-model run in `run_dir`."""
    return run_session(RunFolder(run_dir), build, save_and_measure, on_event, should_stop, base_folder)


def build(config: TrainingConfig, snapshot: Snapshot, folder: RunFolder):
    from datasets import Dataset
    from trl import RewardConfig

    from backend.training.models import load_reward_backbone, load_tokenizer, lora_config, resolve_base
    from backend.training.weighted_reward import WeightedRewardTrainer

    resolved = resolve_base(config.base, folder.runs_dir)
    tokenizer = load_tokenizer(resolved.folder)
    model = load_reward_backbone(resolved, tokenizer.pad_token_id, load_dtype(config))
    rows = [{key: row[key] for key in REWARD_COLUMNS} for row in snapshot.rows("train")]
    args = RewardConfig(**trainer_arguments(config, folder), max_length=config.max_length)
    return WeightedRewardTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                                 processing_class=tokenizer,
                                 peft_config=lora_config(config, "SEQ_CLS") if config.lora else None)


def save_and_measure(trainer, config: TrainingConfig, snapshot: Snapshot, folder: RunFolder) -> Output:
    """Save a whole classifier folder (LoRA merged) and measure its agreement with the person's verdicts."""
    out = folder.output_path("model")
    if trainer.is_world_process_zero():
        model = trainer.accelerator.unwrap_model(trainer.model)
        if hasattr(model, "merge_and_unload"):
            model = model.merge_and_unload()
        model.save_pretrained(str(out))
        trainer.processing_class.save_pretrained(str(out))
    trainer.accelerator.wait_for_everyone()
    metrics = agreement_metrics(out, snapshot.rows("eval")) if trainer.is_world_process_zero() else {}
    return Output(name="model", kind="model", metrics=metrics)


def agreement_metrics(model_dir: Path, eval_rows: list[dict]) -> dict[str, float]:
    """How often the saved reward model ranks the person's chosen answer above the rejected one."""
    if not eval_rows:
        return {"heldout_pairs": 0.0}
    from backend.config import ScorerSpec
    from backend.scorers.classifier import ClassifierScorer

    scorer = ClassifierScorer(ScorerSpec(kind="classifier", model=str(model_dir)), device="cpu")
    try:
        prompts = [row["prompt"][0]["content"] for row in eval_rows]
        chosen = scorer.score([(p, row["chosen"][0]["content"]) for p, row in zip(prompts, eval_rows, strict=True)])
        rejected = scorer.score([(p, row["rejected"][0]["content"]) for p, row in zip(prompts, eval_rows, strict=True)])
    finally:
        scorer.close()
    return {"heldout_agreement": pairwise_agreement(chosen, rejected), "heldout_pairs": float(len(eval_rows))}

"""DPO with TRL's `DPOTrainer` (sigmoid loss, configurable beta): Stage I on the response, criticism,
improvement and edit pairs, Stage II on long-thought pairs.

With LoRA the reference model is the base with the adapter switched off (no second copy); full fine-tuning
gets a frozen copy of the starting model as the reference.
"""

from __future__ import annotations

from pathlib import Path

from backend.training.config import TrainingConfig
from backend.training.events import RunResult
from backend.training.run_folder import RunFolder
from backend.training.session import EventSink, StopCheck, load_dtype, run_session, trainer_arguments
from backend.training.sft import save_model
from backend.training.snapshot import Snapshot

PAIR_COLUMNS = ["prompt", "chosen", "rejected"]  # of the TRL export row; kind / decided_by are for people


def train(run_dir: Path | str, on_event: EventSink | None = None, should_stop: StopCheck | None = None,
          base_folder: str | None = None) -> RunResult:
    """Train (or resume, or report the finished) DPO run in `run_dir`."""
    return run_session(RunFolder(run_dir), build, save_model, on_event, should_stop, base_folder)


def pair_dataset(rows: list[dict]):
    from datasets import Dataset

    return Dataset.from_list([{key: row[key] for key in PAIR_COLUMNS} for row in rows])


def dpo_arguments(config: TrainingConfig, folder: RunFolder) -> dict:
    """DPOConfig keyword arguments for a run (also used by the benchmark's plain-TRL baseline)."""
    return dict(trainer_arguments(config, folder), beta=config.beta, loss_type=["sigmoid"],
                max_length=config.max_length)


def build(config: TrainingConfig, snapshot: Snapshot, folder: RunFolder):
    from trl import DPOConfig, DPOTrainer

    from backend.training.models import load_causal_lm, load_tokenizer, lora_config, resolve_base

    resolved = resolve_base(config.base, folder.runs_dir)
    tokenizer = load_tokenizer(resolved.folder)
    model = load_causal_lm(resolved, load_dtype(config))
    reference = None if config.lora else frozen_copy(model)
    return DPOTrainer(model=model, ref_model=reference, args=DPOConfig(**dpo_arguments(config, folder)),
                      train_dataset=pair_dataset(snapshot.rows("train")), processing_class=tokenizer,
                      peft_config=lora_config(config) if config.lora else None)


def frozen_copy(model):
    """A reference model for full fine-tuning: the starting weights, never updated."""
    import copy

    reference = copy.deepcopy(model).eval()
    for parameter in reference.parameters():
        parameter.requires_grad_(False)
    return reference

"""SFT with TRL's `SFTTrainer`: Stage I RSFT on the multi-turn refinement samples, Stage II on long thoughts.

The loss covers every assistant turn by default (or the last one only, `sft_loss_turns='last'`): the
rows are tokenized here with that mask (`chat_masks`), and TRL turns the mask into labels.
"""

from __future__ import annotations

from pathlib import Path

from backend.training.config import TrainingConfig
from backend.training.events import RunResult
from backend.training.run_folder import RunFolder
from backend.training.session import EventSink, Output, StopCheck, load_dtype, run_session, trainer_arguments
from backend.training.snapshot import Snapshot


def train(run_dir: Path | str, on_event: EventSink | None = None, should_stop: StopCheck | None = None,
          base_folder: str | None = None) -> RunResult:
    """Train (or resume, or report the finished) SFT run in `run_dir`."""
    return run_session(RunFolder(run_dir), build, save_model, on_event, should_stop, base_folder)


def tokenized_dataset(rows: list[dict], tokenizer, turns: str):
    from datasets import Dataset

    from backend.training.chat_masks import sft_messages, tokenize_sample

    return Dataset.from_list([tokenize_sample(tokenizer, sft_messages(row), turns) for row in rows])


def build(config: TrainingConfig, snapshot: Snapshot, folder: RunFolder):
    from trl import SFTConfig, SFTTrainer

    from backend.training.models import load_causal_lm, load_tokenizer, lora_config, resolve_base

    resolved = resolve_base(config.base, folder.runs_dir)
    tokenizer = load_tokenizer(resolved.folder)
    dataset = tokenized_dataset(snapshot.rows("train"), tokenizer, config.sft_loss_turns)
    args = SFTConfig(**trainer_arguments(config, folder), max_length=config.max_length)
    return SFTTrainer(model=load_causal_lm(resolved, load_dtype(config)), args=args, train_dataset=dataset,
                      processing_class=tokenizer, peft_config=lora_config(config) if config.lora else None)


def save_model(trainer, config: TrainingConfig, snapshot: Snapshot, folder: RunFolder) -> Output:
    """The LoRA adapter (on top of the base) or the whole model, with the tokenizer."""
    name = "adapter" if config.lora else "model"
    trainer.save_model(str(folder.output_path(name)))
    return Output(name=name, kind=name)

"""Models for training: resolving a base ('embedded:...', a folder, or 'run:<id>'), loading it (adapters of
earlier runs merged in), the LoRA settings, and merging a run into a plain model folder for generation.

A 'run:<id>' base is its run's own base plus its adapter; runs chain (RSFT -> DPO on top), so resolving
walks back to a plain folder and collects the adapters in order. Heavy imports stay inside functions.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from backend.config import EMBEDDED_MODEL
from backend.errors import ModelLoadError, UserError
from backend.training.config import RUN_PREFIX, TrainingConfig
from backend.training.run_folder import RunFolder

ALL_LINEAR = "all-linear"  # PEFT's name for every linear projection except the output head


@dataclass(frozen=True)
class ResolvedBase:
    """A plain model folder and the adapters (oldest first) that turn it into the asked-for model."""

    folder: Path
    adapters: tuple[Path, ...] = ()


def resolve_base(base: str, runs_dir: Path | str) -> ResolvedBase:
    """Where the weights of `base` are. 'run:<id>' must name a finished run in `runs_dir`."""
    if not base.startswith(RUN_PREFIX):
        from backend.engines.embedded import resolve_model_dir

        folder = resolve_model_dir(base)
        if not folder.is_dir():
            raise ModelLoadError(f"model folder {folder} does not exist; choose a folder with config.json and "
                                 f"weights, {EMBEDDED_MODEL!r}, or 'run:<id>'")
        return ResolvedBase(folder)
    run_id = base[len(RUN_PREFIX):].strip()
    run = RunFolder(Path(runs_dir) / run_id)
    result = run.result() if run.path.is_dir() else None
    if result is None or result.status != "finished" or not result.output_dir:
        state = "does not exist" if not run.path.is_dir() else "has not finished"
        raise UserError(f"run {run_id} {state}, so it cannot be a base model; list the runs with "
                        "`avr-studio runs DIR` and pick a finished one")
    output = run.path / result.output_dir
    if result.output_kind == "model":
        return ResolvedBase(output)
    parent = resolve_base(run.read_run()["base"], runs_dir)
    return ResolvedBase(parent.folder, (*parent.adapters, output))


def load_tokenizer(folder: Path):
    """The base's tokenizer with a pad token (batches need one; attention masks hide it)."""
    from backend.engines.loading import load_tokenizer as load

    return load(folder, padding_side="right")


def load_causal_lm(resolved: ResolvedBase, dtype: str = "float32"):
    """The base as a trainable causal LM on the CPU (the Trainer moves it), earlier runs' adapters merged in."""
    from transformers import AutoModelForCausalLM

    from backend.engines.loading import load_weights

    model = load_weights(AutoModelForCausalLM, resolved.folder, dtype, "cpu")
    for adapter in resolved.adapters:
        model = _merge_adapter(model, adapter)
    return model.train()


def load_reward_backbone(resolved: ResolvedBase, pad_token_id: int, dtype: str = "float32"):
    """A sequence classifier with one output (a scalar reward) on the base's weights. A chat model gets a
    fresh scalar head; a base with adapters is merged into a plain folder first (a classifier can only
    start from a folder)."""
    from transformers import AutoModelForSequenceClassification

    folder = resolved.folder if not resolved.adapters else _merged_cache(resolved)
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            str(folder), num_labels=1, dtype=_torch_dtype(dtype))
    except Exception as error:  # transformers raises many kinds for an unusable folder
        raise ModelLoadError(f"could not load {folder} as a reward model backbone: {error}") from None
    model.config.pad_token_id = pad_token_id  # the classifier reads the last real token of each row
    return model.train()


def lora_config(config: TrainingConfig, task_type: str = "CAUSAL_LM"):
    """PEFT LoRA settings from the config; a reward model also trains (and saves) its new scalar head."""
    from peft import LoraConfig

    return LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=list(config.lora_targets) if config.lora_targets else ALL_LINEAR,
                      task_type=task_type, modules_to_save=["score"] if task_type == "SEQ_CLS" else None)


def merge_into_folder(resolved: ResolvedBase, out_dir: Path | str) -> Path:
    """Save base + adapters as one plain model folder (weights and tokenizer) at `out_dir`, atomically."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a bar per saved shard would only clutter the job's log
    out_dir = Path(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=".merging-", dir=out_dir.parent))
    try:
        model = load_causal_lm(resolved).eval()
        model.save_pretrained(staging)
        load_tokenizer(resolved.folder).save_pretrained(staging)
        _copy_generation_config(resolved.folder, staging)
        staging.rename(out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def run_model_dir(project_dir: Path | str, base: str) -> Path:
    """A plain model folder for any base name: 'run:<id>' is merged into `runs/<id>/merged/` on first use
    (a whole-model run is its own `model/`), anything else resolves as it always did. This is what the
    generation engines load when a person picks a trained run."""
    runs_dir = Path(project_dir) / "runs"
    resolved = resolve_base(base, runs_dir)
    if not resolved.adapters:
        return resolved.folder
    run = RunFolder(runs_dir / base[len(RUN_PREFIX):].strip())
    merged = run.output_path("merged")
    if not (merged / "config.json").is_file():
        merge_into_folder(resolved, merged)
    return merged


REWARD_MODEL_PREFIX = "rm:"


def reward_model_dir(project_dir: Path | str, name: str) -> Path:
    """The classifier folder of a reward-model run, for a scorer named 'rm:<id>' (or 'run:<id>'): load it with
    `ScorerSpec(kind="classifier", model=str(folder))`."""
    run_id = name.split(":", 1)[1].strip() if name.startswith((REWARD_MODEL_PREFIX, RUN_PREFIX)) else name
    run = RunFolder(Path(project_dir) / "runs" / run_id)
    result = run.result() if run.path.is_dir() else None
    if result is None or result.status != "finished" or result.stage != "reward":
        raise UserError(f"{name} is not a finished reward-model run of this project; train one with the reward "
                        "stage, then pick it as the scorer")
    return run.output_path(result.output_dir or "model")


def _merge_adapter(model, adapter: Path):
    from peft import PeftModel

    try:
        return PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    except Exception as error:
        raise ModelLoadError(f"could not apply the adapter in {adapter}: {error}") from None


def _merged_cache(resolved: ResolvedBase) -> Path:
    """The merged folder of the newest adapter's run (made once, reused)."""
    run_dir = resolved.adapters[-1].parent
    merged = RunFolder(run_dir).output_path("merged")
    if not (merged / "config.json").is_file():
        merge_into_folder(resolved, merged)
    return merged


def _copy_generation_config(source: Path, target: Path) -> None:
    found = source / "generation_config.json"
    if found.is_file() and not (target / "generation_config.json").is_file():
        shutil.copy2(found, target / "generation_config.json")


def _torch_dtype(name: str):
    from backend.engines.loading import torch_dtype

    return torch_dtype(name)

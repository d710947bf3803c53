"""`TrainingConfig`: every setting of one training run, with help text and checks (stdlib only; the GUI
imports it to build the Training panel and the CLI to build its flags).

Fields left at None are filled from the preset by `with_preset`; the run records the filled config, so
a run's folder always says exactly what it trained with.

>>> config = with_preset(TrainingConfig(stage="dpo", preset="cpu-small"))
>>> (config.lora, config.learning_rate, config.batch_size, config.precision)
(True, 5e-05, 1, 'float32')
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from backend.config import EMBEDDED_MODEL, _DictMixin, _help
from backend.domain import STAGE1_PAIR_KINDS

STAGES = ("rsft", "dpo", "long_sft", "long_dpo", "reward")
SFT_STAGES = ("rsft", "long_sft")
DPO_STAGES = ("dpo", "long_dpo")
PRESETS = ("cpu-small", "gpu-lora", "gpu-full")
SFT_LOSS_TURNS = ("all", "last")
PRECISIONS = ("float32", "bfloat16", "float16")
DEVICES = ("auto", "cpu", "cuda")
# The runs that make up each stage, in order: each phase's base is the previous phase's run
# (`run:<id>`); Stage I may grow new trees with the RSFT model between its phases.
STAGE_PHASES = {"1": ("rsft", "dpo"), "2": ("long_sft", "long_dpo"), "reward": ("reward",)}
RUN_PREFIX = "run:"

# What each preset means. Learning rates are per trainer family (an SFT rate would wreck a DPO run).
_PRESETS: dict[str, dict[str, Any]] = {
    # The embedded 135M model on a laptop's CPU cores: LoRA, fp32 (bf16 autocast on CPU is slower to
    # train than fp32 here), short sequences, one row at a time (a DPO pair of 512-token sequences
    # holds ~4 GB of logits and activations; two at once doubled the peak RSS for no speed).
    "cpu-small": dict(lora=True, precision="float32", device="cpu", batch_size=1, gradient_accumulation=2,
                      max_length=512, epochs=1.0, gradient_checkpointing=False, checkpoint_steps=20,
                      learning_rate={"sft": 1e-4, "dpo": 5e-5, "reward": 1e-4}),
    "gpu-lora": dict(lora=True, precision="bfloat16", device="cuda", batch_size=4, gradient_accumulation=4,
                     max_length=2048, epochs=2.0, gradient_checkpointing=True, checkpoint_steps=100,
                     learning_rate={"sft": 1e-4, "dpo": 5e-6, "reward": 2e-5}),
    "gpu-full": dict(lora=False, precision="bfloat16", device="cuda", batch_size=2, gradient_accumulation=8,
                     max_length=2048, epochs=2.0, gradient_checkpointing=True, checkpoint_steps=200,
                     learning_rate={"sft": 1e-5, "dpo": 5e-7, "reward": 1e-5}),
}


def stage_family(stage: str) -> str:
    """'sft', 'dpo' or 'reward': which TRL trainer a stage uses.

    >>> [stage_family(s) for s in STAGES]
    ['sft', 'dpo', 'sft', 'dpo', 'reward']
    """
    if stage in SFT_STAGES:
        return "sft"
    if stage in DPO_STAGES:
        return "dpo"
    return "reward"


@dataclass
class TrainingConfig(_DictMixin):
    """One training run. None means "take it from the preset" (see `with_preset`)."""

    stage: str = _help("rsft (Stage I SFT on refinement samples), dpo (Stage I pairs), long_sft (Stage II SFT on "
                       "long thoughts), long_dpo (Stage II long-thought pairs), reward (a reward model from the "
                       "person's verdicts).", "rsft")
    base: str = _help("Model to start from: 'embedded:smollm2-135m-instruct', a local model folder, or "
                      "'run:<id>' (an earlier run of this project: its base plus its adapter).", EMBEDDED_MODEL)
    preset: str = _help("cpu-small (embedded model on CPU, LoRA), gpu-lora (bf16 LoRA on one GPU), gpu-full (bf16 "
                        "full fine-tuning). Fills every setting left empty.", "cpu-small")
    epochs: float | None = _help("Passes over the training data.", None)
    learning_rate: float | None = _help("Peak AdamW learning rate (linear decay to 0).", None)
    beta: float = _help("DPO beta: how far the policy may move from the reference (sigmoid DPO loss).", 0.1)
    max_length: int | None = _help("Longest tokenized conversation kept; longer ones are cut (SFT keeps the start, "
                                   "DPO cuts the completions, the reward model drops the pair).", None)
    batch_size: int | None = _help("Rows per device per step (pairs for DPO and the reward model).", None)
    gradient_accumulation: int | None = _help("Steps whose gradients add up before one optimizer update.", None)
    max_steps: int | None = _help("Stop after this many optimizer updates (overrides epochs); None for epochs.", None)
    lora: bool | None = _help("Train a LoRA adapter (True) or every weight (False).", None)
    lora_r: int = _help("LoRA rank.", 16)
    lora_alpha: int = _help("LoRA scaling numerator (alpha / r scales the update).", 32)
    lora_dropout: float = _help("Dropout on the LoRA input.", 0.05)
    lora_targets: list[str] | None = _help("Module names that get adapters; None for every linear projection.",
                                           None)
    sft_loss_turns: str = _help("SFT loss on 'all' assistant turns of a multi-turn sample (answer, criticism and "
                                "improvement: LLaMA-Factory's default, which the authors used) or on the 'last' "
                                "one only (LLaMA-Factory's mask_history).", "all")
    seed: int = _help("Seed for weights, data order and dropout; the same seed and data give the same run.", 42)
    checkpoint_steps: int | None = _help("Save a resumable checkpoint every this many optimizer updates.", None)
    keep_checkpoints: int = _help("Newest checkpoints kept on disk (older ones are deleted).", 2)
    precision: str | None = _help("Training precision: float32, bfloat16 or float16.", None)
    device: str | None = _help("cpu, cuda, or auto (cuda when a GPU is visible).", None)
    gradient_checkpointing: bool | None = _help("Recompute activations in the backward pass: less memory, "
                                                "slower (off on CPU).", None)
    pair_kinds: list[str] | None = _help("Stage I pair kinds trained by dpo; None for all of response, criticism, "
                                         "improvement, edit (a kind named here must have pairs).", None)
    reward_use_reward_pairs: bool = _help("Reward model: also train on pairs the reward decided (not only the "
                                          "person's), each weighted by reward_pair_weight.", False)
    reward_pair_weight: float = _help("Weight of one reward-decided pair in the reward model's loss (a "
                                      "person-decided pair weighs 1).", 0.5)
    reward_eval_fraction: float = _help("Reward model: share of the person-decided pairs' prompts kept aside to "
                                        "measure agreement with the person (besides the held-out prompts).", 0.2)
    heldout_fraction: float = _help("Share of the project's prompts held out for before/after evaluation, chosen "
                                    "at the first training and never trained on.", 0.1)
    logging_steps: int = _help("Report metrics every this many optimizer updates.", 1)

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}, not {self.stage!r}")
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}, not {self.preset!r}")
        if not self.base.strip():
            raise ValueError(f"base needs a model: {EMBEDDED_MODEL!r}, a model folder or 'run:<id>'")
        if self.base.startswith(RUN_PREFIX) and not self.base[len(RUN_PREFIX):].strip():
            raise ValueError("base 'run:' needs a run id, e.g. 'run:3f2a...' (see `avr-studio runs DIR`)")
        _positive("epochs", self.epochs)
        _positive("learning_rate", self.learning_rate)
        if self.beta <= 0:
            raise ValueError("beta must be > 0 (0.1 is the usual DPO value; larger keeps the policy closer)")
        for name in ("max_length", "batch_size", "gradient_accumulation", "max_steps", "checkpoint_steps"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 (or empty to take it from the preset)")
        if self.max_length is not None and self.max_length < 16:
            raise ValueError("max_length must be at least 16 tokens; 512 suits the embedded model")
        if self.lora_r < 1 or self.lora_alpha < 1:
            raise ValueError("lora_r and lora_alpha must be at least 1 (16 and 32 are common)")
        if not 0 <= self.lora_dropout < 1:
            raise ValueError("lora_dropout must be in [0, 1)")
        if self.sft_loss_turns not in SFT_LOSS_TURNS:
            raise ValueError("sft_loss_turns must be 'all' (every assistant turn) or 'last' (the last one only)")
        if self.keep_checkpoints < 1:
            raise ValueError("keep_checkpoints must be at least 1 (resuming needs the newest one)")
        if self.precision is not None and self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        if self.device is not None and self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}")
        if self.pair_kinds is not None:
            unknown = sorted(set(self.pair_kinds) - set(STAGE1_PAIR_KINDS))
            if unknown or not self.pair_kinds:
                raise ValueError(f"pair_kinds must be a non-empty list of {', '.join(STAGE1_PAIR_KINDS)} "
                                 f"(unknown: {unknown})")
        if self.reward_pair_weight <= 0:
            raise ValueError("reward_pair_weight must be > 0 (1 weighs a reward-decided pair like a person's)")
        if not 0 <= self.reward_eval_fraction < 1 or not 0 <= self.heldout_fraction < 1:
            raise ValueError("reward_eval_fraction and heldout_fraction must be in [0, 1)")
        if self.logging_steps < 1:
            raise ValueError("logging_steps must be at least 1")

    @property
    def family(self) -> str:
        return stage_family(self.stage)

    @property
    def base_run_id(self) -> str | None:
        """The run id of a 'run:<id>' base, else None."""
        return self.base[len(RUN_PREFIX):].strip() if self.base.startswith(RUN_PREFIX) else None


def with_preset(config: TrainingConfig) -> TrainingConfig:
    """A copy with every None field filled from the config's preset (explicit values win)."""
    preset = _PRESETS[config.preset]
    filled: dict[str, Any] = {}
    for f in fields(config):
        if getattr(config, f.name) is None and f.name in preset:
            value = preset[f.name]
            filled[f.name] = value[config.family] if isinstance(value, dict) else value
    return replace(config, **filled)


def preset_defaults(preset: str, stage: str) -> dict[str, Any]:
    """What a preset sets for a stage (for the Training panel's placeholders).

    >>> preset_defaults("gpu-full", "dpo")["learning_rate"]
    5e-07
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, not {preset!r}")
    return {name: value[stage_family(stage)] if isinstance(value, dict) else value
            for name, value in _PRESETS[preset].items()}


def _positive(name: str, value: float | None) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{name} must be > 0 (or empty to take it from the preset)")

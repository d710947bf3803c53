"""How long a run will take, before it starts: planned optimizer steps times tokens per step, divided by a
measured training speed (tokens per second).

The speed comes from this project's own finished runs of the same trainer, preset and base when there are
any (each run records `train_tokens_per_second`), else from the table below, measured on the embedded
model on 2 CPU cores by `benchmarks/bench_training.py`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from backend.domain import Run
from backend.training.config import TrainingConfig, stage_family
from backend.training.snapshot import DataCounts

# Tokens per second (prompt and completion tokens, padding excluded) for (preset, trainer family) on 2 quiet
# CPU cores: the embedded SmolLM2-135M, LoRA r=16 on every projection, fp32, 512-token rows. From
# bench_training.py's single-thread CPU time (SFT ~93, DPO ~95 policy tokens per CPU-second; TRL's loss
# within 5% of a bare forward/backward) times ~1.6 for the second core, which agrees with MODELS.md's
# 3.5 s per 512-token LoRA step. A busy machine is slower: the first run of a setup replaces these.
MEASURED_TOKENS_PER_SECOND: dict[tuple[str, str], float] = {
    ("cpu-small", "sft"): 150.0,
    ("cpu-small", "dpo"): 150.0,
    ("cpu-small", "reward"): 250.0,
}
SPEED_METRIC = "train_tokens_per_second"


@dataclass(frozen=True)
class TimeEstimate:
    steps: int
    seconds: float | None  # None when no speed is known for this preset yet
    source: str  # where the speed came from, for the person to judge the figure

    def describe(self) -> str:
        if self.seconds is None:
            return f"{self.steps} steps; no measured speed for this setup yet ({self.source})"
        minutes, seconds = divmod(round(self.seconds), 60)
        return f"{self.steps} steps, about {minutes} min {seconds:02d} s ({self.source})"


def planned_steps(config: TrainingConfig, rows: int, processes: int = 1) -> int:
    """Optimizer updates the run will make (`config` with its preset filled).

    >>> from backend.training.config import with_preset
    >>> planned_steps(with_preset(TrainingConfig(stage="dpo", batch_size=2, gradient_accumulation=2, epochs=3)), 10)
    9
    >>> planned_steps(with_preset(TrainingConfig(stage="dpo", max_steps=4)), 1000)
    4
    """
    if config.max_steps:
        return config.max_steps
    per_update = (config.batch_size or 1) * processes
    batches = math.ceil(rows / per_update)
    # As the Trainer counts: a last, shorter accumulation still makes an update.
    updates_per_epoch = max(math.ceil(batches / (config.gradient_accumulation or 1)), 1)
    return math.ceil(updates_per_epoch * (config.epochs or 1.0))


def estimate_time(config: TrainingConfig, counts: DataCounts, past_runs: Sequence[Run] = ()) -> TimeEstimate:
    """Steps and seconds for `config` (preset filled) on data with these counts.

    >>> from backend.training.config import with_preset
    >>> config = with_preset(TrainingConfig(stage="rsft", batch_size=2, gradient_accumulation=1, epochs=1))
    >>> counts = DataCounts(stage="rsft", train_rows=10, mean_tokens=150.0)
    >>> estimate_time(config, counts).seconds   # 5 steps x 2 rows x 150 tokens / 150 tokens per second
    10.0
    """
    steps = planned_steps(config, counts.train_rows)
    sequences = 1 if config.family == "sft" else 2  # a pair is two sequences, each cut at max_length
    tokens_per_row = min(counts.mean_tokens, sequences * float(config.max_length or counts.mean_tokens))
    rows_per_step = (config.batch_size or 1) * (config.gradient_accumulation or 1)
    tokens = steps * rows_per_step * tokens_per_row
    speed, source = _speed(config, past_runs)
    if speed is None:
        return TimeEstimate(steps=steps, seconds=None, source=source)
    return TimeEstimate(steps=steps, seconds=tokens / speed, source=source)


def _speed(config: TrainingConfig, past_runs: Sequence[Run]) -> tuple[float | None, str]:
    same = [run for run in past_runs if run.status == "finished" and run.metrics.get(SPEED_METRIC)
            and run.config.get("preset") == config.preset and run.base == config.base
            and stage_family(run.stage) == config.family]
    if same:
        latest = max(same, key=lambda run: run.created_at)
        return float(latest.metrics[SPEED_METRIC]), f"speed measured on run {latest.id}"
    typical = MEASURED_TOKENS_PER_SECOND.get((config.preset, config.family))
    if typical is not None:
        return typical, f"typical {config.preset} speed of the embedded model on 2 CPU cores"
    return None, f"the first {config.preset} run will measure it"

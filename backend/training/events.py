"""What a training run reports while it runs (`TrainingEvent`) and when it ends (`RunResult`).

Plain dataclasses (stdlib only): the trainer hands events to its `on_event` callback and appends them to
the run folder's `events.jsonl`; the worker forwards them to the app, which draws the curves from them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

EVENT_KINDS = ("started", "metrics", "checkpoint", "log", "ended")
RESULT_STATUSES = ("finished", "cancelled", "failed")


@dataclass(frozen=True)
class TrainingEvent:
    """One report of a running trainer.

    `metrics` holds what TRL logged at this step under its own names (loss, learning_rate, grad_norm,
    rewards/chosen, rewards/rejected, rewards/margins, rewards/accuracies, mean_token_accuracy, accuracy,
    margin, num_tokens, ...); progress, speed and ETA have their own fields.
    """

    kind: str  # one of EVENT_KINDS
    run_id: str
    step: int = 0
    max_steps: int = 0
    epoch: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    tokens_per_second: float | None = None
    eta_seconds: float | None = None
    message: str = ""
    time: float = 0.0  # seconds since the epoch

    @property
    def progress(self) -> float:
        """Share of the planned steps done, 0..1."""
        return min(self.step / self.max_steps, 1.0) if self.max_steps else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingEvent:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True)
class RunResult:
    """How a call of a trainer ended. `output_dir` is relative to the run folder ('adapter' or 'model')."""

    run_id: str
    stage: str
    status: str  # one of RESULT_STATUSES
    step: int = 0
    max_steps: int = 0
    metrics: dict[str, float] = field(default_factory=dict)  # final metrics (train_loss, speed, agreement, ...)
    output_dir: str | None = None
    output_kind: str | None = None  # "adapter" (LoRA, on top of the base) or "model" (a whole model folder)
    resumed_from_step: int | None = None
    error: str | None = None
    reused: bool = False  # True when the run had finished before and this call trained nothing

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

"""`train_run(run_dir, on_event, should_stop)`: train the run prepared in `run_dir` with the trainer of its
stage. The one entry point for the worker's training job, the CLI, and `accelerate launch` (launch.py).
"""

from __future__ import annotations

from pathlib import Path

from backend.training.config import TrainingConfig
from backend.training.events import RunResult
from backend.training.run_folder import RunFolder
from backend.training.session import EventSink, StopCheck


def train_run(run_dir: Path | str, on_event: EventSink | None = None, should_stop: StopCheck | None = None,
              base_folder: str | None = None) -> RunResult:
    """Train, resume (from the last checkpoint) or report (a finished run trains nothing) the run in `run_dir`.

    `base_folder` loads the recorded base model from another folder (a copy of it on a cluster)."""
    config = TrainingConfig.from_dict(RunFolder(run_dir).read_run()["config"])
    if config.family == "sft":
        from backend.training import sft as stage
    elif config.family == "dpo":
        from backend.training import dpo as stage
    else:
        from backend.training import reward as stage
    return stage.train(run_dir, on_event, should_stop, base_folder)

"""The `train` job: train one prepared run (`backend.training.trainer.train_run`) and stream its metrics.

Every TrainingEvent is journalled as a `training_event` record before the app hears of it (the run folder's
own `events.jsonl` holds them too), and becomes a Progress event with the step, tokens/s and ETA. The
process that owns the database turns the run folder into store rows with `backend.training.runs.sync_run`.
Cancel stops at the next optimizer step with a checkpoint; running the job again resumes from there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from backend import protocol
from backend.job_requests import TrainRequest
from backend.training.events import TrainingEvent
from backend.training.records import event_record
from backend.worker.context import JobContext
from backend.worker.model_cache import MODELS

TRAINING_NICENESS = 10  # the worker's threads while (and after) it trains: the app comes first on a shared CPU


def yield_cpu_to_the_app(niceness: int = TRAINING_NICENESS) -> None:
    """Lower the CPU priority of every thread of this worker (on Linux niceness is per thread, and threads
    made later, e.g. torch's, inherit it). Training takes every core it gets; on a 2-core machine a person's
    verdict in the app then waited its turn (~0.6 s). A lowered priority costs training nothing when the app
    is idle; it is never raised again (that needs privileges), so later jobs of this worker yield too."""
    if not hasattr(os, "setpriority"):
        return
    tasks = Path("/proc/self/task")
    for tid in ([int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [0]):
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < niceness:
                os.setpriority(os.PRIO_PROCESS, tid, niceness)
        except OSError:  # a thread that ended meanwhile, or a platform that refuses
            continue


def _progress_text(event: TrainingEvent) -> str:
    loss = event.metrics.get("loss")
    return f"{event.kind} step {event.step}/{event.max_steps}" + (f", loss {loss:.4g}" if loss is not None else "")


def run(request: TrainRequest, ctx: JobContext) -> dict[str, Any]:
    from backend.training.run_folder import RunFolder
    from backend.training.trainer import train_run

    folder = RunFolder(request.run_dir)
    info = folder.read_run()
    ctx.log("info", f"training run {request.run_id}: {info['stage']} from {info['base']}")
    # Training needs the memory (a GPU's, above all) more than the next job needs a warm generator.
    MODELS.close_all()
    yield_cpu_to_the_app()

    def on_event(event: TrainingEvent) -> None:
        ctx.record(event_record(event))
        if event.kind == "log" or (event.kind == "ended" and event.message != "finished"):
            ctx.log("info", event.message)
        ctx.emit(protocol.Progress(ctx.job_id, event.step, event.max_steps, event.tokens_per_second,
                                   event.eta_seconds, _progress_text(event)))

    result = train_run(folder.path, on_event=on_event, should_stop=ctx.is_cancelled,
                       base_folder=request.base_folder)
    return {"run_id": result.run_id, "stage": result.stage, "status": result.status, "step": result.step,
            "max_steps": result.max_steps, "metrics": result.metrics, "reused": result.reused,
            "resumed_from_step": result.resumed_from_step}

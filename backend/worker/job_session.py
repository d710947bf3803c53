"""Run one job in a project from a headless process (the CLI): job row, job folder, worker, ingest.

The caller owns the database; results are imported from the journal as they arrive, and a Ctrl-C
cancels the job in the worker and waits for it to stop, so nothing journalled is left behind.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from backend import protocol
from backend.domain import Job, random_id
from backend.errors import UserError
from backend.worker.client import WorkerClient, WorkerCrashedError
from backend.worker.ingest import ingest_journal
from backend.worker.journal import REQUEST_NAME

INGEST_EVERY_S = 1.0  # import results in batches: one transaction a second is plenty for a progress view
_BULKY_KEYS = ("nodes", "scores", "items", "starts", "prompts")  # kept in request.json, not in the job row


@dataclass
class JobOutcome:
    job_id: str
    job_dir: Path
    status: str  # "finished" | "failed" | "cancelled"
    summary: dict[str, Any] = field(default_factory=dict)
    failure: protocol.JobFailed | None = None
    records: list[dict[str, Any]] = field(default_factory=list)  # only when keep_records


def write_request(job_dir: Path, submit: protocol.SubmitJob) -> None:
    job_dir.mkdir(parents=True, exist_ok=True)
    (job_dir / REQUEST_NAME).write_text(json.dumps({"type": submit.TYPE, **asdict(submit)}, ensure_ascii=False),
                                        encoding="utf-8")


def run_job(kind: str, payload: dict[str, Any], job_dir: Path, store=None,
            python_executable: str = sys.executable,
            on_event: Callable[[protocol.Message], None] | None = None,
            keep_records: bool = False) -> JobOutcome:
    """Submit a job to a fresh worker and follow it to its end; with a store, record and ingest it."""
    job_id = job_dir.name
    submit = protocol.SubmitJob(job_id, kind, str(job_dir), payload)
    write_request(job_dir, submit)
    if store is not None:
        light = {k: v for k, v in payload.items() if k not in _BULKY_KEYS}
        store.add_job(Job(id=job_id, kind=kind, status="running",
                          request={**light, "job_dir": str(job_dir), "request_file": REQUEST_NAME}))
    outcome = JobOutcome(job_id, job_dir, "failed")
    try:
        with WorkerClient(python_executable, log_path=job_dir / "worker.log") as client:
            _follow(client, submit, store, outcome, on_event, keep_records)
    except UserError as exc:  # the worker could not start, or crashed
        outcome.status = "failed"
        title = "The worker crashed" if isinstance(exc, WorkerCrashedError) else "The worker could not start"
        outcome.failure = protocol.JobFailed(job_id, title, str(exc))
        raise
    finally:
        if store is not None:
            ingest_journal(store, job_dir, job_id)
            error = None
            if outcome.failure is not None:
                error = f"{outcome.failure.title}: {outcome.failure.what_to_do}"
            store.update_job(job_id, outcome.status, error)
    return outcome


def new_job_dir(project_dir: Path) -> Path:
    return Path(project_dir) / "jobs" / random_id()


def _follow(client: WorkerClient, submit: protocol.SubmitJob, store, outcome: JobOutcome,
            on_event, keep_records: bool) -> None:
    client.send(submit)
    state = {"last_ingest": time.monotonic()}
    interrupted = False
    while True:
        try:
            event = client.next_event(timeout_s=0.5)
            if event is None or getattr(event, "job_id", None) not in (submit.job_id, None):
                continue
            _apply(event, submit, store, outcome, keep_records, state)
            if on_event is not None:
                on_event(event)
            if isinstance(event, protocol.TERMINAL_EVENTS):
                break
        except KeyboardInterrupt:
            if interrupted:
                raise  # a second Ctrl-C: stop waiting (the worker is shut down on the way out)
            interrupted = True  # ask the worker to stop; keep reading until it says it has
            client.cancel(submit.job_id)
    if interrupted:
        raise KeyboardInterrupt


def _apply(event: protocol.Message, submit: protocol.SubmitJob, store, outcome: JobOutcome, keep_records: bool,
           state: dict[str, float]) -> None:
    if isinstance(event, protocol.Result):
        if keep_records:
            outcome.records.append(event.record)
        if store is not None and time.monotonic() - state["last_ingest"] >= INGEST_EVERY_S:
            ingest_journal(store, submit.job_dir, submit.job_id)
            state["last_ingest"] = time.monotonic()
    elif isinstance(event, protocol.JobFinished):
        outcome.status, outcome.summary = "finished", event.summary
    elif isinstance(event, protocol.JobFailed):
        outcome.status, outcome.failure = "failed", event
    elif isinstance(event, protocol.JobCancelled):
        outcome.status = "cancelled"

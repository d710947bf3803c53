"""Run one prepared job from a headless process (the CLI): a worker of its own, ingest, the job's status.

The caller owns the database; results are imported from the journal as they arrive, and a Ctrl-C
cancels the job in the worker and waits for it to stop, so nothing journalled is left behind.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend import protocol
from backend.errors import UserError
from backend.worker.client import WorkerClient, WorkerCrashedError
from backend.worker.ingest import ingest_journal
from backend.worker.submission import PreparedJob

INGEST_EVERY_S = 1.0  # import results in batches: one transaction a second is plenty for a progress view


@dataclass
class JobOutcome:
    job_id: str
    job_dir: Path
    status: str  # "finished" | "failed" | "cancelled"
    summary: dict[str, Any] = field(default_factory=dict)
    failure: protocol.JobFailed | None = None
    records: list[dict[str, Any]] = field(default_factory=list)  # only when keep_records


def run_prepared_job(job: PreparedJob, store=None, python_executable: str = sys.executable,
                     on_event: Callable[[protocol.Message], None] | None = None,
                     keep_records: bool = False) -> JobOutcome:
    """Run `job` in a fresh worker and follow it to its end; with a store, ingest it and keep its status."""
    outcome = JobOutcome(job.job_id, job.job_dir, "failed")
    try:
        with WorkerClient(python_executable, log_path=job.worker_log_path) as client:
            _follow(client, job.submit_message(), store, outcome, on_event, keep_records)
    except UserError as exc:  # the worker could not start, or crashed
        outcome.status = "failed"
        title = "The worker crashed" if isinstance(exc, WorkerCrashedError) else "The worker could not start"
        outcome.failure = protocol.JobFailed(job.job_id, title, str(exc))
        raise
    finally:
        if store is not None:
            ingest_journal(store, job.job_dir, job.job_id, on_warning=_warn)
            store.update_job(job.job_id, outcome.status, outcome_error(outcome))
    return outcome


def outcome_error(outcome: JobOutcome) -> str | None:
    """What the jobs table keeps as the job's error: the failure, or how many requests of a finished
    job failed (a partial result)."""
    if outcome.failure is not None:
        return f"{outcome.failure.title}: {outcome.failure.what_to_do}"
    failed = outcome.summary.get("failed_requests", 0)
    if outcome.status == "finished" and failed:
        return (f"{failed} of {outcome.summary.get('requests', failed)} model requests failed; first error: "
                f"{outcome.summary.get('first_error')}")
    return None


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr)


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
    if isinstance(event, protocol.JobStarted):
        if store is not None:
            store.update_job(submit.job_id, "running")
    elif isinstance(event, protocol.Result):
        if keep_records:
            outcome.records.append(event.record)
        if store is not None and time.monotonic() - state["last_ingest"] >= INGEST_EVERY_S:
            ingest_journal(store, submit.job_dir, submit.job_id, on_warning=_warn)
            state["last_ingest"] = time.monotonic()
    elif isinstance(event, protocol.JobFinished):
        outcome.status, outcome.summary = "finished", event.summary
    elif isinstance(event, protocol.JobFailed):
        outcome.status, outcome.failure = "failed", event
    elif isinstance(event, protocol.JobCancelled):
        outcome.status = "cancelled"

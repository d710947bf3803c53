"""What opening a project does before anything reads it, after a crash or a kill -9 of the app or CLI.

1. Wait for workers that still run one of its jobs (a killed CLI's orphan finishes its step and
   exits): until then it may journal a result, and a new run planned from the database would grow the
   same slot again. One still running after `wait_s` is reported, never ignored.
2. Import every journal record the database has not seen (`ingest.ingest_pending_journals`).
3. Mark jobs whose row says queued or running but whose worker is gone as "interrupted": resumable
   (`submission.resume_job`, `avr-studio resume`, the app's Resume).
4. Remove the temp files of exports killed mid-write (`backend.io.exporters.files`) and the staging
   files of imports killed mid-way (`backend.store.import_staging`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from backend.worker import job_lock
from backend.worker.ingest import Warn, ingest_pending_journals

ORPHAN_WAIT_S = 40.0  # a worker whose parent died cancels its job and exits within ~30 s (server.py)
INTERRUPTED_NOTE = ("Interrupted: its worker stopped without a last word (the app or the command was closed "
                    "or killed). Its results were kept; resume it to finish.")


@dataclass
class Recovery:
    imported: int = 0  # stored objects read from journals
    interrupted: list[str] = field(default_factory=list)  # jobs now marked interrupted
    still_running: dict[str, int | None] = field(default_factory=dict)  # job id -> worker pid
    removed_temp_files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def running_job_dirs(jobs_dir: Path) -> list[Path]:
    """Job folders whose lock a live worker holds."""
    if not jobs_dir.is_dir():
        return []
    return [d for d in sorted(jobs_dir.iterdir()) if d.is_dir() and job_lock.is_running(d)]


def recover_project(store, wait_s: float = ORPHAN_WAIT_S, on_warning: Warn | None = None) -> Recovery:
    """Run the steps of the module docstring on an open store (its process owns the database)."""
    recovery = Recovery()

    def warn(text: str) -> None:
        recovery.warnings.append(text)
        if on_warning is not None:
            on_warning(text)

    jobs_dir = Path(store.jobs_dir)
    deadline = time.monotonic() + wait_s
    for job_dir in running_job_dirs(jobs_dir):
        if not job_lock.wait_until_stopped(job_dir, max(deadline - time.monotonic(), 0.0)):
            recovery.still_running[job_dir.name] = job_lock.holder_pid(job_dir)
    recovery.imported = ingest_pending_journals(store, on_warning=warn)
    for job in store.active_jobs():
        if job.id not in recovery.still_running and not job_lock.is_running(jobs_dir / job.id):
            store.update_job(job.id, "interrupted", INTERRUPTED_NOTE)
            recovery.interrupted.append(job.id)
    recovery.removed_temp_files = _remove_export_temps(store)
    return recovery


def _remove_export_temps(store) -> list[Path]:
    from backend.io.exporters.files import LEDGER_DIR, remove_stale_temp_files
    from backend.store.import_staging import remove_stale_staging_files

    exports = Path(store.exports_dir)
    return remove_stale_temp_files(exports, exports / LEDGER_DIR) + remove_stale_staging_files(store.project_dir)


def still_running_message(project_dir: Path, still_running: dict[str, int | None]) -> str:
    """One line for a person: which job's worker still runs, and what to do."""
    job_id, pid = next(iter(still_running.items()))
    who = f"its worker (pid {pid})" if pid else "its worker"
    more = f" (and {len(still_running) - 1} more jobs)" if len(still_running) > 1 else ""
    return (f"job {job_id} of {project_dir} is still running in {who}{more}, left by an app or command that "
            "was closed; wait for it to finish (a few seconds), or end that process, then try again.")

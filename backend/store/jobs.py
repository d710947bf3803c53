"""Jobs, their notes and refused results, and journal import offsets (training runs live in runs.py)."""

from __future__ import annotations

from backend.domain import Job, now
from backend.store.codec import from_json, to_json, utc
from backend.store.connection import Database
from backend.store.job_notes import JobNoteQueries
from backend.store.slot_conflicts import SlotConflictQueries

# "interrupted": the job's worker went away without a last word (the app or the CLI was killed);
# what it journalled is kept and the job can be resumed (`backend.worker.submission.resume_job`).
FINISHED_STATUSES = ("finished", "failed", "cancelled", "interrupted")
ACTIVE_STATUSES = ("queued", "running")
_JOB_COLUMNS = "id, kind, status, request, created_at, finished_at, error"


def _job_from_row(row: tuple) -> Job:
    id_, kind, status, request, created_at, finished_at, error = row
    return Job(id=id_, kind=kind, status=status, request=from_json(request, {}), created_at=created_at,
               finished_at=finished_at, error=error)


class JobQueries(JobNoteQueries, SlotConflictQueries):
    _db: Database

    def add_job(self, job: Job) -> None:
        self._db.execute(
            f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES (?, ?, ?, ?::JSON, ?, ?, ?) ON CONFLICT DO NOTHING",
            [job.id, job.kind, job.status, to_json(job.request), utc(job.created_at), utc(job.finished_at),
             job.error],
        )

    def update_job(self, job_id: str, status: str, error: str | None = None) -> None:
        """Set a job's status; a finished, failed or cancelled job also gets its finish time."""
        finished_at = now() if status in FINISHED_STATUSES else None
        self._db.execute("UPDATE jobs SET status = ?, error = ?, finished_at = ? WHERE id = ?",
                         [status, error, finished_at, job_id])

    def jobs(self) -> list[Job]:
        rows = self._db.rows(f"SELECT {_JOB_COLUMNS} FROM jobs ORDER BY created_at, id")
        return [_job_from_row(row) for row in rows]

    def active_jobs(self) -> list[Job]:
        """Jobs whose row says queued or running."""
        rows = self._db.rows(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE status IN (?, ?) ORDER BY created_at, id",
                             list(ACTIVE_STATUSES))
        return [_job_from_row(row) for row in rows]

    def get_job(self, job_id: str) -> Job | None:
        row = self._db.row(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", [job_id])
        return None if row is None else _job_from_row(row)

    def journal_offset(self, job_id: str) -> int:
        """How far (bytes or lines, the importer's choice) this job's journal has been imported; 0 if never."""
        value = self._db.scalar('SELECT "offset" FROM journal_imports WHERE job_id = ?', [job_id])
        return int(value or 0)

    def set_journal_offset(self, job_id: str, offset: int) -> None:
        self._db.execute(
            "INSERT INTO journal_imports VALUES (?, ?, now()) "
            'ON CONFLICT (job_id) DO UPDATE SET "offset" = excluded."offset", updated_at = excluded.updated_at',
            [job_id, int(offset)],
        )

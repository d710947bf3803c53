"""Notes a job leaves beyond its status: a journal line that was skipped, results refused as slot
conflicts, requests that failed. The app's job panel and `avr-studio jobs` show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from backend.domain import now
from backend.store.connection import Database

NOTE_LEVELS = ("info", "warning", "error")


@dataclass(frozen=True)
class JobNote:
    job_id: str
    level: str  # one of NOTE_LEVELS
    text: str  # one line a person can act on
    created_at: datetime


class JobNoteQueries:
    _db: Database

    def add_job_note(self, job_id: str, level: str, text: str) -> None:
        if level not in NOTE_LEVELS:
            raise ValueError(f"note level must be one of {NOTE_LEVELS}, not {level!r}")
        self._db.execute(
            "INSERT INTO job_notes SELECT ?, ?, ?, ?, coalesce(max(seq), 0) + 1 FROM job_notes",
            [job_id, level, text, now()])

    def job_notes(self, job_id: str | None = None) -> list[JobNote]:
        """A job's notes (every job's with None), oldest first."""
        where, params = ("WHERE job_id = ?", [job_id]) if job_id is not None else ("", [])
        rows = self._db.rows(
            f"SELECT job_id, level, text, created_at::TIMESTAMP FROM job_notes {where} ORDER BY seq", params)
        return [JobNote(job, level, text, at.replace(tzinfo=UTC)) for job, level, text, at in rows]

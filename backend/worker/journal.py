"""A job's journal: `<job_dir>/journal.jsonl`, one JSON record per line, fsynced before it is announced.

A crash may leave a torn last line (no newline, or half a JSON object); readers skip it and the next
writer cuts it off, so a journal is always a sequence of whole records.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

JOURNAL_NAME = "journal.jsonl"
REQUEST_NAME = "request.json"
LOG_NAME = "log.txt"
WORKER_LOG_NAME = "worker.log"  # the worker process's own output while it ran the job


def journal_path(job_dir: str | Path) -> Path:
    return Path(job_dir) / JOURNAL_NAME


def read_records(job_dir: str | Path, offset: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    """(end byte offset, record) for each whole line from byte `offset`; a torn tail is left unread.

    The offset after a record is where the next read should start, so callers can resume exactly.
    """
    path = journal_path(job_dir)
    if not path.is_file():
        return
    with path.open("rb") as handle:
        handle.seek(offset)
        position = offset
        for raw in handle:
            if not raw.endswith(b"\n"):
                return  # torn: the writer died mid-line
            position += len(raw)
            try:
                record = json.loads(raw)
            except ValueError:
                return  # a torn line that a later append glued to (never happens after JournalWriter)
            if isinstance(record, dict):
                yield position, record


class JournalWriter:
    """Appends records durably. Thread-safe; `append` returns the record's sequence number."""

    def __init__(self, job_dir: str | Path) -> None:
        self.path = journal_path(job_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._cut_torn_tail()
        self._seq = sum(1 for _ in read_records(self.path.parent))
        self._handle = self.path.open("ab")

    def _cut_torn_tail(self) -> None:
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            with self.path.open("r+b") as handle:
                handle.truncate(keep)

    def append(self, record: dict[str, Any]) -> int:
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())
            seq = self._seq
            self._seq += 1
        return seq

    def close(self) -> None:
        with self._lock:
            self._handle.close()

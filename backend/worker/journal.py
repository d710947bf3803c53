"""A job's journal: `<job_dir>/journal.jsonl`, one JSON record per line, fsynced before it is announced.

A crash may leave a torn last line (no newline, or half a JSON object); readers skip it and the next
writer cuts it off, so a journal is always a sequence of whole records. A whole line that is not a
record (a damaged disk block, an editor) is skipped and reported, and the lines after it still count.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

JOURNAL_NAME = "journal.jsonl"
REQUEST_NAME = "request.json"
LOG_NAME = "log.txt"
WORKER_LOG_NAME = "worker.log"  # the worker process's own output while it ran the job


def journal_path(job_dir: str | Path) -> Path:
    return Path(job_dir) / JOURNAL_NAME


class BadJournalLine(NamedTuple):
    """A whole line of a journal that holds no record (damaged on disk, or written by something else)."""

    line: int  # 1-based line number in the journal
    offset: int  # byte offset where the line starts
    reason: str
    end: int = 0  # byte offset just after it: where reading resumes


def read_records(job_dir: str | Path, offset: int = 0,
                 on_bad: Callable[[BadJournalLine], None] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(end byte offset, record) for each whole line from byte `offset`; a torn tail is left unread.

    The offset after a record is where the next read should start, so callers can resume exactly. A
    whole line that is not a JSON object is skipped and reported to `on_bad` (the records after it
    are still read): one damaged line must not hide the rest of a job's results.
    """
    path = journal_path(job_dir)
    if not path.is_file():
        return
    with path.open("rb") as handle:
        handle.seek(offset)
        position = offset
        for raw in handle:
            if not raw.endswith(b"\n"):
                return  # torn: the writer died mid-line (or is writing it now)
            start, position = position, position + len(raw)
            try:
                record = json.loads(raw)
                reason = None if isinstance(record, dict) else f"a JSON {type(record).__name__}, not a record"
            except UnicodeDecodeError:
                reason = "not UTF-8 text"
            except (ValueError, RecursionError) as exc:  # bad JSON, a 4,300-digit number, deep nesting
                reason = f"not JSON ({_short(exc)})"
            if reason is None:
                yield position, record
            elif raw.strip() and on_bad is not None:
                on_bad(BadJournalLine(line_number_at(path, start), start, reason, position))


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def line_number_at(path: Path, offset: int) -> int:
    """The 1-based number of the line that starts at byte `offset` (counted only for a bad line)."""
    count = 0
    with path.open("rb") as handle:
        remaining = offset
        while remaining > 0 and (chunk := handle.read(min(remaining, 1 << 20))):
            count += chunk.count(b"\n")
            remaining -= len(chunk)
    return count + 1


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
        """Cut a half-written last line (the writer before this one died mid-write); read from the end,
        so a long journal is not read whole."""
        if not self.path.is_file():
            return
        with self.path.open("r+b") as handle:
            size = end = handle.seek(0, os.SEEK_END)
            while end > 0:
                start = max(0, end - (1 << 16))
                handle.seek(start)
                newline = handle.read(end - start).rfind(b"\n")
                if newline >= 0:
                    keep = start + newline + 1
                    break
                end = start
            else:
                keep = 0
            if keep < size:
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

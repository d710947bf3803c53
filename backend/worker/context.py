"""What a running job sees of the worker: the journal, events, logging, progress, cancel.

Jobs are plain functions `run(request, ctx) -> summary dict`; everything they produce goes through
`ctx.record` (journal first, then the event) so a crash of either side loses nothing that was announced.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend import protocol
from backend.domain import Chain, Node, Score
from backend.errors import JobCancelled
from backend.job_requests import JobRequest
from backend.worker.job_lock import JobLock
from backend.worker.journal import LOG_NAME, REQUEST_NAME, BadJournalLine, JournalWriter, read_records
from backend.worker.request_tally import RequestTally

_PROGRESS_EVERY_S = 0.5  # throttle: a progress event per node would flood a slow reader


class ProgressMeter:
    """done/total steps with tokens/s and an ETA measured over this run (resumed steps excluded)."""

    def __init__(self, ctx: JobContext) -> None:
        self._ctx = ctx
        self.total = 0
        self.done = 0
        self._done_at_start = 0
        self._tokens = 0
        self._started = time.monotonic()
        self._last_emit = 0.0

    def start(self, total: int, already_done: int = 0, message: str = "") -> None:
        self.total, self.done, self._done_at_start = total, already_done, already_done
        self._started = time.monotonic()
        self._emit(message, force=True)

    def advance(self, steps: int = 1, tokens: int = 0, message: str = "") -> None:
        self.done += steps
        self._tokens += tokens
        self._emit(message, force=self.done >= self.total)

    def add_total(self, steps: int) -> None:
        self.total += steps

    def _emit(self, message: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_emit < _PROGRESS_EVERY_S:
            return
        self._last_emit = now
        elapsed = max(now - self._started, 1e-6)
        run_done = self.done - self._done_at_start
        tokens_per_s = self._tokens / elapsed if self._tokens else None
        eta = elapsed / run_done * max(self.total - self.done, 0) if run_done > 0 else None
        self._ctx.emit(protocol.Progress(self._ctx.job_id, self.done, self.total, tokens_per_s, eta, message))


def read_request(job_dir: Path) -> JobRequest:
    """The typed request in the job's request.json (ProtocolError if it is missing or unreadable)."""
    try:
        text = (Path(job_dir) / REQUEST_NAME).read_text(encoding="utf-8")
    except OSError as exc:
        raise protocol.ProtocolError(f"the job folder has no readable {REQUEST_NAME} ({exc}); "
                                     "prepare the job with backend.worker.submission.prepare_job") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise protocol.ProtocolError(f"{REQUEST_NAME} is not JSON; prepare the job again") from None
    return protocol.decode_request(data)


class JobContext:
    """Opens the job for this worker: takes the job's lock (one worker per job: `job_lock`), reads
    what an earlier run journalled, and opens the journal and log for appending. `close` releases all."""

    def __init__(self, job: protocol.SubmitJob, emit: Callable[[protocol.Message], None],
                 cancelled: threading.Event) -> None:
        self.job_id = job.job_id
        self.job_dir = Path(job.job_dir)
        self.emit = emit
        self._cancelled = cancelled
        self.job_dir.mkdir(parents=True, exist_ok=True)
        self._lock = JobLock(self.job_dir)  # JobBusyError while another worker runs this job
        try:
            self._log_handle = (self.job_dir / LOG_NAME).open("a", encoding="utf-8")
            # Records from an earlier run of this job (a crash, then a resubmit): jobs skip what is there.
            self.previous_records = [record for _, record in read_records(self.job_dir, on_bad=self._bad_line)]
            self.journalled: list[Node | Score | Chain] = [
                obj for obj in map(_object_or_none, self.previous_records) if obj is not None]
            self.journal = JournalWriter(self.job_dir)
        except BaseException:
            self._lock.release()
            raise
        self.progress = ProgressMeter(self)
        self.requests = RequestTally()  # every model request's outcome (`request_tally.TalliedEngine`)

    def _bad_line(self, bad: BadJournalLine) -> None:
        self.log("warning", f"journal line {bad.line} (byte {bad.offset}) was skipped: {bad.reason}")

    def is_cancelled(self) -> bool:
        return self._cancelled.is_set()

    def check_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise JobCancelled(self.job_id)

    def record(self, record: dict[str, Any]) -> int:
        """Journal the record (durably), then announce it."""
        seq = self.journal.append(record)
        self.emit(protocol.Result(self.job_id, seq, record))
        return seq

    def log(self, level: str, text: str, detail: str = "") -> None:
        """Log to stderr and the job's log.txt, and send `text` to the app (`detail`, e.g. a traceback,
        stays in the files)."""
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {level.upper()} {text}"
        if detail:
            line += "\n" + detail.rstrip()
        print(line, file=sys.stderr, flush=True)
        self._log_handle.write(line + "\n")
        self._log_handle.flush()
        self.emit(protocol.Log(self.job_id, level, text))

    def close(self) -> None:
        self.journal.close()
        self._log_handle.close()
        self._lock.release()


def _object_or_none(record: dict[str, Any]) -> Node | Score | Chain | None:
    """The stored object of an earlier run's record; None for a record this version cannot read."""
    try:
        return protocol.record_to_object(record)
    except (TypeError, ValueError):
        return None

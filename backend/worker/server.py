"""The worker's request loop: stdin requests in, protocol events out, one job at a time on a thread.

The main thread only reads stdin, so a CancelJob arrives while a job runs; the job thread drains a
FIFO queue of submitted jobs. Stdout carries protocol lines only (see `__main__`).
"""

from __future__ import annotations

import importlib.metadata
import os
import queue
import sys
import threading
import traceback
from typing import IO

from backend import protocol
from backend.errors import JobCancelled, ModelLoadError, UserError
from backend.worker.context import JobContext, read_request
from backend.worker.jobs import run_request
from backend.worker.journal import LOG_NAME
from backend.worker.model_cache import MODELS

_STOP = object()
_JOIN_ON_EXIT_S = 30.0  # a cancelled job gets this long to reach a cancel check before the process exits


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _devices() -> list[str]:
    try:
        import torch
    except ImportError:
        return []
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())]
    return devices


TIMEOUT_ADVICE = ("A slow server needs a longer timeout: --timeout SECONDS on the command line, "
                  "or the model's timeout in Settings.")


def failure_event(job_id: str, error: BaseException, log_path: str) -> protocol.JobFailed:
    """A JobFailed that tells a person what to do: the UserError's own message, or where the bug is."""
    from backend.engines.http_retry import ServerReplyError

    trace = "".join(traceback.format_exception(error))
    if isinstance(error, ModelLoadError):
        return protocol.JobFailed(job_id, "The model could not be loaded", str(error), trace)
    if isinstance(error, UserError):
        return protocol.JobFailed(job_id, "The job could not run", str(error), trace)
    if isinstance(error, ServerReplyError | ConnectionError | TimeoutError):  # the server's fault, not ours
        return protocol.JobFailed(job_id, "The model server could not be used", _with_timeout_advice(str(error)),
                                  trace)
    return protocol.JobFailed(
        job_id, f"The job stopped on an unexpected error: {type(error).__name__}: {error}",
        f"This is a bug in AvR Studio. The full traceback is in {log_path}; please report it. "
        "Results produced before the error are kept; submitting the job again resumes it.", trace)


def all_requests_failed_event(job_id: str, tally) -> protocol.JobFailed:
    """Every model request of the job failed, so it produced nothing: say so, with the first error."""
    return protocol.JobFailed(
        job_id, f"Every request to the model failed ({tally.failed} of {tally.total})",
        _with_timeout_advice(f"First error: {tally.first_error}"))


def _with_timeout_advice(text: str) -> str:
    return f"{text} {TIMEOUT_ADVICE}" if "in time" in text or "timed out" in text.lower() else text


class WorkerServer:
    def __init__(self, stdin: IO[str], stdout: IO[str]) -> None:
        self._stdin = stdin
        self._stdout = stdout
        self._write_lock = threading.Lock()
        self._jobs: queue.Queue = queue.Queue()
        self._cancel_flags: dict[str, threading.Event] = {}
        self._thread = threading.Thread(target=self._job_loop, name="avr-job", daemon=True)

    def emit(self, message: protocol.Message) -> None:
        with self._write_lock:
            self._stdout.write(message.to_line())
            self._stdout.flush()

    def serve(self) -> int:
        self._thread.start()
        try:
            for line in self._stdin:
                if not line.strip():
                    continue
                try:
                    request = protocol.parse_line(line)
                except protocol.ProtocolError as exc:
                    self.emit(protocol.Log(None, "error", f"ignored a bad request: {exc}"))
                    continue
                if isinstance(request, protocol.Shutdown):
                    break
                self._handle(request)
        finally:
            self._stop()
        return 0

    def _handle(self, request: protocol.Message) -> None:
        if isinstance(request, protocol.Hello):
            self.emit(protocol.Ready(protocol.PROTOCOL_VERSION, os.getpid(), sys.version.split()[0],
                                     _version("torch"), _version("transformers"), _devices()))
        elif isinstance(request, protocol.SubmitJob):
            # Each submission has its own flag, travelling with it: the same job may be submitted again
            # (to resume it) while its previous run is still finishing.
            flag = threading.Event()
            self._cancel_flags[request.job_id] = flag
            self._jobs.put((request, flag))
        elif isinstance(request, protocol.CancelJob):
            flag = self._cancel_flags.get(request.job_id)
            if flag is not None:
                flag.set()
        else:
            self.emit(protocol.Log(None, "error", f"ignored an event sent as a request: {request.TYPE}"))

    def _stop(self) -> None:
        """Stdin closed or Shutdown: cancel everything and give the running job a moment to stop."""
        for flag in self._cancel_flags.values():
            flag.set()
        self._jobs.put(_STOP)
        self._thread.join(_JOIN_ON_EXIT_S)
        if not self._thread.is_alive():
            MODELS.close_all()

    def _job_loop(self) -> None:
        while True:
            item = self._jobs.get()
            if item is _STOP:
                return
            # The flag stays in _cancel_flags after the run (a few bytes per job): removing it here
            # raced with a resubmit of the same job, whose new flag it removed.
            job, cancelled = item
            self._run_one(job, cancelled)

    def _run_one(self, job: protocol.SubmitJob, cancelled: threading.Event) -> None:
        if cancelled.is_set():
            self.emit(protocol.JobCancelled(job.job_id))
            return
        try:
            ctx = JobContext(job, self.emit, cancelled)
        except OSError as exc:
            self.emit(failure_event(job.job_id, UserError(
                f"The job folder {job.job_dir} cannot be written ({exc}). Check the disk and permissions."),
                job.job_dir))
            return
        except UserError as exc:  # another worker still runs this job
            self.emit(failure_event(job.job_id, exc, job.job_dir))
            return
        try:
            request = read_request(ctx.job_dir)
        except protocol.ProtocolError as exc:
            ctx.log("error", f"the job's request could not be read: {exc}")
            self.emit(protocol.JobFailed(job.job_id, "The job's request could not be read", str(exc)))
            ctx.close()
            return
        self.emit(protocol.JobStarted(job.job_id, request.KIND))
        try:
            summary = run_request(request, ctx)
        except JobCancelled:
            MODELS.discard_engine()
            ctx.log("info", "cancelled")
            self.emit(protocol.JobCancelled(job.job_id))
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the app as an event
            MODELS.discard_engine()
            event = failure_event(job.job_id, exc, str(ctx.job_dir / LOG_NAME))
            ctx.log("error", event.title, detail=event.traceback)
            self.emit(event)
        else:
            if cancelled.is_set():
                self.emit(protocol.JobCancelled(job.job_id))
            elif ctx.requests.all_failed:
                event = all_requests_failed_event(job.job_id, ctx.requests)
                ctx.log("error", event.title, detail=event.what_to_do)
                self.emit(event)
            else:
                self.emit(protocol.JobFinished(job.job_id, {**(summary or {}), **ctx.requests.summary()}))
        finally:
            ctx.close()

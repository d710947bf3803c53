"""Owns the `python -m backend.worker` QProcess: sends protocol messages, turns the worker's JSON
lines into typed Qt signals, notices when the process dies, and stops it gracefully.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from backend import protocol

REPO_ROOT = Path(__file__).resolve().parent.parent
# The worker answers Shutdown by finishing its current write; give it a moment before harsher steps.
SHUTDOWN_GRACE_MS = 3000
TERMINATE_GRACE_MS = 2000


class WorkerClient(QObject):
    """A client for one worker process. Every request gets a number; events are routed by job id.

    Nothing here blocks the UI thread except `stop()`, which waits at most a few seconds.
    """

    sig_ready = Signal(object)
    """The worker said Ready (argument: the protocol.Ready event)."""

    sig_job_started = Signal(object)
    """A job began running (protocol.JobStarted)."""

    sig_progress = Signal(object)
    """Progress of a job: done/total, tokens/s, ETA, message (protocol.Progress)."""

    sig_result = Signal(object)
    """One result record of a job, already in its journal (protocol.Result)."""

    sig_log = Signal(str)
    """A log line from the worker (its Log events and its stderr)."""

    sig_output_line = Signal(str)
    """A line the worker process wrote to stderr (library output, tracebacks); also sent as sig_log."""

    sig_job_failed = Signal(object)
    """A job failed; the event carries a title, what to do, and the traceback (protocol.JobFailed)."""

    sig_job_finished = Signal(object)
    """A job ended normally (protocol.JobFinished)."""

    sig_job_cancelled = Signal(object)
    """A job stopped because it was cancelled (protocol.JobCancelled)."""

    sig_process_died = Signal(str)
    """The worker process exited without being asked to; the argument says how (exit code / crash)."""

    sig_process_started = Signal()
    """The worker process started (it will say Ready once it has loaded)."""

    def __init__(self, interpreter: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interpreter = interpreter or sys.executable
        self._process: QProcess | None = None
        self._buffer = b""
        self._stopping = False
        self._next_request_number = 1
        # number -> "type job_id": what was asked, for a person reading a failure
        self.sent_requests: dict[int, str] = {}
        self.running_job_ids: set[str] = set()
        self.is_ready = False

    # --- lifecycle -----------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning

    def start(self) -> None:
        """Start the worker if it is not running; returns at once (Ready arrives as a signal)."""
        if self.is_running():
            return
        if self._process is not None:
            self._process.deleteLater()  # the one that died
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        # The worker must import this checkout's backend even from an interpreter of another venv.
        env.insert("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), env.value("PYTHONPATH")])))
        env.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(env)
        process.setWorkingDirectory(str(REPO_ROOT))
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        self._buffer = b""
        self._stopping = False
        self.is_ready = False
        process.start(self.interpreter, ["-m", "backend.worker"])
        self._send(protocol.Hello(client="avr-studio"))
        self.sig_process_started.emit()

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        """Ask the worker to shut down; terminate, then kill, if it does not exit in time."""
        process = self._process
        if process is None:
            return
        self._stopping = True
        if process.state() != QProcess.ProcessState.NotRunning:
            if process.state() == QProcess.ProcessState.Running:
                self._write(protocol.Shutdown())
                process.closeWriteChannel()
            if not process.waitForFinished(SHUTDOWN_GRACE_MS):
                process.terminate()
                if not process.waitForFinished(TERMINATE_GRACE_MS):
                    process.kill()
                    process.waitForFinished(TERMINATE_GRACE_MS)
        self.running_job_ids.clear()
        self._process = None
        process.deleteLater()

    # --- requests ------------------------------------------------------------------------------
    def submit_job(self, message: protocol.SubmitJob) -> int:
        """Send a prepared job (backend.worker.submission); starts the worker first if needed.
        Returns the request number."""
        self.start()
        self.running_job_ids.add(message.job_id)
        return self._send(message)

    def cancel_job(self, job_id: str) -> int:
        return self._send(protocol.CancelJob(job_id=job_id))

    def _send(self, message: object) -> int:
        number = self._next_request_number
        self._next_request_number += 1
        self.sent_requests[number] = f"{message.TYPE} {getattr(message, 'job_id', '')}".strip()  # type: ignore[attr-defined]
        self._write(message)
        return number

    def _write(self, message: object) -> None:
        if self._process is None:
            raise RuntimeError("the worker is not running; call start() first")
        self._process.write(message.to_line().encode("utf-8"))  # type: ignore[attr-defined]

    # --- events --------------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        if self._process is None:
            return
        self._buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            text = raw.decode("utf-8", errors="replace").strip()
            if text:
                self._dispatch_line(text)

    def _dispatch_line(self, line: str) -> None:
        try:
            event = protocol.parse_line(line)
        except protocol.ProtocolError as exc:  # stdout should carry protocol only; show strays, never crash
            self.sig_log.emit(f"worker wrote a line that is not a protocol message ({exc}): {line[:200]}")
            return
        self._route(event)

    def _route(self, event: object) -> None:
        if isinstance(event, protocol.Ready):
            self.is_ready = True
            self.sig_ready.emit(event)
        elif isinstance(event, protocol.JobStarted):
            self.sig_job_started.emit(event)
        elif isinstance(event, protocol.Progress):
            self.sig_progress.emit(event)
        elif isinstance(event, protocol.Result):
            self.sig_result.emit(event)
        elif isinstance(event, protocol.Log):
            prefix = f"[{event.job_id}] " if event.job_id else ""
            self.sig_log.emit(f"{prefix}{event.level}: {event.text}")
        elif isinstance(event, protocol.JobFailed):
            self.running_job_ids.discard(event.job_id)
            self.sig_job_failed.emit(event)
        elif isinstance(event, protocol.JobFinished):
            self.running_job_ids.discard(event.job_id)
            self.sig_job_finished.emit(event)
        elif isinstance(event, protocol.JobCancelled):
            self.running_job_ids.discard(event.job_id)
            self.sig_job_cancelled.emit(event)

    def _read_stderr(self) -> None:
        if self._process is None:
            return
        text = bytes(self._process.readAllStandardError().data()).decode("utf-8", errors="replace")
        for line in text.splitlines():
            if line.strip():
                self.sig_log.emit(line)
                self.sig_output_line.emit(line)

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._report_death(f"the worker could not start with the interpreter {self.interpreter!r}; "
                               "check File → Settings → Worker interpreter")

    def _on_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        self._read_stdout()  # events written just before exit still count
        if self._stopping:
            return
        how = "crashed" if exit_status == QProcess.ExitStatus.CrashExit else f"exited with code {exit_code}"
        self._report_death(f"the worker process {how}")

    def _report_death(self, message: str) -> None:
        self.is_ready = False
        self.running_job_ids.clear()
        self.sig_process_died.emit(message)

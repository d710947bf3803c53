"""A Qt-free client of `python -m backend.worker` for the CLI (the GUI wraps the same protocol in QProcess).

It owns the process: starts it with pipes, shakes hands, sends requests, yields typed events, notices
when the process dies (and says where its log is), and stops it gracefully before killing it.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from backend import protocol
from backend.errors import UserError

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds `backend/`
_EOF = object()


class WorkerCrashedError(UserError):
    """The worker process exited while the app was waiting for it."""


class WorkerClient:
    def __init__(self, python_executable: str = sys.executable, log_path: str | Path | None = None,
                 env: dict[str, str] | None = None, ready_timeout_s: float = 120.0) -> None:
        self.python_executable = python_executable
        if log_path is None:
            log_path = Path(tempfile.mkdtemp(prefix="avr-worker-")) / "worker.log"
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        child_env = {**os.environ, **(env or {})}
        if Path(_PACKAGE_ROOT).name not in ("site-packages", "dist-packages"):
            # A source checkout: another interpreter (e.g. a vLLM environment) must still import this
            # backend. (An installed app's site-packages would bring its own torch along, so an other
            # environment needs avr-studio installed instead.)
            child_env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, child_env.get("PYTHONPATH")) if p)
        child_env.setdefault("PYTHONUNBUFFERED", "1")
        child_env["AVR_STUDIO_PARENT_PID"] = str(os.getpid())  # backend.worker.__main__.die_with_parent
        self._log_handle = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                [python_executable, "-m", "backend.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self._log_handle, env=child_env)
        except OSError as exc:
            self._log_handle.close()
            raise UserError(f"Could not start the worker with {python_executable} ({exc}). Set the worker "
                            "interpreter to a Python that has AvR Studio's dependencies installed.") from None
        self._events: queue.Queue = queue.Queue()
        self._write_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read_stdout, name="avr-worker-reader", daemon=True)
        self._reader.start()
        self.ready = self._handshake(ready_timeout_s)

    # -- process I/O ------------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            try:
                self._events.put(protocol.parse_line(raw))
            except protocol.ProtocolError as exc:
                self._events.put(exc)
        self._events.put(_EOF)

    def send(self, message: protocol.Message) -> None:
        try:
            with self._write_lock:
                assert self.process.stdin is not None
                self.process.stdin.write(message.to_line().encode("utf-8"))
                self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise self._crashed() from None

    def _crashed(self) -> WorkerCrashedError:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        last = self._last_log_line()
        return WorkerCrashedError(
            f"The worker process stopped unexpectedly (exit code {code}"
            + (f"; its last words: {last}" if last else "")
            + f"). Its log is {self.log_path}. Results it journalled are kept; run the command again to resume.")

    def _last_log_line(self, most: int = 160) -> str:
        """The log's last non-empty line, shortened: often the error itself (e.g. 'MemoryError')."""
        try:
            self._log_handle.flush()
            with self.log_path.open("rb") as handle:
                handle.seek(max(handle.seek(0, os.SEEK_END) - 4096, 0))
                text = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        last = lines[-1] if lines else ""
        return last if len(last) <= most else last[: most - 3] + "..."

    def next_event(self, timeout_s: float | None = None) -> protocol.Message | None:
        """The next event, None on timeout; WorkerCrashedError if the process is gone."""
        try:
            item = self._events.get(timeout=timeout_s)
        except queue.Empty:
            return None
        if item is _EOF:
            self._events.put(_EOF)  # every later caller sees the crash too
            raise self._crashed()
        if isinstance(item, protocol.ProtocolError):
            raise UserError(f"The worker sent a message this app cannot read ({item}). Make sure the worker "
                            "interpreter runs the same AvR Studio version as the app.")
        return item

    def _handshake(self, timeout_s: float) -> protocol.Ready:
        self.send(protocol.Hello(client="avr-studio-cli"))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            event = self.next_event(timeout_s=max(deadline - time.monotonic(), 0.01))
            if isinstance(event, protocol.Ready):
                return event
        self.close()
        raise UserError(f"The worker did not answer within {timeout_s:.0f} s. Its log is {self.log_path}.")

    # -- jobs -------------------------------------------------------------------------------------
    def submit(self, job: protocol.SubmitJob) -> Iterator[protocol.Message]:
        """Send the job and yield its events until (and including) its final one."""
        self.send(job)
        while True:
            event = self.next_event()
            if event is None or getattr(event, "job_id", job.job_id) not in (job.job_id, None):
                continue
            yield event
            if isinstance(event, protocol.TERMINAL_EVENTS):
                return

    def cancel(self, job_id: str) -> None:
        self.send(protocol.CancelJob(job_id))

    def close(self, timeout_s: float = 10.0) -> int | None:
        """Ask the worker to shut down; terminate it, then kill it, if it does not."""
        if self.process.poll() is None:
            try:
                self.send(protocol.Shutdown())
                self.process.stdin.close()  # type: ignore[union-attr]
            except (UserError, OSError, ValueError):
                pass
            for stop in (None, self.process.terminate, self.process.kill):
                if stop is not None:
                    stop()
                try:
                    self.process.wait(timeout=timeout_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log_handle.close()
        return self.process.poll()

    def __enter__(self) -> WorkerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

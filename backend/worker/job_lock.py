"""One worker per job: a lock on `<job_dir>/worker.lock` held for as long as a worker runs the job.

The operating system drops the lock when the process ends, however it ends (kill -9 included), so
"is the lock free" is exactly "is no worker running this job". The project's opener uses that to wait
for a worker orphaned by a killed app or CLI before it reads the database (or else the orphan could
journal a result after a new run had planned the same slot), and a worker refuses a job another
worker still runs. The file also holds the holder's pid, for messages.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from backend.errors import UserError

LOCK_NAME = "worker.lock"
_POLL_S = 0.05

try:  # POSIX
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


class JobBusyError(UserError):
    """Another live worker runs this job."""


def lock_path(job_dir: str | Path) -> Path:
    return Path(job_dir) / LOCK_NAME


def holder_pid(job_dir: str | Path) -> int | None:
    """The pid written by the last worker that took the lock (it may have ended since)."""
    try:
        text = lock_path(job_dir).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


class JobLock:
    """Held by the worker while it runs a job; `release` (or the process's end) frees it."""

    def __init__(self, job_dir: str | Path, wait_s: float = 2.0) -> None:
        """Take the job's lock, waiting up to `wait_s` for a checker's brief hold to pass; JobBusyError
        if another worker keeps it."""
        self.path = lock_path(job_dir)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_s
        while not _try_lock(self._fd):
            if time.monotonic() >= deadline:
                os.close(self._fd)
                pid = holder_pid(job_dir)
                raise JobBusyError(f"job {Path(job_dir).name} is already running in another worker"
                                   + (f" (pid {pid})" if pid else "") + "; wait for it to end, or cancel it there")
            time.sleep(_POLL_S)
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, str(os.getpid()).encode("ascii"), 0)

    def release(self) -> None:
        if self._fd >= 0:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = -1


def is_running(job_dir: str | Path) -> bool:
    """Whether a live worker holds the job's lock (checked by taking it for an instant)."""
    path = lock_path(job_dir)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        if _try_lock(fd):
            _unlock(fd)
            return False
        return True
    finally:
        os.close(fd)


def wait_until_stopped(job_dir: str | Path, timeout_s: float) -> bool:
    """Wait up to `timeout_s` for the job's worker to end; True once no worker holds the job."""
    deadline = time.monotonic() + timeout_s
    while is_running(job_dir):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True

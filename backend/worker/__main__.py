"""`python -m backend.worker`: the model process. Protocol lines on stdout, everything else on stderr.

Libraries print to stdout freely (progress bars, warnings from C code), so the real stdout is kept
for protocol lines only and file descriptor 1 is pointed at stderr before anything heavy loads.
"""

from __future__ import annotations

import io
import os
import signal
import sys

PARENT_PID_ENV = "AVR_STUDIO_PARENT_PID"  # set by the client that starts the worker (backend.worker.client)
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when the process that started it dies (a kill -9 of
    the app or the CLI): an orphan that went on working would journal results that a new run, already
    planning from the database, grows again. Elsewhere the orphan notices its closed stdin and stops,
    and the next opener waits for it (`backend.worker.recovery`)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    expected = os.environ.get(PARENT_PID_ENV, "")
    if expected.isdigit() and os.getppid() != int(expected):
        os._exit(0)  # the parent died before the request above: nobody is listening


def main() -> int:
    die_with_parent()
    protocol_out = io.TextIOWrapper(os.fdopen(os.dup(1), "wb"), encoding="utf-8", line_buffering=False)
    os.dup2(2, 1)  # C-level writes to fd 1 now land on stderr
    sys.stdout = sys.stderr
    # The app controls this process through the protocol; a Ctrl-C in the terminal that started the
    # app reaches the whole process group and must not kill a job the app is about to cancel cleanly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")

    from backend.worker.server import WorkerServer

    return WorkerServer(stdin, protocol_out).serve()


if __name__ == "__main__":
    sys.exit(main())

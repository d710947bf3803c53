"""`python -m backend.worker`: the model process. Protocol lines on stdout, everything else on stderr.

Libraries print to stdout freely (progress bars, warnings from C code), so the real stdout is kept
for protocol lines only and file descriptor 1 is pointed at stderr before anything heavy loads.
"""

from __future__ import annotations

import io
import os
import signal
import sys


def main() -> int:
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

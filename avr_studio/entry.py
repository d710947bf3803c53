"""`avr-studio` console entry: bare or `--project DIR` opens the app; a subcommand runs headless
work (backend.cli).

It lives in the GUI package because only the GUI may import both sides; headless commands never
import Qt.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] == "--project" or argv[0].startswith("--project="):
        from avr_studio.app import run_app  # the GUI is imported only when asked for

        return run_app(argv)
    from backend.cli.commands import run_command

    return run_command(argv)


if __name__ == "__main__":
    sys.exit(main())

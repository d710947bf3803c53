"""Start tests/support/openai_server.py as a real subprocess on a loopback port, and stop it after.

`start_test_server(...)` is a context manager; the `openai_server` fixture shares one server (tiny
chat + reward model) per test session and resets its test modes after each test.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_STARTUP_TIMEOUT_S = 120


@dataclass
class TestServer:
    port: int
    process: subprocess.Popen

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:  # what an OpenAI client calls its base URL
        return self.root_url + "/v1"

    def control(self, **modes) -> None:
        import httpx

        httpx.post(self.root_url + "/control", json=modes, timeout=10).raise_for_status()

    def stats(self) -> dict:
        import httpx

        return httpx.get(self.root_url + "/stats", timeout=10).json()


@contextlib.contextmanager
def start_test_server(model: Path, reward_model: Path | None = None, *extra: str) -> Iterator[TestServer]:
    command = [sys.executable, "-m", "tests.support.openai_server", "--model", str(model), "--port", "0", *extra]
    if reward_model is not None:
        command += ["--reward-model", str(reward_model)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = _read_line(process, _STARTUP_TIMEOUT_S)
        if not line.strip().isdigit():
            raise RuntimeError(f"test server did not start (exit code {process.poll()}, said {line!r})")
        yield TestServer(port=int(line), process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout:
            process.stdout.close()


def _read_line(process: subprocess.Popen, timeout_s: float) -> str:
    import threading

    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return lines[0] if lines else ""


_DEFAULT_MODES = {"delay_s": 0.0, "garbage": "", "fail_first": 0}


_shared: dict[str, TestServer] = {}  # test modules that import the fixture share one process


@pytest.fixture(scope="session")
def _shared_server(request) -> TestServer:
    from tests.support.tiny_models import tiny_chat_model_dir, tiny_reward_model_dir

    if "server" not in _shared:
        stack = contextlib.ExitStack()
        _shared["server"] = stack.enter_context(start_test_server(tiny_chat_model_dir(), tiny_reward_model_dir()))
        request.addfinalizer(lambda: (_shared.pop("server", None), stack.close()))
    return _shared["server"]


@pytest.fixture
def openai_server(_shared_server: TestServer) -> Iterator[TestServer]:
    _shared_server.control(**_DEFAULT_MODES, reset_stats=True)
    yield _shared_server
    _shared_server.control(**_DEFAULT_MODES)


@pytest.fixture(scope="session")
def rater_server() -> Iterator[TestServer]:
    """A test server of the tiny rater model (tests/support/tiny_models.py), whose ratings are digits."""
    from tests.support.tiny_models import tiny_rater_model_dir, tiny_reward_model_dir

    with start_test_server(tiny_rater_model_dir(), tiny_reward_model_dir()) as server:
        yield server

"""The managed vLLM-CPU server: started on a free loopback port, ready when it answers, stopped with its
workers, never left behind. A stand-in CLI (fake_vllm_launcher.py) runs behind the real launcher; one
slow test starts the real vLLM-CPU when `.venv-vllm/` exists."""

import json
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from backend.engines import vllm_server
from backend.engines.vllm_server import VLLMServer, VLLMServerError

FAKE = Path(__file__).with_name("fake_vllm_launcher.py")
ROOT = Path(__file__).resolve().parents[2]


def fake_server(tmp_path, mode="ok", **kwargs) -> VLLMServer:
    os.environ["FAKE_VLLM_MODE"] = mode  # inherited by the child; reset by the fixture below
    return VLLMServer(tmp_path / "model", served_name="tiny", python=sys.executable, launcher=FAKE,
                      log_path=tmp_path / "server.log", **kwargs)


@pytest.fixture(autouse=True)
def _clean_mode():
    yield
    os.environ.pop("FAKE_VLLM_MODE", None)


def about(server: VLLMServer) -> dict:
    with urllib.request.urlopen(server.base_url + "/models", timeout=5) as reply:
        return json.load(reply)


def gone(pid: int) -> bool:
    """The process ended (a zombie waiting to be reaped counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"


def wait_until(condition, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_server_starts_on_a_loopback_port_with_the_cpu_settings_and_stops(tmp_path):
    with fake_server(tmp_path) as server:
        info = about(server)
        assert server.base_url.startswith("http://127.0.0.1:") and server.running
        assert info["data"][0]["id"] == "tiny"
        assert info["argv"][:2] == ["serve", str(tmp_path / "model")]
        assert info["argv"][info["argv"].index("--dtype") + 1] == "bfloat16"
        assert info["env"]["VLLM_CPU_NUM_OF_RESERVED_CPU"] == "0"
        assert info["env"]["VLLM_CPU_KVCACHE_SPACE"] == "2"
        pid = info["pid"]
    assert not server.running and gone(pid)
    with pytest.raises(OSError):
        urllib.request.urlopen(server.base_url + "/models", timeout=2)
    assert "fake vllm: ok" in (tmp_path / "server.log").read_text()


def test_extra_environment_reaches_the_server(tmp_path):
    with fake_server(tmp_path, env={"VLLM_CPU_KVCACHE_SPACE": "4", "VLLM_TEST_FLAG": "x"}) as server:
        env = about(server)["env"]
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "4" and env["VLLM_TEST_FLAG"] == "x"


def test_worker_processes_end_with_the_server(tmp_path):
    server = fake_server(tmp_path, "worker").start()
    worker = about(server)["worker_pid"]
    assert not gone(worker)
    server.stop()
    assert wait_until(lambda: gone(worker))


def test_a_server_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    server = fake_server(tmp_path, "stubborn").start()
    pid = about(server)["pid"]
    started = time.monotonic()
    server.stop(grace_s=1.0)
    assert gone(pid) and time.monotonic() - started < 5


def test_a_crash_at_start_up_says_so_with_the_end_of_the_log(tmp_path):
    with pytest.raises(VLLMServerError, match="exited during start-up") as error:
        fake_server(tmp_path, "crash").start()
    assert "no model in that folder" in str(error.value)


def test_a_server_that_never_answers_is_stopped_after_the_timeout(tmp_path):
    server = fake_server(tmp_path, "silent", startup_timeout_s=1.5)
    with pytest.raises(VLLMServerError, match="did not answer within 2 s"):
        server.start()
    assert server.process is None


_PARENT = textwrap.dedent("""
    import json, sys, time, urllib.request
    sys.path.insert(0, {root!r})
    from backend.engines.vllm_server import VLLMServer
    server = VLLMServer({model!r}, served_name="tiny", python=sys.executable, launcher={fake!r},
                        log_path={log!r}).start()
    with urllib.request.urlopen(server.base_url + "/models") as reply:
        print(json.load(reply)["pid"], flush=True)
    if {wait}:
        time.sleep(3600)
""")


def parent_script(tmp_path, wait: bool) -> list[str]:
    code = _PARENT.format(root=str(ROOT), model=str(tmp_path / "model"), fake=str(FAKE),
                          log=str(tmp_path / "server.log"), wait=wait)
    return [sys.executable, "-c", code]


def test_a_server_still_running_at_exit_is_stopped(tmp_path):
    parent = subprocess.run(parent_script(tmp_path, wait=False), capture_output=True, text=True, timeout=60)
    assert parent.returncode == 0, parent.stderr
    assert gone(int(parent.stdout.strip()))


def test_the_server_ends_when_the_app_dies(tmp_path):
    parent = subprocess.Popen(parent_script(tmp_path, wait=True), stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())
        assert not gone(pid)
        parent.kill()  # no atexit, no stop(): only the launcher's own watch can end the server
        parent.wait()
        assert wait_until(lambda: gone(pid))
    finally:
        parent.kill()
        parent.stdout.close()


def test_available_needs_an_interpreter_with_vllm_beside_it(tmp_path):
    python = tmp_path / "venv" / "bin" / "python"
    assert not vllm_server.available(python)
    python.parent.mkdir(parents=True)
    python.write_text("")
    assert not vllm_server.available(python)
    package = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "vllm"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    assert vllm_server.available(python)


def test_starting_without_the_vllm_environment_says_how_to_install_it(tmp_path):
    server = VLLMServer(tmp_path, python=tmp_path / "no-venv" / "bin" / "python")
    with pytest.raises(VLLMServerError, match=r"scripts/setup --vllm"):
        server.start()


@pytest.mark.slow
@pytest.mark.skipif(not vllm_server.available(), reason="no .venv-vllm (scripts/setup --vllm)")
def test_the_real_vllm_cpu_server_generates_through_the_openai_engine(tmp_path):
    from backend.config import ModelSpec, SamplingConfig
    from backend.engines import GenRequest, make_engine
    from backend.engines.embedded import embedded_model_dir

    with VLLMServer(embedded_model_dir(), served_name="smollm2", log_path=tmp_path / "vllm.log") as server:
        engine = make_engine(ModelSpec(name="smollm2", engine="openai", base_urls=[server.base_url]))
        greedy = SamplingConfig(temperature=0.0, max_new_tokens=16)
        result = engine.generate([GenRequest("a", [{"role": "user", "content": "What is the capital of France?"}],
                                             n=2, sampling=greedy)])[0]
        pid = server.process.pid
    assert result.error is None and "Paris" in result.texts[0] and len(result.texts) == 2
    assert wait_until(lambda: gone(pid), timeout_s=30)


def test_the_managed_engine_serves_through_its_own_server_and_stops_it_on_close(tmp_path):
    from backend.config import ModelSpec
    from backend.engines.managed_vllm import ManagedVLLMEngine

    engine = ManagedVLLMEngine(ModelSpec(name="embedded", engine="vllm"), server=fake_server(tmp_path))
    pid = about(engine.server)["pid"]
    assert engine.client.pool.urls == [engine.server.base_url] and engine.client.model_name == "tiny"
    assert engine.log_path == tmp_path / "server.log"
    engine.close()
    assert wait_until(lambda: gone(pid))


def test_the_vllm_engine_is_the_managed_server_when_only_its_environment_is_installed(tmp_path, monkeypatch):
    from backend.config import ModelSpec
    from backend.engines import make_engine, managed_vllm

    made = []
    monkeypatch.setattr(vllm_server, "available", lambda python=None: True)
    monkeypatch.setattr(managed_vllm, "VLLMServer", lambda folder, served_name, dtype: made.append(
        (Path(folder).name, served_name, dtype)) or fake_server(tmp_path))
    monkeypatch.setattr(managed_vllm, "resolve_model_dir", lambda name: tmp_path / "smollm2-folder")
    with make_engine(ModelSpec(name="embedded", engine="vllm", dtype="bfloat16")) as engine:
        assert isinstance(engine, managed_vllm.ManagedVLLMEngine) and engine.server.running
    assert made == [("smollm2-folder", "smollm2", "bfloat16")] and not engine.server.running

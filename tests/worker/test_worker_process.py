"""The worker process: handshake, a clean stdout, bad requests, failures a person can act on, crashes."""

import os
import signal
import subprocess
import sys

import pytest

from backend import protocol
from backend.errors import UserError
from backend.worker.client import WorkerClient, WorkerCrashedError
from tests.worker.worker_helpers import prompts, run_to_end, wait_for


def test_handshake_reports_versions_and_devices(worker):
    ready = worker.ready
    assert ready.protocol_version == protocol.PROTOCOL_VERSION
    assert ready.pid == worker.process.pid
    assert ready.python == sys.version.split()[0]
    assert ready.torch and ready.transformers
    assert "cpu" in ready.devices


def test_a_bad_request_line_is_reported_and_the_worker_keeps_serving(worker):
    worker.process.stdin.write(b'{"v": 1, "type": "launch_rockets"}\n')
    worker.process.stdin.flush()
    [*_, log] = wait_for(worker, lambda e: isinstance(e, protocol.Log))
    assert log.level == "error" and "unknown message type" in log.text
    events = run_to_end(worker, protocol.SubmitJob("j-unknown", "bake_bread", str(worker.log_path.parent / "j")))
    assert isinstance(events[-1], protocol.JobFailed)
    assert "Unknown job kind 'bake_bread'" in events[-1].what_to_do


def test_a_wrong_model_folder_fails_the_job_with_what_to_do(worker, tmp_path, tiny_scorer):
    payload = {"prompts": prompts(1), "model": {"name": str(tmp_path / "no-such-model"), "device": "cpu"},
               "scorers": [tiny_scorer]}
    events = run_to_end(worker, protocol.SubmitJob("j-bad-model", "stage1", str(tmp_path / "job"), payload))
    failed = events[-1]
    assert isinstance(failed, protocol.JobFailed)
    assert failed.title == "The model could not be loaded"
    assert "does not exist" in failed.what_to_do and "config.json" in failed.what_to_do
    assert "ModelLoadError" in failed.traceback
    assert "does not exist" in (tmp_path / "job" / "log.txt").read_text()


def test_library_noise_on_stdout_never_reaches_the_protocol_stream():
    # Noise made once the worker runs, as a library loaded by a job would make it.
    code = ("import os, sys\n"
            "from backend.worker import __main__ as entry, server\n"
            "serve = server.WorkerServer.serve\n"
            "def noisy(self):\n"
            "    os.write(1, b'noise from C\\n'); print('noise from python')\n"
            "    return serve(self)\n"
            "server.WorkerServer.serve = noisy\n"
            "sys.exit(entry.main())\n")
    lines = [protocol.Hello().to_line(), protocol.Shutdown().to_line()]
    done = subprocess.run([sys.executable, "-c", code], input="".join(lines), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "noise" not in done.stdout
    assert "noise from C" in done.stderr and "noise from python" in done.stderr
    assert [type(protocol.parse_line(line)) for line in done.stdout.splitlines()] == [protocol.Ready]


def test_stdin_eof_ends_the_worker_cleanly(tmp_path):
    client = WorkerClient(log_path=tmp_path / "w.log")
    client.process.stdin.close()
    assert client.process.wait(timeout=60) == 0
    client.close()


def test_a_dead_worker_raises_a_clear_error_pointing_at_its_log(tmp_path):
    client = WorkerClient(log_path=tmp_path / "w.log")
    os.kill(client.process.pid, signal.SIGKILL)
    with pytest.raises(WorkerCrashedError) as caught:
        client.next_event(timeout_s=30)
    assert isinstance(caught.value, UserError)
    message = str(caught.value)
    assert "crashed" in message and "exit code -9" in message and str(tmp_path / "w.log") in message
    with pytest.raises(WorkerCrashedError):
        client.cancel("any")  # writing to a dead worker says the same
    client.close()


def test_an_interpreter_that_cannot_start_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="Could not start the worker"):
        WorkerClient(python_executable=str(tmp_path / "no-python"), log_path=tmp_path / "w.log")

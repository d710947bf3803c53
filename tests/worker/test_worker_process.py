"""The worker process: handshake, a clean stdout, bad requests, failures a person can act on, crashes."""

import os
import signal
import subprocess
import sys

import pytest

from backend import protocol
from backend.avr.templates import DEFAULT_TEMPLATES
from backend.config import ModelSpec
from backend.errors import UserError
from backend.job_requests import Stage1Request
from backend.worker.client import WorkerClient, WorkerCrashedError
from backend.worker.journal import REQUEST_NAME
from tests.worker.worker_helpers import prepared, prompts, run_to_end, wait_for


def test_handshake_reports_versions_and_devices(worker):
    ready = worker.ready
    assert ready.protocol_version == protocol.PROTOCOL_VERSION
    assert ready.pid == worker.process.pid
    assert ready.python == sys.version.split()[0]
    assert ready.torch and ready.transformers
    assert "cpu" in ready.devices


def test_a_bad_request_line_is_reported_and_the_worker_keeps_serving(worker):
    worker.process.stdin.write(b'{"v": %d, "type": "launch_rockets"}\n' % protocol.PROTOCOL_VERSION)
    worker.process.stdin.flush()
    [*_, log] = wait_for(worker, lambda e: isinstance(e, protocol.Log))
    assert log.level == "error" and "unknown message type" in log.text



@pytest.mark.parametrize("request_text, fragment", [
    (f'{{"v": {protocol.PROTOCOL_VERSION}, "kind": "bake_bread"}}', "unknown job kind 'bake_bread'"),
    ('{"v": 1, "kind": "stage1", "prompts": []}', "written by protocol version 1"),
    (f'{{"v": {protocol.PROTOCOL_VERSION}, "kind": "score", "items": [], "scorer": {{}}}}', "nothing to score"),
    ("not json", "is not JSON"),
])
def test_a_request_the_worker_cannot_read_fails_the_job_with_the_reason(worker, tmp_path, request_text, fragment):
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    (job_dir / REQUEST_NAME).write_text(request_text, encoding="utf-8")
    events = run_to_end(worker, protocol.SubmitJob("j-unreadable", str(job_dir)))
    assert [type(e) for e in events] == [protocol.Log, protocol.JobFailed]  # it never started
    assert events[-1].title == "The job's request could not be read"
    assert fragment in events[-1].what_to_do
    # and the worker still serves the next job
    again = run_to_end(worker, protocol.SubmitJob("j-missing", str(tmp_path / "no-such-job")))
    assert f"has no readable {REQUEST_NAME}" in again[-1].what_to_do


def test_a_wrong_model_folder_fails_the_job_with_what_to_do(worker, tmp_path, tiny_scorer):
    model = ModelSpec(name=str(tmp_path / "no-such-model"), device="cpu")
    job = prepared(Stage1Request(prompts(1), DEFAULT_TEMPLATES, model, [tiny_scorer]), tmp_path)
    events = run_to_end(worker, job)
    failed = events[-1]
    assert isinstance(failed, protocol.JobFailed)
    assert failed.title == "The model could not be loaded"
    assert "does not exist" in failed.what_to_do and "config.json" in failed.what_to_do
    assert "ModelLoadError" in failed.traceback
    assert "does not exist" in (tmp_path / job.job_id / "log.txt").read_text()


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
    assert "stopped unexpectedly" in message and "exit code -9" in message and str(tmp_path / "w.log") in message
    assert "\n" not in message  # one line (the README promises it), the log's path in it
    with pytest.raises(WorkerCrashedError):
        client.cancel("any")  # writing to a dead worker says the same
    client.close()


def test_an_interpreter_that_cannot_start_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="Could not start the worker"):
        WorkerClient(python_executable=str(tmp_path / "no-python"), log_path=tmp_path / "w.log")

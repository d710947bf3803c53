"""Jobs whose model requests fail: every one → "failed" with the first error and a non-zero exit; some →
"k of n failed" and exit 1 unless --allow-partial; a dead or silent server is one clear line, never
"a bug in AvR Studio"; the server timeout is a flag; a bad --prompts is a usage error."""

import argparse
import socket
from dataclasses import replace

import pytest

from backend import protocol
from backend.avr.templates import DEFAULT_TEMPLATES
from backend.cli.commands import run_command
from backend.config import ModelSpec, SamplingConfig, TreeConfig
from backend.domain import Prompt
from backend.job_requests import Stage1Request
from backend.store import Store
from tests.support.server_fixture import _shared_server, openai_server  # noqa: F401 - fixtures
from tests.support.tiny_models import tiny_chat_model_dir, tiny_reward_model_dir
from tests.worker.worker_helpers import prepared, prompts, records, run_to_end


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "proj"
    with Store.create(path) as store:
        store.add_prompts([Prompt.from_text(f"Question {i}: name two uses of baking soda.") for i in range(2)])
    return path


def closed_port_url():
    """A loopback URL nothing listens on (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def server_flags(url, *model):
    return ["--engine", "openai", "--base-url", url, *model, "--scorer", f"classifier:{tiny_reward_model_dir()}",
            "--max-new-tokens", "4", "--seed", "0"]


def one_line_error(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    lines = [line for line in err if line.startswith("avr-studio ")]
    assert len(lines) == 1, err
    assert "Traceback" not in "\n".join(err)
    return lines[0]


def test_a_job_whose_every_request_failed_is_failed_with_the_first_error(project, capsys):
    code = run_command(["generate", str(project), "--prompts", "1", "--timeout", "5",
                        *server_flags(closed_port_url(), "--model", "served-model")])
    line = one_line_error(capsys)
    assert code == 2
    assert "Every request to the model failed (1 of 1)" in line and "could not reach" in line
    assert "bug" not in line
    with Store.open(project) as store:
        [job] = store.jobs()
        assert job.status == "failed" and "could not reach" in job.error
        assert store.node_counts_by_kind() == {}


def test_an_unreachable_server_without_a_model_name_is_a_clear_error_not_a_bug(project, capsys):
    code = run_command(["generate", str(project), "--prompts", "1", *server_flags(closed_port_url())])
    line = one_line_error(capsys)
    assert code == 2 and "The model server could not be used" in line and "/models" in line
    assert "bug in AvR Studio" not in line


def test_the_timeout_flag_reaches_the_engine_and_the_message_names_it(project, capsys, openai_server):  # noqa: F811
    openai_server.control(delay_s=3.0)
    code = run_command(["generate", str(project), "--prompts", "1", "--timeout", "0.5",
                        *server_flags(openai_server.base_url, "--model", str(tiny_chat_model_dir()))])
    line = one_line_error(capsys)
    assert code == 2 and "did not answer in time" in line and "--timeout SECONDS" in line
    assert openai_server.stats()["requests"] == 4  # one request, its 3 retries, each abandoned at 0.5 s


def test_a_partial_failure_says_k_of_n(worker, tmp_path, openai_server, tiny_scorer):  # noqa: F811
    # One request at a time, and the server refuses the first four attempts: the first prompt's answer
    # fails for good (1 try + 3 retries), the second prompt's tree grows.
    openai_server.control(fail_first=4)
    model = ModelSpec(name=str(tiny_chat_model_dir()), engine="openai", base_urls=[openai_server.base_url],
                      max_concurrency=1)
    request = Stage1Request(prompts(2), DEFAULT_TEMPLATES, model, [tiny_scorer], SamplingConfig(max_new_tokens=4, seed=0),
                            TreeConfig(criticisms=1, improvements=1))
    events = run_to_end(worker, prepared(request, tmp_path))
    assert isinstance(events[-1], protocol.JobFinished), events[-1]
    summary = events[-1].summary
    assert summary["failed_requests"] == 1 and summary["requests"] == 1 + 3  # p0's answer; p1's 3 steps
    assert "503" in summary["first_error"]
    assert {r["prompt_id"] for r in records(events, "node")} == {"p1"}


def test_the_cli_exits_1_on_a_partial_result_unless_allowed(project, capsys):
    from backend.cli.worker_cmds import exit_code
    from backend.worker.job_session import JobOutcome

    outcome = JobOutcome("j", project, "finished", {"failed_requests": 2, "requests": 9, "first_error": "HTTP 503"})
    assert exit_code(outcome, replace_args(allow_partial=False)) == 1
    assert "2 of 9 model requests failed (first error: HTTP 503)" in capsys.readouterr().err
    assert exit_code(outcome, replace_args(allow_partial=True)) == 0
    assert exit_code(replace(outcome, summary={"nodes": 7}), replace_args(allow_partial=False)) == 0


def replace_args(**fields):
    return argparse.Namespace(**fields)


@pytest.mark.parametrize("value", ["-1", "0", "two"])
def test_a_prompt_count_below_one_is_a_usage_error(project, capsys, value):
    with pytest.raises(SystemExit) as stopped:
        run_command(["generate", str(project), "--prompts", value])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"--prompts: must be a whole number of at least 1, not '{value}'" in err and "Traceback" not in err

"""Cancel stops a running job once its batch in flight is done; after SIGKILL, resubmitting the job generates only what is
missing and loses nothing that was journalled."""

import os
import signal
from collections import Counter
from dataclasses import replace

import pytest

from backend import protocol
from backend.avr.templates import DEFAULT_TEMPLATES
from backend.config import SamplingConfig, TreeConfig
from backend.job_requests import ScoreItem, ScoreRequest, Stage1Request
from backend.worker.client import WorkerClient, WorkerCrashedError
from backend.worker.journal import journal_path, read_records
from tests.worker.worker_helpers import prepared, prompts, records, run_to_end, wait_for

N_PROMPTS = 3


def slow_job(jobs_dir, tiny_model, tiny_scorer):
    """Enough prompts, in small batches, that the job is still running when the test acts on it."""
    request = Stage1Request(prompts(N_PROMPTS), DEFAULT_TEMPLATES, replace(tiny_model, batch_size=2), [tiny_scorer],
                            SamplingConfig(max_new_tokens=4, seed=3), TreeConfig(criticisms=2, improvements=2))
    return prepared(request, jobs_dir)


def is_node_result(event):
    return isinstance(event, protocol.Result) and event.record["type"] == "node"


def test_cancel_stops_a_running_job_after_its_batch_in_flight(worker, tmp_path, tiny_model, tiny_scorer):
    job = slow_job(tmp_path, tiny_model, tiny_scorer)
    worker.send(job)
    wait_for(worker, is_node_result)
    worker.cancel(job.job_id)
    events = wait_for(worker, lambda e: isinstance(e, protocol.TERMINAL_EVENTS))
    assert isinstance(events[-1], protocol.JobCancelled)
    # Stopped at once, whatever the machine's speed: only what was in flight when the cancel arrived
    # was finished (a batch of 2 requests, each of up to 2 samples), nothing new was started.
    after_cancel = [e for e in events if is_node_result(e)]
    assert len(after_cancel) <= 2 * 2
    generated = len(list(read_records(job.job_dir)))
    assert 0 < generated < N_PROMPTS * 7  # it stopped part-way, and kept what it finished
    # the worker is still usable afterwards
    again = run_to_end(worker, prepared(ScoreRequest([ScoreItem("n", "x", "y")], tiny_scorer), tmp_path))
    assert isinstance(again[-1], protocol.JobFinished)


def test_resubmitting_after_sigkill_generates_only_what_is_missing(worker, tmp_path, tiny_model, tiny_scorer):
    job = slow_job(tmp_path, tiny_model, tiny_scorer)
    with WorkerClient(log_path=tmp_path / "first.log") as first:  # closed (never leaked) if an assert fails
        first.send(job)
        seen = wait_for(first, lambda e: is_node_result(e) and e.seq >= 3)
        os.kill(first.process.pid, signal.SIGKILL)
        with pytest.raises(WorkerCrashedError):
            while True:
                first.next_event(timeout_s=30)
    announced = records(seen, "node")
    before = [record for _, record in read_records(job.job_dir)]
    assert all(record in before for record in announced)  # journalled before it was announced
    # a crash mid-write leaves half a line; the resumed job must cut it off, not choke on it
    with journal_path(job.job_dir).open("ab") as handle:
        handle.write(b'{"type": "node", "id": "torn')

    events = run_to_end(worker, job)  # any worker: the job folder carries the state
    assert isinstance(events[-1], protocol.JobFinished)
    new_nodes = records(events, "node")
    journal = [record for _, record in read_records(job.job_dir)]
    nodes = [r for r in journal if r["type"] == "node"]
    assert journal[: len(before)] == before  # nothing lost
    assert len(new_nodes) == N_PROMPTS * 7 - len([r for r in before if r["type"] == "node"])
    assert Counter(r["prompt_id"] for r in nodes) == {p.id: 7 for p in prompts(N_PROMPTS)}
    assert len({r["id"] for r in nodes}) == len(nodes)
    answers = {r["id"] for r in nodes if r["kind"] in ("response", "improvement")}
    scores = [r for r in journal if r["type"] == "score"]
    assert {r["node_id"] for r in scores} == answers and len(scores) == len(answers)
    assert journal_path(job.job_dir).read_bytes().endswith(b"\n")

"""Helpers for worker tests: prompts, prepared jobs, and reading a worker's events with deadlines
(never sleeps)."""

import time

from backend import protocol
from backend.domain import Prompt
from backend.worker.submission import prepare_job


def prompts(n, prefix="Question"):
    return [Prompt(f"p{i}", f"{prefix} {i}: name two uses of baking soda?") for i in range(n)]


def prepared(request, jobs_dir):
    """The SubmitJob of a job prepared (folder, request.json) under `jobs_dir`, as the app and CLI do."""
    return prepare_job(request, jobs_dir=jobs_dir).submit_message()


def run_to_end(client, job, timeout_s=120.0):
    """Submit and collect the job's events up to its final one (fails the test past the deadline)."""
    client.send(job)
    events = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        event = client.next_event(timeout_s=max(deadline - time.monotonic(), 0.01))
        if event is None or getattr(event, "job_id", job.job_id) != job.job_id:
            continue
        events.append(event)
        if isinstance(event, protocol.TERMINAL_EVENTS):
            return events
    raise AssertionError(f"job {job.job_id} did not end within {timeout_s} s; events: {events[-5:]}")


def wait_for(client, predicate, timeout_s=60.0):
    """Read events until one satisfies `predicate`; returns the events read, that one last."""
    events = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        event = client.next_event(timeout_s=max(deadline - time.monotonic(), 0.01))
        if event is None:
            continue
        events.append(event)
        if predicate(event):
            return events
    raise AssertionError(f"no matching event within {timeout_s} s; last events: {events[-5:]}")


def records(events, kind=None):
    found = [e.record for e in events if isinstance(e, protocol.Result)]
    return [r for r in found if kind is None or r["type"] == kind]

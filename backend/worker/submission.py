"""The one way a job is made, for the app and the CLI alike: its id, its folder, its request file
and its row in the project's `jobs` table.

A job's folder is `<project>/jobs/<job id>/` (`Store.jobs_dir` names the parent):
- `request.json`  the typed request, written here (the worker reads it: `backend.worker.context`);
- `journal.jsonl` every result, appended by the worker before it announces it (`backend.worker.journal`);
- `log.txt`       the job's log lines, written by the worker;
- `worker.log`    the worker process's own output while it ran the job (`WORKER_LOG_NAME`).
The `jobs` row holds the request without its bulky fields (stored nodes, scores, items, prompts),
which stay in request.json: the row says how many there were.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend import protocol
from backend.domain import Job, random_id
from backend.job_requests import JobRequest
from backend.worker.journal import REQUEST_NAME, WORKER_LOG_NAME


@dataclass(frozen=True)
class PreparedJob:
    """A job whose folder, request file and row exist; send `submit_message()` to a worker to run it."""

    job_id: str
    kind: str
    job_dir: Path

    def submit_message(self) -> protocol.SubmitJob:
        return protocol.SubmitJob(self.job_id, str(self.job_dir))

    @property
    def worker_log_path(self) -> Path:
        return self.job_dir / WORKER_LOG_NAME


def new_job_id(kind: str) -> str:
    """`<kind>-<local date>-<time>-<6 hex>`: readable, sorted by when it was made, unique.

    >>> import re; bool(re.fullmatch(r"stage1-\\d{8}-\\d{6}-[0-9a-f]{6}", new_job_id("stage1")))
    True
    """
    return f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{random_id()[:6]}"


def row_request(encoded: dict[str, Any], bulky: tuple[str, ...]) -> dict[str, Any]:
    """What the jobs table keeps of an encoded request: the bulky fields become their size.

    >>> row_request({"kind": "score", "items": [1, 2, 3], "scorer": {"kind": "likelihood"}}, ("items",))
    {'kind': 'score', 'items': {'count': 3, 'in': 'request.json'}, 'scorer': {'kind': 'likelihood'}}
    """
    return {key: {"count": len(value), "in": REQUEST_NAME} if key in bulky else value
            for key, value in encoded.items()}


def prepare_job(request: JobRequest, *, store=None, jobs_dir: Path | str | None = None) -> PreparedJob:
    """Make the job's folder under `store.jobs_dir` (or `jobs_dir` for a job outside any project, e.g.
    refine), write its request.json and, with a store, its `jobs` row (status "queued")."""
    if store is not None:
        jobs_dir = store.jobs_dir
    if jobs_dir is None:
        raise ValueError("prepare_job needs a store or a jobs folder")
    job_id = new_job_id(request.KIND)
    job_dir = Path(jobs_dir) / job_id
    job_dir.mkdir(parents=True)
    encoded = protocol.encode_request(request)
    (job_dir / REQUEST_NAME).write_text(json.dumps(encoded, ensure_ascii=False), encoding="utf-8")
    if store is not None:
        store.add_job(Job(id=job_id, kind=request.KIND, status="queued",
                          request=row_request(encoded, request.BULKY)))
    return PreparedJob(job_id, request.KIND, job_dir)


RESUMABLE_STATUSES = ("interrupted", "failed", "cancelled")


def resume_job(store, job_id: str | None = None) -> PreparedJob:
    """Make an interrupted (or failed, or cancelled) job of the project ready to run again in its own
    folder: the worker skips what its journal holds (`backend.worker.context`), so it does only the rest.
    Without `job_id`, the most recent interrupted job. A Stage I job's request is refreshed with the
    trees as stored now, so it fills only the slots still missing (another run may have grown some)."""
    from backend.errors import UserError
    from backend.worker import job_lock

    job = _job_to_resume(store, job_id)
    job_dir = Path(store.jobs_dir) / job.id
    if job_lock.is_running(job_dir):
        raise UserError(f"job {job.id} is still running in a worker; wait for it to end, or cancel it")
    if job.status not in RESUMABLE_STATUSES and not (job.status == "finished" and job.error):
        raise UserError(f"job {job.id} is {job.status}; only an interrupted, failed or cancelled job (or one whose "
                        "requests partly failed) can be resumed")
    request = _refreshed(store, _read_request(job_dir, job.id))
    problem = _model_problem(request)
    if problem:
        raise UserError(f"job {job.id} cannot run again as it was asked: {problem} Put the folder back, or start "
                        "a new job with the model of Settings.")
    temp = job_dir / f".{REQUEST_NAME}.tmp"
    temp.write_text(json.dumps(protocol.encode_request(request), ensure_ascii=False), encoding="utf-8")
    temp.replace(job_dir / REQUEST_NAME)
    store.update_job(job.id, "queued", None)
    return PreparedJob(job.id, job.kind, job_dir)


def _model_problem(request: JobRequest) -> str | None:
    """Why a generator or scorer the request names cannot load (a folder moved or deleted since the job
    ran, say), from file checks; resuming such a job would only fail again once its worker starts."""
    from backend.config import ModelSpec, ScorerSpec
    from backend.engines.loading import generator_problem, scorer_problem

    model = getattr(request, "model", None)
    if isinstance(model, ModelSpec) and (problem := generator_problem(model.name, model.engine)):
        return problem
    scorers = [*(getattr(request, "scorers", None) or []), getattr(request, "scorer", None)]
    return next((problem for scorer in scorers if isinstance(scorer, ScorerSpec)
                 and (problem := scorer_problem(scorer.kind, scorer.model))), None)


def _job_to_resume(store, job_id: str | None) -> Job:
    from backend.errors import UserError

    if job_id is not None:
        job = store.get_job(job_id)
        if job is None:
            raise UserError(f"the project has no job {job_id!r}; `avr-studio jobs DIR` lists them")
        return job
    interrupted = [job for job in store.jobs() if job.status == "interrupted"]
    if not interrupted:
        raise UserError("the project has no interrupted job; name the job to resume (`avr-studio jobs DIR` "
                        "lists them)")
    return interrupted[-1]


def _read_request(job_dir: Path, job_id: str) -> JobRequest:
    from backend.errors import UserError
    from backend.worker.context import read_request

    try:
        return read_request(job_dir)
    except protocol.ProtocolError as exc:
        raise UserError(f"job {job_id} cannot be resumed: {exc}") from None


def _refreshed(store, request: JobRequest) -> JobRequest:
    from backend.job_requests import Stage1Request

    if not isinstance(request, Stage1Request):
        return request
    from backend.worker.request_builders import stage1_request

    return stage1_request(store, list(request.prompts), request.model, list(request.scorers), request.tree,
                          request.sampling, request.templates)

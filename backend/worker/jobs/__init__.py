"""The jobs the worker runs, by request kind. Each module has `run(request, ctx) -> summary dict`,
its request being the typed dataclass of `backend.job_requests`; heavy imports stay inside."""

from __future__ import annotations

import importlib
from typing import Any

from backend.job_requests import REQUEST_TYPES, JobRequest

JOB_MODULES = {
    "stage1": "backend.worker.jobs.stage1",
    "chain": "backend.worker.jobs.chain",
    "score": "backend.worker.jobs.score",
    "refine": "backend.worker.jobs.refine",
    "regenerate": "backend.worker.jobs.regenerate",
    "train": "backend.worker.jobs.train",
    "sample_thoughts": "backend.worker.jobs.sample_thoughts",
    "evaluate": "backend.worker.jobs.evaluate",
    "merge": "backend.worker.jobs.merge",
}
assert set(JOB_MODULES) == set(REQUEST_TYPES), "every request kind needs a job module, and only those"


def run_request(request: JobRequest, ctx) -> dict[str, Any]:
    """Run the job of `request`'s kind in the worker; returns its summary."""
    return importlib.import_module(JOB_MODULES[request.KIND]).run(request, ctx)

"""The jobs the worker runs, by kind. Each module has `run(ctx) -> summary dict`; heavy imports inside."""

from __future__ import annotations

import importlib
from typing import Any

from backend.errors import BadInputError

JOB_MODULES = {
    "stage1": "backend.worker.jobs.stage1",
    "chain": "backend.worker.jobs.chain",
    "score": "backend.worker.jobs.score",
    "refine": "backend.worker.jobs.refine",
    "regenerate": "backend.worker.jobs.regenerate",
}


def run_job(kind: str, ctx) -> dict[str, Any]:
    module_name = JOB_MODULES.get(kind)
    if module_name is None:
        raise BadInputError(f"Unknown job kind {kind!r}; this worker runs {sorted(JOB_MODULES)}. "
                            "Update the worker's AvR Studio to the app's version.")
    return importlib.import_module(module_name).run(ctx)

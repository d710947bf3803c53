"""The `score` job: score given answers with one scorer and journal a Score per answer."""

from __future__ import annotations

from typing import Any

from backend.job_requests import ScoreRequest
from backend.worker.context import JobContext
from backend.worker.jobs import common


def run(request: ScoreRequest, ctx: JobContext) -> dict[str, Any]:
    spec = request.scorer
    items = [(item.node_id, item.prompt, item.answer) for item in request.items]
    _, known_scores = common.known_objects(ctx)  # a resumed job skips what its journal already holds
    todo = [item for item in items if (item[0], spec.label) not in known_scores]
    ctx.progress.start(len(items), already_done=len(items) - len(todo), message=f"scoring with {spec.label}")
    if todo:
        scorer = common.load_scorer(ctx, spec)
        try:
            common.score_items(ctx, scorer, spec.label, todo, spec.batch_size)
        finally:
            common.close_quietly(scorer)
    return {"scorer": spec.label, "scored": len(todo), "skipped": len(items) - len(todo)}

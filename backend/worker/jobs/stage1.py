"""The `stage1` job: grow each prompt's round-0 refinement tree (1 → k → k·m) and score every answer.

Only what is missing is generated: the stored nodes the request carries and this job's own journal
(an earlier, interrupted run) count as done, and so do their scores.
"""

from __future__ import annotations

from typing import Any

from backend.avr.tree import build_trees, first_response
from backend.config import TreeConfig
from backend.domain import TREE_ANSWER_KINDS, Node
from backend.job_requests import Stage1Request
from backend.worker.context import JobContext
from backend.worker.jobs import common
from backend.worker.jobs.rating_policy import warning_text
from backend.worker.jobs.stage1_source import Stage1Source


def _tree_size(tree: TreeConfig) -> int:
    return 1 + tree.criticisms + tree.criticisms * tree.improvements


def _first_tree_nodes(prompt_id: str, nodes: dict[str, Node]) -> list[Node]:
    """The prompt's round-0 tree: its first response and the round-0 nodes below it."""
    roots = build_trees([n for n in nodes.values() if n.prompt_id == prompt_id], {}, {})
    root = first_response(prompt_id, roots)
    if root is None:
        return []
    return [t.node for t in root.walk() if t.node.round == 0]


def run(request: Stage1Request, ctx: JobContext) -> dict[str, Any]:
    prompts = {p.id: p for p in request.prompts}
    tree, specs, mode = request.tree, request.scorers, request.model.rating_mode
    nodes, scores = common.known_objects(ctx, request.known_nodes, request.known_scores)

    existing = sum(min(len(_first_tree_nodes(pid, nodes)), _tree_size(tree)) for pid in prompts)
    answers_per_tree = 1 + tree.criticisms * tree.improvements
    total = len(prompts) * (_tree_size(tree) + answers_per_tree * len(specs))
    ctx.progress.start(total, already_done=existing, message="generating")

    engine = common.load_engine(ctx, request.model)
    try:
        factory = common.NodeFactory(ctx, request.model.name, request.sampling, request.templates.version)
        source = Stage1Source(ctx, engine, factory, prompts, nodes, tree, request.sampling, request.templates, mode)
        engine.run(source)
        ctx.check_cancelled()
    finally:
        common.close_quietly(engine)
    warning = warning_text(source.stats, mode, tree.rating_retries)
    if warning:
        ctx.log("warning", warning)
    nodes = source.nodes

    answers = [n for pid in prompts for n in _first_tree_nodes(pid, nodes) if n.kind in TREE_ANSWER_KINDS]
    scored = common.score_missing(ctx, specs, [(n.id, prompts[n.prompt_id].text, n.text) for n in answers], scores,
                                  expected_per_scorer=answers_per_tree * len(prompts))
    new_nodes = sum(1 for n in nodes.values() if n.job_id == ctx.job_id)
    return {"prompts": len(prompts), "nodes": new_nodes, "scores": scored,
            "criticisms_dropped": source.stats.dropped, "ratings_unparsed": source.stats.unparsed,
            "failed_requests": len(source.failed_requests)}

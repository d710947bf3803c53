"""The `stage1` job: grow each prompt's round-0 refinement tree (1 → k → k·m) and score every answer.

Only what is missing is generated: nodes in the payload (from the database) and in this job's own
journal (an earlier, interrupted run) count as done, and so do their scores.
"""

from __future__ import annotations

from typing import Any

from backend.avr.tree import build_trees, first_response
from backend.config import TreeConfig
from backend.domain import Node
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


def run(ctx: JobContext) -> dict[str, Any]:
    payload = ctx.payload
    prompts = {p["id"]: p["text"] for p in common.prompts(payload)}
    tree = TreeConfig.from_dict(payload.get("tree"))
    sampling = common.sampling_config(payload)
    templates = common.templates(payload)
    mode = common.rating_mode(payload)
    specs = common.scorer_specs(payload)
    nodes, scores = common.known_objects(ctx)

    existing = sum(min(len(_first_tree_nodes(pid, nodes)), _tree_size(tree)) for pid in prompts)
    answers_per_tree = 1 + tree.criticisms * tree.improvements
    total = len(prompts) * (_tree_size(tree) + answers_per_tree * len(specs))
    ctx.progress.start(total, already_done=existing, message="generating")

    engine = common.load_engine(ctx)
    try:
        factory = common.NodeFactory(ctx, common.model_spec(payload).name, sampling, templates.version)
        source = Stage1Source(ctx, engine, factory, prompts, nodes, tree, sampling, templates, mode)
        engine.run(source)
        ctx.check_cancelled()
    finally:
        common.close_quietly(engine)
    warning = warning_text(source.stats, mode, tree.rating_retries)
    if warning:
        ctx.log("warning", warning)
    nodes = source.nodes

    answers = [n for pid in prompts for n in _first_tree_nodes(pid, nodes)
               if n.kind in ("response", "improvement")]
    scored = common.score_missing(ctx, specs, [(n.id, prompts[n.prompt_id], n.text) for n in answers], scores,
                                  expected_per_scorer=answers_per_tree * len(prompts))
    new_nodes = sum(1 for n in nodes.values() if n.job_id == ctx.job_id)
    return {"prompts": len(prompts), "nodes": new_nodes, "scores": scored,
            "criticisms_dropped": source.stats.dropped, "ratings_unparsed": source.stats.unparsed,
            "failed_requests": len(source.stats.failed_requests)}

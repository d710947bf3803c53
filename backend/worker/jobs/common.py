"""Helpers every job shares: what is already done, loading the engine and scorers, making nodes, scoring."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from backend import protocol
from backend.config import ModelSpec, SamplingConfig, ScorerSpec
from backend.domain import Chain, Node, Score, now, random_id
from backend.worker.context import JobContext
from backend.worker.model_cache import MODELS, project_of_job


def known_objects(ctx: JobContext, nodes: Iterable[Node] = (), scores: Iterable[Score] = ()
                  ) -> tuple[dict[str, Node], dict[tuple[str, str], Score]]:
    """Nodes by id and scores by (node, scorer): the stored ones a request carries, and what an earlier
    run of this job journalled (a crash, then a resubmit)."""
    known_nodes: dict[str, Node] = {}
    known_scores: dict[tuple[str, str], Score] = {}
    for obj in [*nodes, *scores, *ctx.journalled]:
        if isinstance(obj, Node):
            known_nodes[obj.id] = obj
        elif isinstance(obj, Score):
            known_scores[(obj.node_id, obj.scorer)] = obj
    return known_nodes, known_scores


def journalled_chain_prompts(ctx: JobContext) -> set[str]:
    """Prompts whose chain an earlier run of this job already journalled."""
    return {obj.prompt_id for obj in ctx.journalled if isinstance(obj, Chain)}


def load_engine(ctx: JobContext, spec: ModelSpec):
    """The generator, with every result counted in `ctx.requests` (a job whose every request failed
    is reported as failed by the worker)."""
    from backend.worker.request_tally import TalliedEngine

    ctx.log("info", f"generator {spec.name} ({spec.engine})")
    engine = MODELS.engine(spec, project_of_job(ctx.job_dir))
    server_log = getattr(engine, "log_path", None)  # a vLLM server the worker started for this engine
    if server_log:
        ctx.log("info", f"the local vLLM server logs to {server_log}")
    return TalliedEngine(engine, ctx.requests, MODELS.release)


def load_scorer(ctx: JobContext, spec: ScorerSpec):
    ctx.log("info", f"scorer {spec.label}")
    return MODELS.scorer(spec, project_of_job(ctx.job_dir))


def close_quietly(thing: Any) -> None:
    """The job is done with an engine or scorer (the model cache may keep it for the next job)."""
    MODELS.release(thing)


class NodeFactory:
    """Makes this job's nodes with the provenance every generated node records."""

    def __init__(self, ctx: JobContext, model: str, sampling: SamplingConfig, template_version: str) -> None:
        self._ctx = ctx
        self._base = Node(id="", prompt_id="", kind="response", text="", model=model,
                          sampling=sampling.to_dict(), seed=sampling.seed, job_id=ctx.job_id)
        self._template_version = template_version

    def make(self, prompt_id: str, kind: str, text: str, parent_id: str | None = None, round_: int = 0,
             self_rating: int | None = None, sampling: SamplingConfig | None = None) -> Node:
        """A new node; `sampling` overrides the job's settings when a step used its own (e.g. seed)."""
        version = None if kind == "response" else self._template_version
        node = replace(self._base, id=random_id(), prompt_id=prompt_id, kind=kind, text=text,
                       parent_id=parent_id, round=round_, template_version=version, self_rating=self_rating,
                       created_at=now())
        if sampling is not None:
            node = replace(node, sampling=sampling.to_dict(), seed=sampling.seed)
        return node

    def emit(self, node: Node) -> Node:
        self._ctx.record(protocol.node_record(node))
        return node


def score_items(ctx: JobContext, scorer, label: str, items: list[tuple[str, str, str]],
                batch_size: int, count_progress: bool = True) -> dict[str, float]:
    """Score (node_id, prompt, answer) items in batches, journalling a Score per item; {node_id: value}.

    Checks for cancel between batches and (unless told not to) advances progress by one step per item.
    """
    values: dict[str, float] = {}
    for start in range(0, len(items), max(batch_size, 1)):
        ctx.check_cancelled()
        batch = items[start:start + batch_size]
        scored = scorer.score([(prompt, answer) for _, prompt, answer in batch])
        for (node_id, _, _), value in zip(batch, scored, strict=True):
            ctx.record(protocol.score_record(Score(node_id=node_id, scorer=label, value=float(value))))
            values[node_id] = float(value)
        if count_progress:
            ctx.progress.advance(len(batch), message=f"scored with {label}")
    return values


def score_missing(ctx: JobContext, specs: list[ScorerSpec], items: list[tuple[str, str, str]],
                  known_scores, expected_per_scorer: int | None = None) -> int:
    """Score (node_id, prompt, answer) items with each scorer that has not scored them yet (a resumed
    job skips what its journal holds); progress counts the skipped ones as done. Returns items scored.

    `expected_per_scorer` is how many progress steps each scorer was planned for (default len(items)).
    """
    expected = len(items) if expected_per_scorer is None else expected_per_scorer
    scored = 0
    for spec in specs:
        todo = [item for item in items if (item[0], spec.label) not in known_scores]
        ctx.progress.advance(max(expected - len(todo), 0), message="already scored")
        if not todo:
            continue
        scorer = load_scorer(ctx, spec)
        try:
            score_items(ctx, scorer, spec.label, todo, spec.batch_size)
        finally:
            close_quietly(scorer)
        scored += len(todo)
    return scored

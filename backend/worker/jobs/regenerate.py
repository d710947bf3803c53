"""The `regenerate` job: new improvements of one criticism from its current text, the person's edit
when there is one (DESIGN.md §1.5), scored by every payload scorer like any other answer.

Payload: prompts [{id, text}] (the first is used), answer {id, text, round}, criticism {id, text,
round, edited}, improvements (count; default TreeConfig.improvements), templates, model, scorers,
sampling. A resubmitted job keeps the children and scores its journal already holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from backend.avr.templates import improve_messages
from backend.config import TreeConfig
from backend.engines.base import GenRequest
from backend.errors import BadInputError
from backend.worker.context import JobContext
from backend.worker.jobs import common


def text_sha1(text: str) -> str:
    """The hash recorded on each child, so anyone can tell which criticism text it was generated from."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _part(payload: dict[str, Any], key: str) -> dict[str, Any]:
    part = payload.get(key) or {}
    if not part.get("id") or not (part.get("text") or "").strip():
        raise BadInputError(f"The regenerate job needs the {key}'s id and non-empty text. "
                            f"Select a criticism with a stored answer (and, if you edited it, some text).")
    return part


def _count(payload: dict[str, Any]) -> int:
    count = payload.get("improvements")
    count = TreeConfig.from_dict(payload.get("tree")).improvements if count is None else int(count)
    if count < 1:
        raise BadInputError(f"Asked for {count} improvements; ask for at least 1.")
    return count


def provenance(criticism: dict[str, Any], messages: list) -> dict[str, Any]:
    """What each child adds to its `sampling` record: it was regenerated, and from which criticism
    text (hashed from the assistant turn of the conversation actually sent to the model)."""
    sent = next(m["content"] for m in reversed(messages) if m["role"] == "assistant")
    return {"regenerated": True, "from_edited_criticism": bool(criticism.get("edited")),
            "criticism_text_sha1": text_sha1(sent)}


def _generate(ctx: JobContext, messages, count: int, sampling) -> tuple[list[str], int]:
    engine = common.load_engine(ctx)
    try:
        results = engine.generate([GenRequest("regenerate", messages, n=count, sampling=sampling)])
    finally:
        common.close_quietly(engine)
    ctx.check_cancelled()
    result = results[0] if results else None
    if result is None or result.error or not result.texts:
        raise BadInputError(f"The model returned no improvement ({result.error if result else 'no result'}). "
                            "Check the model or server, then regenerate again.")
    return result.texts[:count], result.tokens


def run(ctx: JobContext) -> dict[str, Any]:
    payload = ctx.payload
    prompt = common.prompts(payload)[0]
    answer, criticism = _part(payload, "answer"), _part(payload, "criticism")
    count = _count(payload)
    sampling, templates = common.sampling_config(payload), common.templates(payload)
    specs = common.scorer_specs(payload)
    nodes, scores = common.known_objects(ctx)
    # Only this job's own children count as done: older improvements of the criticism came from its
    # earlier text, and the person asked for new ones.
    children = [n for n in nodes.values()
                if n.kind == "improvement" and n.parent_id == criticism["id"] and n.job_id == ctx.job_id]
    missing = max(count - len(children), 0)
    ctx.progress.start(count * (1 + len(specs)), already_done=len(children), message="improving")

    messages = improve_messages(prompt["text"], answer["text"], criticism["text"], templates)
    marks = provenance(criticism, messages)
    ctx.log("info", f"improving criticism {criticism['id']} from its "
                    f"{'edited' if marks['from_edited_criticism'] else 'model'} text "
                    f"(sha1 {marks['criticism_text_sha1'][:12]}, {len(criticism['text'])} chars)")
    made = 0
    if missing:
        texts, tokens = _generate(ctx, messages, missing, sampling)
        factory = common.NodeFactory(ctx, common.model_spec(payload).name, sampling, templates.version)
        for text in texts:
            node = factory.make(prompt["id"], "improvement", text, criticism["id"],
                                      round_=int(criticism.get("round") or 0))
            children.append(factory.emit(replace(node, sampling={**node.sampling, **marks})))
        made = len(texts)
        # a model that returned fewer texts than asked: skip their steps so progress still ends at total
        ctx.progress.advance(made + (missing - made) * (1 + len(specs)), tokens, "improve done")

    scored = common.score_missing(ctx, specs, [(n.id, prompt["text"], n.text) for n in children], scores)
    return {"prompts": 1, "criticism": criticism["id"], "nodes": made, "scores": scored,
            "from_edited_criticism": marks["from_edited_criticism"]}

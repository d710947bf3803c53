"""The `regenerate` job: new improvements of one criticism from its current text, the person's edit
when there is one, scored by every scorer of the request like any other answer.

A resubmitted job keeps the children and scores its journal already holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from backend.avr.templates import improve_messages
from backend.engines.base import GenRequest
from backend.errors import BadInputError
from backend.job_requests import NodeText, RegenerateRequest
from backend.worker.context import JobContext
from backend.worker.jobs import common


def text_sha1(text: str) -> str:
    """The hash recorded on each child, so anyone can tell which criticism text it was generated from."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def provenance(criticism: NodeText, messages: list) -> dict[str, Any]:
    """What each child adds to its `sampling` record: it was regenerated, and from which criticism
    text (hashed from the assistant turn of the conversation actually sent to the model)."""
    sent = next(m["content"] for m in reversed(messages) if m["role"] == "assistant")
    return {"regenerated": True, "from_edited_criticism": criticism.edited,
            "criticism_text_sha1": text_sha1(sent)}


def _generate(ctx: JobContext, request: RegenerateRequest, messages, count: int) -> tuple[list[str], int]:
    engine = common.load_engine(ctx, request.model)
    try:
        results = engine.generate([GenRequest("regenerate", messages, n=count, sampling=request.sampling)])
    finally:
        common.close_quietly(engine)
    ctx.check_cancelled()
    result = results[0] if results else None
    if result is None or result.error or not result.texts:
        raise BadInputError(f"The model returned no improvement ({result.error if result else 'no result'}). "
                            "Check the model or server, then regenerate again.")
    return result.texts[:count], result.tokens


def run(request: RegenerateRequest, ctx: JobContext) -> dict[str, Any]:
    prompt, criticism, count = request.prompt, request.criticism, request.improvements
    nodes, scores = common.known_objects(ctx)
    # Only this job's own children count as done: older improvements of the criticism came from its
    # earlier text, and the person asked for new ones.
    children = [n for n in nodes.values()
                if n.kind == "improvement" and n.parent_id == criticism.id and n.job_id == ctx.job_id]
    missing = max(count - len(children), 0)
    ctx.progress.start(count * (1 + len(request.scorers)), already_done=len(children), message="improving")

    messages = improve_messages(prompt.text, request.answer.text, criticism.text, request.templates, prompt.system)
    marks = provenance(criticism, messages)
    ctx.log("info", f"improving criticism {criticism.id} from its "
                    f"{'edited' if marks['from_edited_criticism'] else 'model'} text "
                    f"(sha1 {marks['criticism_text_sha1'][:12]}, {len(criticism.text)} chars)")
    made = 0
    if missing:
        texts, tokens = _generate(ctx, request, messages, missing)
        factory = common.NodeFactory(ctx, request.model.name, request.sampling, request.templates.version)
        for text in texts:
            node = factory.make(prompt.id, "improvement", text, criticism.id, round_=criticism.round)
            children.append(factory.emit(replace(node, sampling={**node.sampling, **marks})))
        made = len(texts)
        # a model that returned fewer texts than asked: skip their steps so progress still ends at total
        ctx.progress.advance(made + (missing - made) * (1 + len(request.scorers)), tokens, "improve done")

    scored = common.score_missing(ctx, request.scorers, [(n.id, prompt.text, n.text) for n in children], scores)
    return {"prompts": 1, "criticism": criticism.id, "nodes": made, "scores": scored,
            "from_edited_criticism": marks["from_edited_criticism"]}

"""Stage II long-thought SFT JSONL, parsed back into a chain: y0, c1, y1, ..., c_final plus the long thought.

Rounds: y_i is the answer of round i (y0 is round 0); the criticism c_{i+1} of y_i shares its round.
"""

from __future__ import annotations

from typing import Any

from backend.avr.long_thought import START, parse_long_thought
from backend.avr.ratings import parse_rating
from backend.domain import Chain, SftSample, content_id
from backend.io.importers.common import (
    ImportContext,
    ImportItems,
    RecordError,
    first_user_text,
    ignored_fields,
    imported_node,
    last_assistant_text,
    messages_field,
    record_prompt,
    scalar_extras,
)


def looks_like(record: dict[str, Any]) -> bool:
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return False
    content = messages[-1].get("content")
    return isinstance(content, str) and content.lstrip().startswith(START)


def convert(record: dict[str, Any], context: ImportContext) -> ImportItems:
    messages = messages_field(record, "messages")
    prompt = record_prompt(context, first_user_text(messages, "messages"), messages,
                           scalar_extras(record, {"messages"}))
    text = last_assistant_text(messages, "messages")
    try:
        thought = parse_long_thought(text)
    except ValueError as exc:
        raise RecordError(f"the assistant message is not a well-formed long thought ({exc})") from None
    if not thought.answers or len(thought.criticisms) != len(thought.answers):
        raise RecordError("a long thought needs one criticism after every answer (the last one closes it)")

    nodes = []
    parent = None
    for round_number, (answer, criticism) in enumerate(zip(thought.answers, thought.criticisms, strict=True)):
        kind = "response" if round_number == 0 else "improvement"
        answer_node = imported_node(context, prompt.id, kind, answer, parent_id=parent, round=round_number)
        criticism_node = imported_node(context, prompt.id, "criticism", criticism, parent_id=answer_node.id,
                                       round=round_number, self_rating=parse_rating(criticism))
        nodes += [answer_node, criticism_node]
        parent = criticism_node.id
    long_thought = imported_node(context, prompt.id, "long_thought", text)
    node_ids = tuple(node.id for node in nodes)
    chain = Chain(id=content_id("chain", prompt.id, *node_ids), prompt_id=prompt.id, node_ids=node_ids,
                  best_node_id=_best_answer_id(nodes, thought.final_answer),
                  long_thought_node_id=long_thought.id)
    # The record is Stage II SFT data as it stands, so it is also kept as a long_thought sample.
    sample = SftSample(kind="long_thought", prompt_id=prompt.id,
                       messages=[{"role": m["role"], "content": m["content"]} for m in messages],
                       node_ids=(long_thought.id,), rules="imported")
    return ImportItems(prompts=[prompt], nodes=[*nodes, long_thought], chains=[chain], sft_samples=[sample],
                       ignored=ignored_fields(record, {"messages"}))


def _best_answer_id(nodes: list, final_answer: str) -> str:
    """The answer the thought ends on; normally the last one, matched by text to be sure."""
    answers = [node for node in nodes if node.kind != "criticism"]
    for node in reversed(answers):
        if node.text.strip() == final_answer.strip():
            return node.id
    return answers[-1].id

"""UltraFeedback-style rows: the prompt, and the chosen answer as a response node (with its RM score if known)."""

from __future__ import annotations

from typing import Any

from backend.domain import Prompt
from backend.io.importers.common import (
    ImportContext,
    ImportItems,
    RecordError,
    first_user_text,
    imported_node,
    imported_score,
    last_assistant_text,
    messages_field,
    prompt_field_text,
    scalar_extras,
)

SCORER = "imported:ultrafeedback"
_USED = {"prompt", "chosen", "rejected", "messages", "all_generated_responses", "all_rm_scores"}


def looks_like(record: dict[str, Any]) -> bool:
    return isinstance(record.get("chosen"), list)


def convert(record: dict[str, Any], context: ImportContext) -> ImportItems:
    text = prompt_field_text(record, "prompt") if record.get("prompt") is not None else None
    chosen = messages_field(record, "chosen")
    if text is None:  # some exports keep the prompt only as the chosen conversation's user turn
        text = first_user_text(chosen, "chosen")
    answer = last_assistant_text(chosen, "chosen")
    prompt = Prompt.from_text(text, source=context.source, meta=scalar_extras(record, _USED))
    node = imported_node(context, prompt.id, "response", answer)
    items = ImportItems(prompts=[prompt], nodes=[node])
    score = _chosen_score(record, answer)
    if score is not None:
        items.scores.append(imported_score(context, node.id, SCORER, score))
    return items


def _chosen_score(record: dict[str, Any], answer: str) -> float | None:
    """The chosen answer's reward, matched by text among `all_generated_responses`."""
    responses, scores = record.get("all_generated_responses"), record.get("all_rm_scores")
    if responses is None or scores is None:
        return None
    if not isinstance(responses, list) or not isinstance(scores, list):
        raise RecordError("'all_generated_responses' and 'all_rm_scores' must be lists")
    try:
        index = responses.index(answer)
    except ValueError:
        return None  # the chosen answer is not among them: keep the answer, leave it unscored
    if index >= len(scores):
        return None
    value = scores[index]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(f"'all_rm_scores' must hold numbers, found {type(value).__name__}")
    return float(value)

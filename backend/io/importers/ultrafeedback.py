"""UltraFeedback-style rows: the prompt, and the chosen answer as the prompt's REFERENCE answer
(DESIGN.md §1.2): kept apart from the trees, which grow from the policy's own answers.

The chosen answer's reward under the data set's reward model (matched by text among
`all_generated_responses` / `all_rm_scores`) is kept in the reference's meta.
"""

from __future__ import annotations

from typing import Any

from backend.domain import ReferenceAnswer
from backend.io.importers.common import (
    ImportContext,
    ImportItems,
    RecordError,
    finite_number,
    first_user_text,
    ignored_fields,
    last_assistant_text,
    messages_field,
    prompt_field_text,
    record_prompt,
    scalar_extras,
)

SCORER = "imported:ultrafeedback"
USED_FIELDS = frozenset({"prompt", "chosen", "messages", "all_generated_responses", "all_rm_scores"})


def looks_like(record: dict[str, Any]) -> bool:
    return isinstance(record.get("chosen"), list)


def convert(record: dict[str, Any], context: ImportContext) -> ImportItems:
    text = prompt_field_text(record, "prompt") if record.get("prompt") is not None else None
    chosen = messages_field(record, "chosen")
    if text is None:  # some exports keep the prompt only as the chosen conversation's user turn
        text = first_user_text(chosen, "chosen")
    answer = last_assistant_text(chosen, "chosen")
    conversation = record["prompt"] if isinstance(record.get("prompt"), list) else chosen
    prompt = record_prompt(context, text, conversation, scalar_extras(record, USED_FIELDS | {"rejected"}))
    meta: dict[str, Any] = {}
    score = _chosen_score(record, answer)
    if score is not None:
        meta = {"score": score, "scorer": SCORER}
    reference = ReferenceAnswer(prompt_id=prompt.id, text=answer, source=context.source, meta=meta,
                                added_at=context.created_at)
    return ImportItems(prompts=[prompt], references=[reference], ignored=ignored_fields(record, USED_FIELDS))


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
    return finite_number(value, "a score of 'all_rm_scores'")

"""The AvR authors' Stage I scoring-detail JSONL, rebuilt into a tree: answer → criticisms → improvements.

One line per prompt: `messages` = [user x, assistant y], `source_score` = R(x, y), `refinements` =
one record per improvement carrying its criticism (`judgement`; siblings repeat the same text), the
improvement (`refined_response`), its reward (`score`) and generation settings. Criticisms are
grouped by their text; `best_record` is derivable from the tree and is not stored.
"""

from __future__ import annotations

from typing import Any

from backend.avr.ratings import parse_rating
from backend.domain import Node, Prompt
from backend.io.importers.common import (
    SCALARS,
    ImportContext,
    ImportItems,
    RecordError,
    first_user_text,
    imported_node,
    imported_score,
    last_assistant_text,
    messages_field,
    optional_number,
    required_str,
    scalar_extras,
)

SCORER = "imported"
_RECORD_FIELDS = {"messages", "source_score", "refinements", "best_record"}
_REFINEMENT_FIELDS = {"messages", "judgement", "refined_response", "score"}


def looks_like(record: dict[str, Any]) -> bool:
    return "refinements" in record or "source_score" in record


def convert(record: dict[str, Any], context: ImportContext) -> ImportItems:
    messages = messages_field(record, "messages")
    prompt = Prompt.from_text(first_user_text(messages, "messages"), source=context.source,
                              meta=scalar_extras(record, _RECORD_FIELDS))
    answer = imported_node(context, prompt.id, "response", last_assistant_text(messages, "messages"))
    items = ImportItems(prompts=[prompt], nodes=[answer])
    source_score = optional_number(record, "source_score")
    if source_score is not None:
        items.scores.append(imported_score(context, answer.id, SCORER, source_score))

    refinements = record.get("refinements") or []
    if not isinstance(refinements, list):
        raise RecordError("field 'refinements' must be a list of refinement records")
    criticisms: dict[str, Node] = {}  # by text: siblings under one criticism repeat its text
    for position, refinement in enumerate(refinements, start=1):
        if not isinstance(refinement, dict):
            raise RecordError(f"refinement {position} must be an object")
        try:
            judgement = required_str(refinement, "judgement")
            improved = required_str(refinement, "refined_response")
            score = optional_number(refinement, "score")
        except RecordError as exc:
            raise RecordError(f"refinement {position}: {exc}") from None
        settings = _settings(refinement)
        criticism = criticisms.get(judgement)
        if criticism is None:
            criticism = imported_node(context, prompt.id, "criticism", judgement, parent_id=answer.id,
                                      self_rating=parse_rating(judgement),
                                      sampling=_for_action(settings, "_judge", "_refine"))
            criticisms[judgement] = criticism
            items.nodes.append(criticism)
        improvement = imported_node(context, prompt.id, "improvement", improved, parent_id=criticism.id,
                                    sampling=_for_action(settings, "_refine", "_judge"))
        items.nodes.append(improvement)
        if score is not None:
            items.scores.append(imported_score(context, improvement.id, SCORER, score))
    return items


def _settings(refinement: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in refinement.items() if k not in _REFINEMENT_FIELDS and isinstance(v, SCALARS)}


def _for_action(settings: dict[str, Any], own_suffix: str, other_suffix: str) -> dict[str, Any]:
    """`temperature_judge` belongs to the criticism as `temperature`; unsuffixed settings go to both."""
    kept = {}
    for key, value in settings.items():
        if key.endswith(other_suffix):
            continue
        kept[key.removesuffix(own_suffix)] = value
    return kept

"""The AvR authors' Stage I scoring-detail JSONL, rebuilt into a tree: answer → criticisms → improvements.

One line per prompt: `messages` = [user x, assistant y], `source_score` = R(x, y), `refinements` =
one record per improvement carrying its criticism (`judgement`; siblings repeat the same text), the
improvement (`refined_response`), its reward (`score`) and generation settings. Criticisms are
grouped by their text, as the authors' scorer groups them; improvements are never merged (an
unchanged copy may appear twice under one criticism, and r(c) counts both), and they keep their
order in the file, which the paper's tie rules read. `best_record` is derivable and is not stored.
"""

from __future__ import annotations

from typing import Any

from backend.avr.ratings import parse_rating
from backend.domain import Node
from backend.io.importers.common import (
    SCALARS,
    ImportContext,
    ImportItems,
    RecordError,
    first_user_text,
    ignored_fields,
    imported_node,
    imported_score,
    last_assistant_text,
    messages_field,
    optional_number,
    record_prompt,
    required_str,
    scalar_extras,
)

SCORER = "imported"
USED_FIELDS = frozenset({"messages", "source_score", "refinements", "best_record"})
_REFINEMENT_FIELDS = {"messages", "judgement", "refined_response", "score"}


def looks_like(record: dict[str, Any]) -> bool:
    return "refinements" in record or "source_score" in record


def convert(record: dict[str, Any], context: ImportContext) -> ImportItems:
    messages = messages_field(record, "messages")
    prompt = record_prompt(context, first_user_text(messages, "messages"), messages,
                           scalar_extras(record, USED_FIELDS))
    answer = imported_node(context, prompt.id, "response", last_assistant_text(messages, "messages"), position=0)
    items = ImportItems(prompts=[prompt], nodes=[answer], ignored=ignored_fields(record, USED_FIELDS))
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
                                      position=position, self_rating=parse_rating(judgement),
                                      sampling=_for_action(settings, "_judge", "_refine"))
            criticisms[judgement] = criticism
            items.nodes.append(criticism)
        improvement = imported_node(context, prompt.id, "improvement", improved, parent_id=criticism.id,
                                    position=position, sampling=_for_action(settings, "_refine", "_judge"))
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

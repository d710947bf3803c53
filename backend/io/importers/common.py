"""Pieces every record converter shares: field checks that raise `RecordError`, and content-hashed nodes.

Imported nodes get content ids (prompt, kind, parent, round, text, and the node's place in its record
where two nodes may share all of those), so importing a file twice yields the same nodes and the
store adds nothing the second time. Their `model` is "imported": text not generated in this project.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from backend.domain import (
    IMPORTED_MODEL,
    SYSTEM_META_KEY,
    Chain,
    Message,
    Node,
    Prompt,
    ReferenceAnswer,
    Score,
    SftSample,
    content_id,
    now,
)

SCALARS = (str, int, float, bool)


class RecordError(ValueError):
    """One record is malformed; the dispatcher adds the file and line to the message."""


@dataclass(frozen=True)
class ImportContext:
    """What every record of one import shares: the file name (Prompt.source) and the import time."""

    source: str
    created_at: datetime = field(default_factory=now)  # one timestamp for the whole import: cheaper


@dataclass
class ImportItems:
    """What one record turns into."""

    prompts: list[Prompt] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    chains: list[Chain] = field(default_factory=list)
    sft_samples: list[SftSample] = field(default_factory=list)
    references: list[ReferenceAnswer] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # the record's fields that were not imported
    dropped: list[str] = field(default_factory=list)  # why the paper keeps no long thought of a chain


def imported_node(context: ImportContext, prompt_id: str, kind: str, text: str, parent_id: str | None = None,
                  round: int = 0, position: int | None = None, **fields: Any) -> Node:
    """A node with a content id. `position` (its place in the record) joins the id, so two equal texts
    under one parent stay two nodes, and orders the record's nodes: created_at + position µs, the
    order the authors' rules read them in (ties go to the earlier or the later one)."""
    parts: tuple[Any, ...] = ("node", prompt_id, kind, parent_id or "", round, text)
    created_at = context.created_at
    if position is not None:
        parts += (position,)
        created_at += timedelta(microseconds=position)
    fields.setdefault("model", IMPORTED_MODEL)
    return Node(id=content_id(*parts), prompt_id=prompt_id, kind=kind, text=text, parent_id=parent_id, round=round,
                created_at=created_at, **fields)


def record_prompt(context: ImportContext, text: str, messages: list[Message] | None, extras: dict[str, Any]) -> Prompt:
    """The prompt of a record; a leading system message of `messages` is kept in its meta (it opens
    every context built from the prompt)."""
    meta = dict(extras)
    system = leading_system_text(messages) if messages else None
    if system is not None:
        meta[SYSTEM_META_KEY] = system
    return Prompt.from_text(text, source=context.source, meta=meta)


def leading_system_text(messages: list[Message]) -> str | None:
    """The content of a leading system message, if the conversation opens with one."""
    first = messages[0] if messages else None
    return first["content"] if first is not None and first["role"] == "system" else None


def imported_score(context: ImportContext, node_id: str, scorer: str, value: float) -> Score:
    return Score(node_id=node_id, scorer=scorer, value=value, created_at=context.created_at)


def required_str(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None:
        raise RecordError(f"missing field {key!r}")
    if not isinstance(value, str):
        raise RecordError(f"field {key!r} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise RecordError(f"field {key!r} is empty")
    return value


def optional_number(record: dict[str, Any], key: str) -> float | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(f"field {key!r} must be a number, not {type(value).__name__}")
    return finite_number(value, f"field {key!r}")


def finite_number(value: int | float, what: str) -> float:
    """A JSON number as a float; a RecordError for NaN, an infinity or one too large for a float.

    >>> finite_number(3, "score"), finite_number(0.5, "score")
    (3.0, 0.5)
    """
    try:
        number = float(value)
    except OverflowError:
        raise RecordError(f"{what} is too large a number") from None
    if not math.isfinite(number):
        raise RecordError(f"{what} must be a finite number, not {value}")
    return number


def messages_field(record: dict[str, Any], key: str) -> list[Message]:
    """A list of {role, content} messages; raises RecordError naming what is wrong."""
    value = record.get(key)
    if value is None:
        raise RecordError(f"missing field {key!r}")
    if not isinstance(value, list) or not value:
        raise RecordError(f"field {key!r} must be a non-empty list of {{role, content}} messages")
    for position, message in enumerate(value, start=1):
        if (not isinstance(message, dict) or not isinstance(message.get("role"), str)
                or not isinstance(message.get("content"), str)):
            raise RecordError(f"message {position} of {key!r} must have a string 'role' and 'content'")
    return value


def first_user_text(messages: list[Message], key: str) -> str:
    for message in messages:
        if message["role"] == "user":
            if not message["content"].strip():
                raise RecordError(f"the first user message of {key!r} is empty")
            return message["content"]
    raise RecordError(f"{key!r} has no user message")


def last_assistant_text(messages: list[Message], key: str) -> str:
    last = messages[-1]
    if last["role"] != "assistant":
        raise RecordError(f"the last message of {key!r} must be the assistant's answer, not {last['role']!r}")
    if not last["content"].strip():
        raise RecordError(f"the assistant answer in {key!r} is empty")
    return last["content"]


def prompt_field_text(record: dict[str, Any], key: str) -> str:
    """A prompt given as a string, or as a message list (TRL's conversational layout): its first user turn."""
    if isinstance(record.get(key), list):
        return first_user_text(messages_field(record, key), key)
    return required_str(record, key)


def ignored_fields(record: dict[str, Any], used: set[str] | frozenset[str]) -> list[str]:
    """The record's fields that are neither read nor kept: lists and objects outside `used` (plain
    fields outside it are kept in the prompt's meta).

    >>> ignored_fields({"prompt": "x", "id": 3, "chosen": {"role": "assistant"}, "tags": None}, {"prompt"})
    ['chosen']
    """
    return [key for key, value in record.items()
            if key not in used and value is not None and not isinstance(value, SCALARS)]


def scalar_extras(record: dict[str, Any], used: set[str] | frozenset[str]) -> dict[str, Any]:
    """The record's other plain fields, kept as the prompt's meta (lists and objects are left out)."""
    return {k: v for k, v in record.items() if k not in used and isinstance(v, SCALARS)}

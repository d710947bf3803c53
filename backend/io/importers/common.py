"""Pieces every record converter shares: field checks that raise `RecordError`, and content-hashed nodes.

Imported nodes get content ids (prompt, kind, parent, round, text), so importing a file twice, or
the same answer from two files, yields the same node and the store adds nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backend.domain import Chain, Message, Node, Prompt, Score, SftSample, content_id, now

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


def imported_node(context: ImportContext, prompt_id: str, kind: str, text: str, parent_id: str | None = None,
                  round: int = 0, **fields: Any) -> Node:
    node_id = content_id("node", prompt_id, kind, parent_id or "", round, text)
    return Node(id=node_id, prompt_id=prompt_id, kind=kind, text=text, parent_id=parent_id, round=round,
                created_at=context.created_at, **fields)


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
    return float(value)


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


def scalar_extras(record: dict[str, Any], used: set[str]) -> dict[str, Any]:
    """The record's other plain fields, kept as the prompt's meta (lists and objects are left out)."""
    return {k: v for k, v in record.items() if k not in used and isinstance(v, SCALARS)}

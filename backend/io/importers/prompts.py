"""Plain prompt records: `prompt`, `instruction` (+ alpaca `input`), `text`, or the first user turn of `messages`."""

from __future__ import annotations

from typing import Any

from backend.io.importers.common import (
    ImportContext,
    ImportItems,
    RecordError,
    first_user_text,
    ignored_fields,
    messages_field,
    prompt_field_text,
    record_prompt,
    required_str,
    scalar_extras,
)

PROMPT_FIELDS = ("prompt", "instruction", "text", "messages")


def looks_like(record: dict[str, Any]) -> bool:
    return any(key in record for key in PROMPT_FIELDS)


def prompt_text(record: dict[str, Any]) -> tuple[str, set[str]]:
    """The prompt of a record and the fields it came from."""
    if record.get("prompt") is not None:
        return prompt_field_text(record, "prompt"), {"prompt"}
    if record.get("instruction") is not None:
        text = required_str(record, "instruction")
        extra = record.get("input")
        if isinstance(extra, str) and extra.strip():  # alpaca layout: the input follows the instruction
            text = f"{text}\n\n{extra}"
        return text, {"instruction", "input"}
    if record.get("text") is not None:
        return required_str(record, "text"), {"text"}
    if record.get("messages") is not None:
        return first_user_text(messages_field(record, "messages"), "messages"), {"messages"}
    raise RecordError("missing field: one of 'prompt', 'instruction', 'text' or 'messages' is needed")


def convert(record: dict[str, Any], context: ImportContext) -> ImportItems:
    text, used = prompt_text(record)
    conversation_field = "messages" if "messages" in used else "prompt" if "prompt" in used else None
    messages = record[conversation_field] if conversation_field and isinstance(record[conversation_field], list) else None
    prompt = record_prompt(context, text, messages, scalar_extras(record, used))
    ignored = ignored_fields(record, used)
    if messages is not None and any(m["role"] == "assistant" for m in messages):
        ignored.append("messages (its assistant turns)")
    return ImportItems(prompts=[prompt], ignored=ignored)

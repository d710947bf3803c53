"""Conversions between domain values and stored columns: JSON text and UTC timestamps."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def to_json(value: Any) -> str:
    if value == {} and type(value) is dict:  # most nodes' sampling and prompts' meta: skip the encoder
        return "{}"
    return json.dumps(value, ensure_ascii=False, default=str)


def from_json(text: str | None, default: Any = None) -> Any:
    if text is None:
        return default
    if text == "{}":  # most nodes' sampling/meta; skipping the parser saves ~1 s per 100k rows
        return {}
    return json.loads(text)


def utc(value: datetime | None) -> datetime | None:
    """Stored timestamps are UTC; a naive value from a caller is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def unique_by(items, key):
    """Keep the last item per key, in first-seen order (an upsert batch may not touch a row twice)."""
    chosen: dict[Any, Any] = {}
    for item in items:
        chosen[key(item)] = item
    return list(chosen.values())

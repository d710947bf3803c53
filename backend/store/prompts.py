"""Prompt queries: bulk add (idempotent by id), lookup, id listing and text search."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from backend.domain import Prompt, now
from backend.store.codec import from_json, to_json, unique_by
from backend.store.connection import Database


def like_pattern(text: str) -> str:
    """A case-insensitive substring pattern for ILIKE ... ESCAPE '\\' (the person's % and _ are literal)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def prompt_from_row(row: tuple) -> Prompt:
    id_, text, source, meta = row
    return Prompt(id=id_, text=text, source=source or "", meta=from_json(meta, {}))


class PromptQueries:
    _db: Database

    def add_prompts(self, prompts: Iterable[Prompt]) -> int:
        """Add prompts whose id is new; return how many were added. One bulk insert, not row by row."""
        batch = unique_by(prompts, key=lambda p: p.id)
        if not batch:
            return 0
        added_at = now()
        with self._db.transaction():
            before = self.count_prompts()
            first_seq = self._db.scalar("SELECT coalesce(max(seq), 0) + 1 FROM prompts")
            table = pa.table({
                "id": [p.id for p in batch],
                "text": [p.text for p in batch],
                "source": [p.source for p in batch],
                "meta": [to_json(p.meta) for p in batch],
                "added_at": pa.array([added_at] * len(batch), pa.timestamp("us", tz="UTC")),
                "seq": pa.array(range(first_seq, first_seq + len(batch)), pa.int64()),
            })
            with self._db.staged("incoming_prompts", table):
                self._db.execute(
                    "INSERT INTO prompts SELECT id, text, source, meta::JSON, added_at, seq "
                    "FROM incoming_prompts ON CONFLICT DO NOTHING"
                )
            return self.count_prompts() - before

    def get_prompt(self, prompt_id: str) -> Prompt | None:
        row = self._db.row("SELECT id, text, source, meta FROM prompts WHERE id = ?", [prompt_id])
        return None if row is None else prompt_from_row(row)

    def prompts_by_id(self, prompt_ids: Iterable[str]) -> dict[str, Prompt]:
        with self._db.id_set("lookup_prompts", list(prompt_ids)):
            rows = self._db.rows(
                "SELECT id, text, source, meta FROM prompts WHERE id IN (SELECT id FROM lookup_prompts)"
            )
        return {row[0]: prompt_from_row(row) for row in rows}

    def prompt_ids(self, limit: int | None = None, where: str | None = None) -> list[str]:
        """Prompt ids in the order they were added; `where` keeps those whose text contains it (any case)."""
        rows = self._db.rows(
            "SELECT id FROM prompts WHERE ($pattern IS NULL OR text ILIKE $pattern ESCAPE '\\') "
            "ORDER BY seq LIMIT $limit",
            {"pattern": like_pattern(where) if where else None, "limit": limit},
        )
        return [row[0] for row in rows]

    def prompt_ids_by_hash(self, salt: str, seed: int, count: int) -> list[str]:
        """The `count` prompt ids that rank lowest under sha256(salt, seed, id) joined by U+001F (its first
        8 bytes as a big-endian number, ties by id), sorted by id: backend.training.splits' order, whose
        first 16 hex digits compare as that number does."""
        if count <= 0:
            return []
        rows = self._db.rows(
            "SELECT id FROM (SELECT id FROM prompts ORDER BY substr(sha256(concat($salt, chr(31), "
            "CAST($seed AS VARCHAR), chr(31), id)), 1, 16), id LIMIT $count) ORDER BY id",
            {"salt": salt, "seed": seed, "count": count},
        )
        return [row[0] for row in rows]

    def count_prompts(self) -> int:
        return int(self._db.scalar("SELECT count(*) FROM prompts"))

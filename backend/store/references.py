"""Reference answers: a data set's own answer per prompt (UltraFeedback `chosen`), kept apart from
the trees (DESIGN.md §1.2). Stage II starts from them, Stage II DPO compares against them, and the
RSFT reference mix adds them to the SFT set."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC

import pyarrow as pa

from backend.domain import ReferenceAnswer
from backend.store.codec import from_json, to_json, utc
from backend.store.connection import Database

_COLUMNS = "prompt_id, text, source, meta, added_at::TIMESTAMP"


def _reference_from_row(row: tuple) -> ReferenceAnswer:
    prompt_id, text, source, meta, added_at = row
    return ReferenceAnswer(prompt_id=prompt_id, text=text, source=source or "", meta=from_json(meta, {}),
                           added_at=added_at.replace(tzinfo=UTC))


class ReferenceQueries:
    _db: Database

    def add_reference_answers(self, references: Iterable[ReferenceAnswer]) -> int:
        """Add the reference answers of prompts that have none yet (the first one stays); return how many."""
        first: dict[str, ReferenceAnswer] = {}
        for reference in references:
            first.setdefault(reference.prompt_id, reference)
        batch = list(first.values())
        if not batch:
            return 0
        table = pa.table({
            "prompt_id": [r.prompt_id for r in batch],
            "text": [r.text for r in batch],
            "source": [r.source for r in batch],
            "meta": [to_json(r.meta) for r in batch],
            "added_at": pa.array([utc(r.added_at) for r in batch], pa.timestamp("us", tz="UTC")),
        })
        with self._db.transaction():
            before = self.count_reference_answers()
            with self._db.staged("incoming_references", table):
                self._db.execute("INSERT INTO reference_answers SELECT prompt_id, text, source, meta::JSON, "
                                 "added_at FROM incoming_references ON CONFLICT DO NOTHING")
            return self.count_reference_answers() - before

    def reference_answer(self, prompt_id: str) -> ReferenceAnswer | None:
        """The prompt's reference answer, or None."""
        row = self._db.row(f"SELECT {_COLUMNS} FROM reference_answers WHERE prompt_id = ?", [prompt_id])
        return None if row is None else _reference_from_row(row)

    def reference_answers(self, prompt_ids: Sequence[str] | None = None) -> dict[str, ReferenceAnswer]:
        """Reference answers by prompt id: of these prompts (unknown ids are skipped), or of all."""
        if prompt_ids is None:
            rows = self._db.rows(f"SELECT {_COLUMNS} FROM reference_answers")
        else:
            with self._db.id_set("lookup_references", list(prompt_ids)):
                rows = self._db.rows(f"SELECT {_COLUMNS} FROM reference_answers "
                                     "WHERE prompt_id IN (SELECT id FROM lookup_references)")
        return {row[0]: _reference_from_row(row) for row in rows}

    def prompt_ids_with_reference(self) -> list[str]:
        """Prompts that have a reference answer, in the order the prompts were added."""
        rows = self._db.rows("SELECT r.prompt_id FROM reference_answers r JOIN prompts p ON p.id = r.prompt_id "
                             "ORDER BY p.seq")
        return [row[0] for row in rows]

    def count_reference_answers(self) -> int:
        return int(self._db.scalar("SELECT count(*) FROM reference_answers"))

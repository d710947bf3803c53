"""Many annotations at once (a merged project's, a benchmark's): appended in one insert, with one
refresh of the touched prompts' stats, where `add_annotation` refreshes them for every row."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from backend.domain import CLEAR_VERDICT, VERDICTS, Annotation
from backend.errors import BadInputError
from backend.store.codec import utc
from backend.store.connection import Database


class AnnotationBatchQueries:
    _db: Database

    def add_annotations(self, annotations: Iterable[Annotation]) -> int:
        """Append annotations (ids already stored are skipped); returns how many rows were given."""
        batch = list(annotations)
        if not batch:
            return 0
        bad = sorted({a.verdict for a in batch} - {*VERDICTS, CLEAR_VERDICT, None})
        if bad:
            raise BadInputError(f"unknown verdict(s) {bad}; use one of {', '.join(VERDICTS)} (or '' to clear)")
        table = pa.table({
            "id": [a.id for a in batch], "node_id": [a.node_id for a in batch],
            "verdict": pa.array([a.verdict for a in batch], pa.string()),
            "edited_text": pa.array([a.edited_text for a in batch], pa.string()),
            "author": [a.author for a in batch],
            "created_at": pa.array([utc(a.created_at) for a in batch], pa.timestamp("us", tz="UTC")),
        })
        with self._db.transaction():
            with self._db.staged("incoming_annotations", table):
                missing = self._db.scalar("SELECT count(*) FROM incoming_annotations i "
                                          "WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = i.node_id)")
                if missing:
                    raise BadInputError(f"{missing} annotation(s) name nodes this project does not have")
                self._db.execute("INSERT INTO annotations (id, node_id, verdict, edited_text, author, created_at) "
                                 "SELECT id, node_id, verdict, edited_text, author, created_at "
                                 "FROM incoming_annotations ON CONFLICT DO NOTHING")
            self.refresh_prompt_stats(self.prompt_ids_of_nodes(sorted({a.node_id for a in batch})))
        return len(batch)

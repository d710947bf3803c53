"""Parquet snapshots for the worker (it never opens the database) and project-wide counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.errors import BadInputError
from backend.store.connection import Database

# Snapshot name -> fixed query. JSON columns (context, messages, node_ids, meta) are written as JSON text.
EXPORT_QUERIES = {
    "prompts": "SELECT id, text, source, meta::VARCHAR AS meta FROM prompts ORDER BY seq",
    "nodes": "SELECT id, prompt_id, kind, parent_id, round, text, template_version, model, "
             "sampling::VARCHAR AS sampling, seed, self_rating, job_id, created_at FROM nodes "
             "ORDER BY prompt_id, created_at, id",
    "scores": "SELECT node_id, scorer, value, created_at FROM scores ORDER BY node_id, scorer",
    "annotations": "SELECT id, node_id, verdict, edited_text, author, created_at FROM annotations "
                   "ORDER BY created_at, seq",
    "pairs": "SELECT id, kind, prompt_id, context::VARCHAR AS context, chosen, rejected, decided_by, "
             "chosen_node_id, rejected_node_id, chosen_score, rejected_score FROM pairs ORDER BY prompt_id, kind, id",
    "sft": "SELECT id, kind, prompt_id, messages::VARCHAR AS messages, node_ids::VARCHAR AS node_ids "
           "FROM sft_samples ORDER BY prompt_id, id",
    "chains": "SELECT id, prompt_id, node_ids::VARCHAR AS node_ids, best_node_id, scores::VARCHAR AS scores, "
              "long_thought_node_id FROM chains ORDER BY prompt_id, id",
}


class ExportQueries:
    _db: Database

    def export_query_parquet(self, name: str, path: Path) -> int:
        """Write the named snapshot (one of EXPORT_QUERIES) to `path` as Parquet; return its row count."""
        if name not in EXPORT_QUERIES:
            raise BadInputError(f"unknown export {name!r}; use one of {', '.join(EXPORT_QUERIES)}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        relation = self._db.cursor.sql(EXPORT_QUERIES[name])
        relation.write_parquet(str(path))
        return int(self._db.scalar(f"SELECT count(*) FROM ({EXPORT_QUERIES[name]})"))

    def stats(self) -> dict[str, Any]:
        """Counts for `avr-studio stats` and the status bar."""
        scores = self._db.rows("SELECT scorer, count(*) FROM scores GROUP BY scorer ORDER BY scorer")
        return {
            "prompts": self.count_prompts(),
            "nodes": self.node_counts_by_kind(),
            "scores": {scorer: int(n) for scorer, n in scores},
            "verdicts": self.verdict_counts(),
            "pairs": self.pair_counts(),
            "sft": self.sft_counts(),
            "chains": int(self._db.scalar("SELECT count(*) FROM chains")),
        }

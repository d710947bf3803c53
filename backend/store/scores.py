"""Score queries: upsert by (node, scorer), per-prompt and per-node lookups, and the default scorer."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from backend.domain import Score
from backend.store.codec import unique_by, utc
from backend.store.connection import Database

PRIMARY_SCORER_SETTING = "primary_scorer"
LATEST_SCORER_SETTING = "latest_scorer"  # kept on write, so a page query need not scan all scores


class ScoreQueries:
    """Mixed into Store; writes refresh the prompt stats (SummaryQueries) of the scored nodes' prompts."""

    _db: Database

    def add_scores(self, scores: Iterable[Score]) -> int:
        """Write scores, replacing an earlier value of the same scorer on the same node; return rows written."""
        batch = unique_by(scores, key=lambda s: (s.node_id, s.scorer))
        if not batch:
            return 0
        table = pa.table({
            "node_id": [s.node_id for s in batch],
            "scorer": [s.scorer for s in batch],
            "value": pa.array([float(s.value) for s in batch], pa.float64()),
            "created_at": pa.array([utc(s.created_at) for s in batch], pa.timestamp("us", tz="UTC")),
        })
        with self._db.transaction():
            with self._db.staged("incoming_scores", table):
                self._db.execute(
                    "INSERT INTO scores SELECT node_id, scorer, value, created_at FROM incoming_scores "
                    "ON CONFLICT (node_id, scorer) DO UPDATE "
                    "SET value = excluded.value, created_at = excluded.created_at"
                )
            self.refresh_prompt_stats(self.prompt_ids_of_nodes(sorted({s.node_id for s in batch})))
            self.set_setting(LATEST_SCORER_SETTING, max(batch, key=lambda s: utc(s.created_at)).scorer)
        return len(batch)

    def scores_for_prompt(self, prompt_id: str, scorer: str | None = None) -> dict[str, float]:
        """node id -> value under `scorer` (default: `default_scorer()`) for the prompt's scored nodes."""
        scorer = scorer or self.default_scorer()
        if scorer is None:
            return {}
        rows = self._db.rows(
            "SELECT s.node_id, s.value FROM scores s JOIN nodes n ON n.id = s.node_id "
            "WHERE n.prompt_id = ? AND s.scorer = ?",
            [prompt_id, scorer],
        )
        return dict(rows)

    def node_scores(self, node_id: str) -> dict[str, float]:
        """scorer -> value for one node, every scorer that scored it."""
        return dict(self._db.rows("SELECT scorer, value FROM scores WHERE node_id = ? ORDER BY scorer",
                                  [node_id]))

    def scorers(self) -> list[str]:
        return [row[0] for row in self._db.rows("SELECT DISTINCT scorer FROM scores ORDER BY scorer")]

    def default_scorer(self) -> str | None:
        """The 'primary_scorer' setting if set, else the scorer of the most recently written score."""
        for key in (PRIMARY_SCORER_SETTING, LATEST_SCORER_SETTING):
            value = self.get_setting(key)
            if value:
                return str(value)
        return self._db.scalar("SELECT arg_max(scorer, created_at) FROM scores")

    def set_primary_scorer(self, scorer: str | None) -> None:
        """Pin the scorer that ranks nodes everywhere; None goes back to 'most recently written'."""
        self.set_setting(PRIMARY_SCORER_SETTING, scorer)

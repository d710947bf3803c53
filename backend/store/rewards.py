"""Project-wide reward distributions under one scorer, aggregated by DuckDB in one query each."""

from __future__ import annotations

from backend.domain import TREE_ANSWER_KINDS
from backend.store.connection import Database

_ANSWER_KINDS_SQL = ", ".join(f"'{kind}'" for kind in TREE_ANSWER_KINDS)  # fixed literals, not input


class RewardQueries:
    _db: Database

    def answer_rewards(self, scorer: str) -> list[float]:
        """R(x, y) of every scored answer (response or improvement) under `scorer`."""
        rows = self._db.execute(
            f"SELECT s.value FROM scores s JOIN nodes n ON n.id = s.node_id "
            f"WHERE s.scorer = ? AND n.kind IN ({_ANSWER_KINDS_SQL})", [scorer]).fetchnumpy()
        return rows["value"].tolist()

    def improvement_gains(self, scorer: str) -> list[float]:
        """Δ = R(x, y') − R(x, y) of every scored improvement whose judged answer is scored too."""
        rows = self._db.execute(
            "SELECT si.value - sa.value AS gain FROM nodes i "
            "JOIN nodes c ON c.id = i.parent_id "
            "JOIN scores si ON si.node_id = i.id AND si.scorer = $scorer "
            "JOIN scores sa ON sa.node_id = c.parent_id AND sa.scorer = $scorer "
            "WHERE i.kind = 'improvement'", {"scorer": scorer}).fetchnumpy()
        return rows["gain"].tolist()

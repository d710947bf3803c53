"""Every scorer's scores of one prompt's nodes in one query: the tree views rank by the project's
ranking scorer and show the others beside it (node panel, a second tree under another scorer)."""

from __future__ import annotations

from backend.store.connection import Database


class PromptScoreQueries:
    _db: Database

    def prompt_scores_by_scorer(self, prompt_id: str) -> dict[str, dict[str, float]]:
        """scorer -> node id -> value, for the prompt's scored nodes."""
        by_scorer: dict[str, dict[str, float]] = {}
        for scorer, node_id, value in self._db.rows(
                "SELECT s.scorer, s.node_id, s.value FROM scores s JOIN nodes n ON n.id = s.node_id "
                "WHERE n.prompt_id = ?", [prompt_id]):
            by_scorer.setdefault(scorer, {})[node_id] = value
        return by_scorer

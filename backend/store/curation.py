"""Annotations (append-only) and the curation state derived from them.

Conventions, since history is never updated or deleted:
- `verdict` None keeps the node's verdict (an edit only); `verdict` "" clears it (domain.CLEAR_VERDICT);
- `edited_text` None keeps the current text; `edited_text` "" reverts to the model's text (domain.REVERT_EDIT).
The current state of a node is its latest non-None verdict and latest non-None edit, with "" meaning none.
"""

from __future__ import annotations

from backend.domain import CLEAR_VERDICT, VERDICTS, Annotation, NodeState
from backend.errors import BadInputError
from backend.store.codec import utc
from backend.store.connection import Database


def annotation_from_row(row: tuple) -> Annotation:
    id_, node_id, verdict, edited_text, author, created_at = row
    return Annotation(node_id=node_id, verdict=verdict, edited_text=edited_text, author=author or "",
                      id=id_, created_at=created_at)


class AnnotationQueries:
    """Mixed into Store; each annotation refreshes its prompt's stats (SummaryQueries)."""

    _db: Database

    def add_annotation(self, annotation: Annotation) -> None:
        """Append one act of a person. Never updates or deletes: undo appends the previous state again."""
        if annotation.verdict not in (*VERDICTS, CLEAR_VERDICT, None):
            raise BadInputError(
                f"unknown verdict {annotation.verdict!r}; use one of {', '.join(VERDICTS)} "
                "(or '' to clear the verdict)"
            )
        with self._db.transaction():
            prompt_id = self._db.scalar("SELECT prompt_id FROM nodes WHERE id = ?", [annotation.node_id])
            if prompt_id is None:
                raise BadInputError(f"there is no node {annotation.node_id!r} in this project to annotate")
            self._db.execute(
                "INSERT INTO annotations (id, node_id, verdict, edited_text, author, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [annotation.id, annotation.node_id, annotation.verdict, annotation.edited_text,
                 annotation.author, utc(annotation.created_at)],
            )
            self.refresh_prompt_stats([prompt_id])

    def annotation_history(self, node_id: str) -> list[Annotation]:
        """Every annotation of the node, oldest first."""
        rows = self._db.rows(
            "SELECT id, node_id, verdict, edited_text, author, created_at FROM annotations "
            "WHERE node_id = ? ORDER BY created_at, seq",
            [node_id],
        )
        return [annotation_from_row(row) for row in rows]

    def node_state(self, node_id: str) -> NodeState:
        row = self._db.row(
            "SELECT verdict, edited_text FROM current_node_states WHERE node_id = ?", [node_id]
        )
        return NodeState() if row is None else NodeState(verdict=row[0], edited_text=row[1])

    def node_states(self, prompt_id: str) -> dict[str, NodeState]:
        """node id -> current state, for the prompt's nodes that have a verdict or an edit."""
        rows = self._db.rows(
            "SELECT s.node_id, s.verdict, s.edited_text FROM current_node_states s "
            "JOIN nodes n ON n.id = s.node_id WHERE n.prompt_id = ?",
            [prompt_id],
        )
        return {node_id: NodeState(verdict=v, edited_text=e) for node_id, v, e in rows}

    def verdict_counts(self) -> dict[str, int]:
        """How many nodes currently carry each verdict."""
        rows = self._db.rows(
            "SELECT verdict, count(*) FROM current_node_states WHERE verdict IS NOT NULL "
            "GROUP BY verdict ORDER BY verdict"
        )
        return {verdict: int(n) for verdict, n in rows}

"""Results refused because their place in a Stage I tree was already taken, kept beside the tree.

A Stage I tree has one root answer, `k` criticisms under it and `m` improvements under each. When two
runs grow the same slot (a killed job's orphaned worker journals a node after a new run has read the
database), ingest keeps the node that came first in the tree and the other one here, with the ids of
the nodes that hold the slot, so that both texts stay visible and the tree is never overfull.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backend.domain import IMPORTED_MODEL, Node, now
from backend.store.codec import from_json, to_json
from backend.store.connection import Database


@dataclass(frozen=True)
class SlotConflict:
    """A refused node: its text, the slot it wanted (prompt, parent, kind) and who holds that slot."""

    node_id: str
    job_id: str
    prompt_id: str
    kind: str
    parent_id: str | None
    text: str
    reason: str
    occupants: tuple[str, ...] = ()  # ids of the stored nodes that fill the slot
    scores: dict[str, float] = field(default_factory=dict)  # scorer label -> value the job gave it
    created_at: datetime | None = None


class SlotConflictQueries:
    _db: Database

    # -- what holds a slot ----------------------------------------------------------------------------
    def stage1_roots(self, prompt_ids: Sequence[str]) -> dict[str, list[str]]:
        """Per prompt, its round-0 response roots that a Stage I tree grows from: generated ones, and
        imported ones that already have round-0 criticisms (`backend.avr.tree.first_response`)."""
        if not prompt_ids:
            return {}
        with self._db.id_set("conflict_prompts", sorted(set(prompt_ids))):
            rows = self._db.rows(
                """SELECT r.prompt_id, r.id FROM nodes r
                   WHERE r.prompt_id IN (SELECT id FROM conflict_prompts) AND r.kind = 'response'
                     AND r.parent_id IS NULL AND r.round = 0
                     AND (r.model <> ? OR EXISTS (SELECT 1 FROM nodes c WHERE c.parent_id = r.id
                                                  AND c.kind = 'criticism' AND c.round = 0))
                   ORDER BY r.created_at, r.id""", [IMPORTED_MODEL])
        roots: dict[str, list[str]] = {}
        for prompt_id, node_id in rows:
            roots.setdefault(prompt_id, []).append(node_id)
        return roots

    def round0_children(self, parent_ids: Sequence[str]) -> dict[tuple[str, str], list[str]]:
        """(parent id, kind) -> ids of its stored round-0 criticisms or improvements, oldest first."""
        if not parent_ids:
            return {}
        with self._db.id_set("conflict_parents", sorted(set(parent_ids))):
            rows = self._db.rows(
                """SELECT parent_id, kind, id FROM nodes
                   WHERE parent_id IN (SELECT id FROM conflict_parents) AND round = 0
                     AND kind IN ('criticism', 'improvement') ORDER BY created_at, id""")
        children: dict[tuple[str, str], list[str]] = {}
        for parent_id, kind, node_id in rows:
            children.setdefault((parent_id, kind), []).append(node_id)
        return children

    def stored_node_ids(self, node_ids: Sequence[str]) -> set[str]:
        """Which of these ids are stored nodes."""
        if not node_ids:
            return set()
        with self._db.id_set("conflict_lookup", sorted(set(node_ids))):
            return {row[0] for row in self._db.rows(
                "SELECT id FROM nodes WHERE id IN (SELECT id FROM conflict_lookup)")}

    # -- refused nodes --------------------------------------------------------------------------------
    def add_slot_conflicts(self, refused: Iterable[tuple[Node, str, Sequence[str], dict[str, Any]]]) -> int:
        """Keep refused nodes as (node, reason, occupant ids, journal record); a node kept before stays
        as it was. Returns how many were new."""
        rows = [[node.id, node.job_id or "", node.prompt_id, node.kind, node.parent_id, node.text, reason,
                 to_json(list(occupants)), "{}", to_json(record), now()]
                for node, reason, occupants, record in refused]
        if not rows:
            return 0
        before = self._db.scalar("SELECT count(*) FROM slot_conflicts")
        self._db.executemany(
            "INSERT INTO slot_conflicts VALUES (?, ?, ?, ?, ?, ?, ?, ?::JSON, ?::JSON, ?::JSON, ?) "
            "ON CONFLICT DO NOTHING", rows)
        return int(self._db.scalar("SELECT count(*) FROM slot_conflicts") - before)

    def refused_node_ids(self, node_ids: Sequence[str]) -> set[str]:
        """Which of these ids are refused nodes."""
        if not node_ids:
            return set()
        with self._db.id_set("conflict_lookup", sorted(set(node_ids))):
            return {row[0] for row in self._db.rows(
                "SELECT node_id FROM slot_conflicts WHERE node_id IN (SELECT id FROM conflict_lookup)")}

    def add_conflict_score(self, node_id: str, scorer: str, value: float) -> None:
        """The score a job gave a refused node stays with it (the tree has no place for it)."""
        scores = from_json(self._db.scalar("SELECT scores FROM slot_conflicts WHERE node_id = ?", [node_id]), {})
        scores[scorer] = value
        self._db.execute("UPDATE slot_conflicts SET scores = ?::JSON WHERE node_id = ?", [to_json(scores), node_id])

    def slot_conflicts(self, prompt_id: str | None = None) -> list[SlotConflict]:
        """The refused nodes (of one prompt, or all), oldest first."""
        where, params = ("WHERE prompt_id = ?", [prompt_id]) if prompt_id is not None else ("", [])
        rows = self._db.rows(
            "SELECT node_id, job_id, prompt_id, kind, parent_id, text, reason, occupants, scores, "
            f"created_at::TIMESTAMP FROM slot_conflicts {where} ORDER BY created_at, node_id", params)
        return [SlotConflict(node_id, job_id, pid, kind, parent_id, text, reason,
                             tuple(from_json(occupants, [])), from_json(scores, {}), at.replace(tzinfo=UTC))
                for node_id, job_id, pid, kind, parent_id, text, reason, occupants, scores, at in rows]

    def count_slot_conflicts(self) -> int:
        return int(self._db.scalar("SELECT count(*) FROM slot_conflicts"))

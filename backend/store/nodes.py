"""Node queries: bulk add (idempotent by id), lookup, per-prompt listing and counts by kind."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC

import pyarrow as pa

from backend.domain import Node
from backend.store.codec import from_json, to_json, unique_by, utc
from backend.store.connection import Database

NODE_COLUMNS = ("id, prompt_id, kind, parent_id, round, text, template_version, model, sampling, seed, "
                "self_rating, job_id, created_at")
# Reads take created_at as a naive UTC TIMESTAMP and add the zone in Python: twice as fast to fetch
# as TIMESTAMPTZ, whose per-row zone lookup dominated loading 70k nodes.
NODE_SELECT = NODE_COLUMNS.replace("created_at", "created_at::TIMESTAMP")


def node_from_row(row: tuple) -> Node:
    (id_, prompt_id, kind, parent_id, round_, text, template_version, model, sampling, seed,
     self_rating, job_id, created_at) = row
    return Node(id=id_, prompt_id=prompt_id, kind=kind, text=text, parent_id=parent_id, round=round_,
                template_version=template_version, model=model or "", sampling=from_json(sampling, {}),
                seed=seed, self_rating=self_rating, job_id=job_id, created_at=created_at.replace(tzinfo=UTC))


def nodes_table(nodes: Sequence[Node]) -> pa.Table:
    return pa.table({
        "id": [n.id for n in nodes],
        "prompt_id": [n.prompt_id for n in nodes],
        "kind": [n.kind for n in nodes],
        "parent_id": pa.array([n.parent_id for n in nodes], pa.string()),
        "round": pa.array([n.round for n in nodes], pa.int32()),
        "text": [n.text for n in nodes],
        "template_version": pa.array([n.template_version for n in nodes], pa.string()),
        "model": [n.model for n in nodes],
        "sampling": [to_json(n.sampling) for n in nodes],
        "seed": pa.array([n.seed for n in nodes], pa.int64()),
        "self_rating": pa.array([n.self_rating for n in nodes], pa.int32()),
        "job_id": pa.array([n.job_id for n in nodes], pa.string()),
        "created_at": pa.array([utc(n.created_at) for n in nodes], pa.timestamp("us", tz="UTC")),
    })


class NodeQueries:
    """Mixed into Store; writes call `refresh_prompt_stats` (SummaryQueries) for the prompts they touch."""

    _db: Database

    def add_nodes(self, nodes: Iterable[Node]) -> int:
        """Add nodes whose id is new; return how many were added (re-importing a journal adds nothing)."""
        batch = unique_by(nodes, key=lambda n: n.id)
        if not batch:
            return 0
        with self._db.transaction():
            before = self._db.scalar("SELECT count(*) FROM nodes")
            with self._db.staged("incoming_nodes", nodes_table(batch)):
                self._db.execute(
                    f"INSERT INTO nodes SELECT {NODE_COLUMNS} FROM incoming_nodes ON CONFLICT DO NOTHING"
                )
            added = self._db.scalar("SELECT count(*) FROM nodes") - before
            if added:
                self.refresh_prompt_stats(sorted({n.prompt_id for n in batch}))
        return int(added)

    def get_node(self, node_id: str) -> Node | None:
        row = self._db.row(f"SELECT {NODE_SELECT} FROM nodes WHERE id = ?", [node_id])
        return None if row is None else node_from_row(row)

    def nodes_for_prompt(self, prompt_id: str) -> list[Node]:
        """The prompt's nodes, oldest first (so parents come before their children)."""
        rows = self._db.rows(
            f"SELECT {NODE_SELECT} FROM nodes WHERE prompt_id = ? ORDER BY created_at, id", [prompt_id]
        )
        return [node_from_row(row) for row in rows]

    def node_counts_by_kind(self) -> dict[str, int]:
        rows = self._db.rows("SELECT kind, count(*) FROM nodes GROUP BY kind ORDER BY kind")
        return {kind: int(n) for kind, n in rows}

    def prompt_ids_of_nodes(self, node_ids: Sequence[str]) -> list[str]:
        with self._db.id_set("lookup_nodes", node_ids):
            rows = self._db.rows("SELECT DISTINCT prompt_id FROM nodes WHERE id IN (SELECT id FROM lookup_nodes)")
        return sorted(row[0] for row in rows)

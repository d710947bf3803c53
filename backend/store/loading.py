"""Bulk reads for pair building: many prompts' nodes, scores and states in a few queries per chunk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from backend.domain import Node, NodeState, Prompt
from backend.store.connection import Database
from backend.store.nodes import NODE_SELECT, node_from_row

TREE_CHUNK = 2000  # prompts per round of queries: big enough to amortise, small enough to stream

TreeInput = tuple[Prompt, list[Node], dict[str, float], dict[str, NodeState]]


class LoadingQueries:
    _db: Database

    def prompt_ids_with_nodes(self) -> list[str]:
        rows = self._db.rows(
            "SELECT p.id FROM prompts p WHERE EXISTS (SELECT 1 FROM nodes n WHERE n.prompt_id = p.id) "
            "ORDER BY p.seq"
        )
        return [row[0] for row in rows]

    def tree_inputs(self, prompt_ids: Sequence[str] | None = None,
                    scorer: str | None = None) -> Iterator[TreeInput]:
        """(prompt, its nodes oldest first, node id -> score under `scorer`, node id -> state) per prompt.

        `prompt_ids` None means every prompt that has nodes; `scorer` None means `default_scorer()`.
        Unknown prompt ids are skipped.
        """
        ids = list(prompt_ids) if prompt_ids is not None else self.prompt_ids_with_nodes()
        scorer = scorer or self.default_scorer()
        for start in range(0, len(ids), TREE_CHUNK):
            yield from self._tree_chunk(ids[start:start + TREE_CHUNK], scorer)

    def _tree_chunk(self, ids: list[str], scorer: str | None) -> Iterator[TreeInput]:
        prompts = self.prompts_by_id(ids)
        with self._db.id_set("chunk_prompts", ids):
            nodes, scores, states = self._chunk_rows(scorer)
        for prompt_id in ids:
            prompt = prompts.get(prompt_id)
            if prompt is not None:
                yield prompt, nodes.get(prompt_id, []), scores.get(prompt_id, {}), states.get(prompt_id, {})

    def _chunk_rows(self, scorer: str | None) -> tuple[dict, dict, dict]:
        nodes: dict[str, list[Node]] = defaultdict(list)
        for row in self._db.rows(
            f"SELECT {NODE_SELECT} FROM nodes WHERE prompt_id IN (SELECT id FROM chunk_prompts) "
            "ORDER BY prompt_id, created_at, id"
        ):
            nodes[row[1]].append(node_from_row(row))
        scores: dict[str, dict[str, float]] = defaultdict(dict)
        if scorer is not None:
            for prompt_id, node_id, value in self._db.rows(
                "SELECT n.prompt_id, s.node_id, s.value FROM scores s JOIN nodes n ON n.id = s.node_id "
                "WHERE s.scorer = ? AND n.prompt_id IN (SELECT id FROM chunk_prompts)",
                [scorer],
            ):
                scores[prompt_id][node_id] = value
        states: dict[str, dict[str, NodeState]] = defaultdict(dict)
        for prompt_id, node_id, verdict, edited in self._db.rows(
            "SELECT n.prompt_id, s.node_id, s.verdict, s.edited_text FROM current_node_states s "
            "JOIN nodes n ON n.id = s.node_id WHERE n.prompt_id IN (SELECT id FROM chunk_prompts)"
        ):
            states[prompt_id][node_id] = NodeState(verdict=verdict, edited_text=edited)
        return nodes, scores, states

"""Bulk reads for pair building: many prompts' nodes, scores and states in a few queries per chunk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC

from backend.domain import Node, NodeState, Prompt
from backend.store.connection import Database
from backend.store.nodes import NODE_SELECT, node_from_row

# What pair building reads of a node; the rest (model, sampling, seed, ...) is left at its default.
_TREE_SELECT = "id, prompt_id, kind, parent_id, round, text, template_version, model, created_at::TIMESTAMP"
_DEFAULT_NODE_FIELDS = Node("", "", "", "").__dict__

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
                    scorer: str | None = None, tree_fields_only: bool = False) -> Iterator[TreeInput]:
        """(prompt, its nodes oldest first, node id -> score under `scorer`, node id -> state) per prompt.

        `prompt_ids` None means every prompt that has nodes; `scorer` None means `default_scorer()`.
        Unknown prompt ids are skipped. `tree_fields_only` loads only what pair building reads (id,
        prompt, kind, parent, round, text, template version, model, created_at), twice as fast; the other
        fields keep their defaults.
        """
        ids = list(prompt_ids) if prompt_ids is not None else self.prompt_ids_with_nodes()
        scorer = scorer or self.default_scorer()
        for start in range(0, len(ids), TREE_CHUNK):
            yield from self._tree_chunk(ids[start:start + TREE_CHUNK], scorer, tree_fields_only)

    def _tree_chunk(self, ids: list[str], scorer: str | None, tree_fields_only: bool) -> Iterator[TreeInput]:
        prompts = self.prompts_by_id(ids)
        with self._db.id_set("chunk_prompts", ids):
            nodes, scores, states = self._chunk_rows(scorer, tree_fields_only)
        for prompt_id in ids:
            prompt = prompts.get(prompt_id)
            if prompt is not None:
                yield prompt, nodes.get(prompt_id, []), scores.get(prompt_id, {}), states.get(prompt_id, {})

    def _chunk_rows(self, scorer: str | None, tree_fields_only: bool = False) -> tuple[dict, dict, dict]:
        nodes: dict[str, list[Node]] = defaultdict(list)
        rows = self._db.rows(
            f"SELECT {_TREE_SELECT if tree_fields_only else NODE_SELECT} FROM nodes "
            "WHERE prompt_id IN (SELECT id FROM chunk_prompts) ORDER BY prompt_id, created_at, id"
        )
        make = _tree_node_from_row if tree_fields_only else node_from_row
        for row in rows:
            nodes[row[1]].append(make(row))
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


def _tree_node_from_row(row: tuple) -> Node:
    """A Node with the tree fields of `_TREE_SELECT`. Filled through its __dict__: a frozen
    dataclass's __init__ sets each field through object.__setattr__, half the cost of a bulk load."""
    node = object.__new__(Node)
    fields = node.__dict__
    fields.update(_DEFAULT_NODE_FIELDS)
    (fields["id"], fields["prompt_id"], fields["kind"], fields["parent_id"], fields["round"], fields["text"],
     fields["template_version"], fields["model"], created_at) = row
    fields["sampling"] = {}
    fields["created_at"] = created_at.replace(tzinfo=UTC)
    return node

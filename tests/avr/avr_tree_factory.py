"""Hand-built refinement trees for the backend.avr tests (nodes in creation order, scores, states)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from backend.avr.tree import TreeNode, build_trees
from backend.domain import Node, NodeState, Prompt

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PROMPT = Prompt("p", "Name two uses of baking soda.")


class TreeFactory:
    """Collects nodes with increasing created_at, their scores and curation states."""

    def __init__(self, prompt_id: str = PROMPT.id) -> None:
        self.prompt_id = prompt_id
        self.nodes: list[Node] = []
        self.scores: dict[str, float] = {}
        self.states: dict[str, NodeState] = {}

    def add(self, node_id: str, kind: str, text: str, parent: str | None = None, score: float | None = None,
            verdict: str | None = None, edited: str | None = None, template_version: str | None = None,
            round: int = 0, prompt_id: str | None = None) -> TreeFactory:
        self.nodes.append(Node(node_id, prompt_id or self.prompt_id, kind, text, parent_id=parent,
                               round=round, template_version=template_version,
                               created_at=T0 + timedelta(seconds=len(self.nodes))))
        if score is not None:
            self.scores[node_id] = score
        if verdict is not None or edited is not None:
            self.states[node_id] = NodeState(verdict, edited)
        return self

    def judge(self, node_id: str, verdict: str | None = None, edited: str | None = None) -> TreeFactory:
        self.states[node_id] = NodeState(verdict, edited)
        return self

    def change(self, node_ids: str | list[str], **fields) -> TreeFactory:
        """Replace fields (text, template_version, ...) of the named nodes."""
        ids = {node_ids} if isinstance(node_ids, str) else set(node_ids)
        self.nodes = [replace(n, **fields) if n.id in ids else n for n in self.nodes]
        return self

    def roots(self) -> list[TreeNode]:
        return build_trees(self.nodes, self.scores, self.states)


Y = "Baking soda is used in cooking."
C1 = "The answer gives only one use although two were asked. Rating: [[3]]"
C2 = "Short but correct; it could name a household use too. Rating: [[6]]"
I11 = "Baking soda leavens cakes and it can scrub stains off pans."
I12 = "It is used in baking and as a mild cleaner."
I21 = "Baking soda is used in cooking and baking."
I22 = "Cooking, and deodorising the fridge."


def baking_soda_tree(y=-0.12, i11=1.92, i12=1.41, i21=-0.35, i22=0.88) -> TreeFactory:
    """The 2×2 tree of shared/samples/avr-stage1-scoring-detail.jsonl (first line), scores as given.

    Node ids: y; c1 → i11, i12; c2 → i21, i22.
    """
    t = {"y": Y, "c1": C1, "c2": C2, "i11": I11, "i12": I12, "i21": I21, "i22": I22}
    return (TreeFactory()
            .add("y", "response", t["y"], score=y)
            .add("c1", "criticism", t["c1"], "y")
            .add("i11", "improvement", t["i11"], "c1", score=i11)
            .add("i12", "improvement", t["i12"], "c1", score=i12)
            .add("c2", "criticism", t["c2"], "y")
            .add("i21", "improvement", t["i21"], "c2", score=i21)
            .add("i22", "improvement", t["i22"], "c2", score=i22))

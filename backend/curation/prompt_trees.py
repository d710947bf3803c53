"""One prompt's refinement trees as the app shows them: every node with its score under one scorer,
its curation state, its parent and its refinement-aware reward (`backend.avr.rewards`).

Qt-free, so the app's panels share one loaded copy (`avr_studio/models/current_prompt.py`) and a test
or a script can load the same thing headless.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from backend.avr.rewards import NodeReward, node_rewards
from backend.avr.tree import TreeNode, build_trees


@dataclass
class PromptTrees:
    """A prompt's trees with every node's reward and parent at hand. Empty: `PromptTrees("", [])`."""

    prompt_id: str
    roots: list[TreeNode]
    scorer: str | None = None
    by_id: dict[str, TreeNode] = field(default_factory=dict)
    parent_of: dict[str, str | None] = field(default_factory=dict)
    rewards: dict[str, NodeReward] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for root in self.roots:
            self.rewards.update(node_rewards(root))
            self.parent_of[root.id] = None
            for tree_node in root.walk():
                self.by_id[tree_node.id] = tree_node
                for child in tree_node.children:
                    self.parent_of[child.id] = tree_node.id

    @classmethod
    def load(cls, store, prompt_id: str, scorer: str | None = None) -> PromptTrees:
        """Read the prompt's nodes, their scores under `scorer` (default: the store's default scorer)
        and their curation states: three queries."""
        scorer = scorer or store.default_scorer()
        scores = store.scores_for_prompt(prompt_id, scorer) if scorer else {}
        roots = build_trees(store.nodes_for_prompt(prompt_id), scores, store.node_states(prompt_id))
        return cls(prompt_id, roots, scorer)

    def nodes(self) -> Iterator[TreeNode]:
        """Every node, tree by tree, depth first."""
        for root in self.roots:
            yield from root.walk()

    def parent(self, node_id: str) -> TreeNode | None:
        parent_id = self.parent_of.get(node_id)
        return self.by_id.get(parent_id) if parent_id else None

    def reward(self, node_id: str) -> NodeReward:
        return self.rewards.get(node_id) or NodeReward(None)

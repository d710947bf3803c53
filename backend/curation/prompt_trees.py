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
from backend.domain import Prompt, ReferenceAnswer


@dataclass
class PromptTrees:
    """A prompt's trees with every node's reward and parent at hand. Empty: `PromptTrees("", [])`."""

    prompt_id: str
    roots: list[TreeNode]
    scorer: str | None = None
    # Every scorer's scores of these nodes (scorer -> node id -> value), when loaded with them.
    scores_by_scorer: dict[str, dict[str, float]] = field(default_factory=dict)
    prompt: Prompt | None = None  # the question, shown above the texts it compares
    reference: ReferenceAnswer | None = None  # the data set's own answer, when there is one
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
        """Read the prompt with its reference answer, its nodes, every scorer's scores of them (nodes
        ranked by `scorer`, default: the project's ranking scorer) and their curation states: four queries."""
        scorer = scorer or store.default_scorer()
        prompt, reference = store.prompt_and_reference(prompt_id)
        by_scorer = store.prompt_scores_by_scorer(prompt_id)
        roots = build_trees(store.nodes_for_prompt(prompt_id), by_scorer.get(scorer, {}) if scorer else {},
                            store.node_states(prompt_id))
        return cls(prompt_id, roots, scorer, by_scorer, prompt=prompt, reference=reference)

    def under(self, scorer: str) -> PromptTrees:
        """The same trees ranked by another scorer of `scores_by_scorer` (no query).

        Nodes are copied, so the two sets of trees can be shown side by side."""
        scores = self.scores_by_scorer.get(scorer, {})
        nodes = [tree_node.node for tree_node in self.nodes()]
        states = {tree_node.id: tree_node.state for tree_node in self.nodes()}
        return PromptTrees(self.prompt_id, build_trees(nodes, scores, states), scorer, self.scores_by_scorer,
                           prompt=self.prompt, reference=self.reference)

    def node_scores(self, node_id: str) -> dict[str, float]:
        """scorer -> value for one node, every scorer loaded with the trees."""
        return {scorer: values[node_id] for scorer, values in sorted(self.scores_by_scorer.items())
                if node_id in values}

    def nodes(self) -> Iterator[TreeNode]:
        """Every node, tree by tree, depth first."""
        for root in self.roots:
            yield from root.walk()

    def parent(self, node_id: str) -> TreeNode | None:
        parent_id = self.parent_of.get(node_id)
        return self.by_id.get(parent_id) if parent_id else None

    def reward(self, node_id: str) -> NodeReward:
        return self.rewards.get(node_id) or NodeReward(None)

"""Which node a person decides next: the nodes of a prompt's trees that take a verdict (responses,
criticisms, improvements) and have none yet, in reading order (depth first: an answer, then each
criticism followed by its improvements). A skip counts as decided: it says "seen".
"""

from __future__ import annotations

from backend.curation.prompt_trees import PromptTrees
from backend.domain import VERDICT_NODE_KINDS


def undecided_ids(trees: PromptTrees) -> list[str]:
    """The undecided nodes in reading order.

    >>> from backend.avr.tree import build_trees
    >>> from backend.domain import Node, NodeState
    >>> nodes = [Node("r", "p", "response", "y"), Node("c", "p", "criticism", "c", parent_id="r"),
    ...          Node("i", "p", "improvement", "y2", parent_id="c")]
    >>> undecided_ids(PromptTrees("p", build_trees(nodes, {}, {"c": NodeState("accept")})))
    ['r', 'i']
    """
    return [n.id for n in trees.nodes() if n.kind in VERDICT_NODE_KINDS and not n.verdict]


def next_undecided(trees: PromptTrees, after: str | None = None) -> str | None:
    """The first undecided node after `after` in reading order, wrapping round to the first; None when
    every node is decided. With `after` None (or not in the trees), the first undecided node.

    >>> from backend.avr.tree import build_trees
    >>> from backend.domain import Node
    >>> nodes = [Node("r", "p", "response", "y"), Node("c", "p", "criticism", "c", parent_id="r"),
    ...          Node("i", "p", "improvement", "y2", parent_id="c")]
    >>> trees = PromptTrees("p", build_trees(nodes, {}, {}))
    >>> next_undecided(trees, "c"), next_undecided(trees, "i"), next_undecided(trees)
    ('i', 'r', 'r')
    """
    order = [n.id for n in trees.nodes()]
    undecided = set(undecided_ids(trees))
    if not undecided:
        return None
    start = order.index(after) + 1 if after in trees.by_id else 0
    for node_id in order[start:] + order[:start]:
        if node_id in undecided and node_id != after:
            return node_id
    return None

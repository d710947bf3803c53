"""Refinement trees: stored nodes with their score and curation state, nested parent → children.

A tree is rooted at a response (or a long_thought); criticisms hang under answers, improvements under
criticisms, and Stage II chains nest deeper (an improvement's criticisms, their improvements, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from backend.domain import ANSWER_NODE_KINDS, IMPORTED_MODEL, Node, NodeState

ROOT_KINDS = frozenset({"response", "long_thought"})
NO_STATE = NodeState()


@dataclass(eq=False)
class TreeNode:
    """One node of a refinement tree. Identity equality: two TreeNodes are equal only if they are one."""

    node: Node
    score: float | None = None
    state: NodeState = NO_STATE
    children: list[TreeNode] = field(default_factory=list)
    order: int = 0  # place in creation order, (created_at, id), among the nodes build_trees was given

    @property
    def text(self) -> str:
        """The text training uses: the person's edit if there is one, else the model's."""
        edited = self.state.edited_text
        return self.node.text if edited is None else edited

    @property
    def verdict(self) -> str | None:
        return self.state.verdict

    @property
    def is_edited(self) -> bool:
        edited = self.state.edited_text
        return edited is not None and edited != self.node.text

    @property
    def id(self) -> str:
        return self.node.id

    @property
    def kind(self) -> str:
        return self.node.kind

    @property
    def is_answer(self) -> bool:
        return self.node.kind in ANSWER_NODE_KINDS

    def walk(self) -> Iterable[TreeNode]:
        """This node and every descendant, depth first, children in order."""
        stack = [self]
        while stack:
            current = stack.pop()
            yield current
            stack.extend(reversed(current.children))


def order_key(tree_node: TreeNode) -> int:
    """Creation order, (created_at, id), as numbered by build_trees. Imported nodes get created_at
    offsets by their place in the file, so for them this is the file's order."""
    return tree_node.order


def _creation_key(node: Node) -> tuple:
    return (node.created_at, node.id)


def build_trees(
    nodes: Iterable[Node],
    scores: Mapping[str, float],
    states: Mapping[str, NodeState],
    in_creation_order: bool = False,
) -> list[TreeNode]:
    """Nest nodes under their parents and return the roots (responses and long thoughts).

    Roots and every children list are sorted by (created_at, id), so the first response of a prompt
    is its round-0 Stage I tree. A node whose parent is not among `nodes` cannot be placed and is
    left out (with a store that keeps parents, that happens only when the caller passes a subset).
    `in_creation_order`: the caller promises `nodes` are already sorted by (created_at, id) (the
    store's loads are), which saves the sort.

    >>> from backend.domain import Node
    >>> r = Node("r", "p", "response", "y")
    >>> c = Node("c", "p", "criticism", "c", parent_id="r")
    >>> [root] = build_trees([c, r], {"r": 0.5}, {})
    >>> root.score, [child.id for child in root.children]
    (0.5, ['c'])
    """
    ordered = nodes if in_creation_order else sorted(nodes, key=_creation_key)
    by_id: dict[str, TreeNode] = {}
    get_score, get_state = scores.get, states.get
    for order, node in enumerate(ordered):
        node_id = node.id
        by_id[node_id] = TreeNode(node, get_score(node_id), get_state(node_id) or NO_STATE, [], order)
    # Walking in creation order appends every child after its elder siblings: the lists come out sorted.
    roots = []
    for tree_node in by_id.values():
        parent_id = tree_node.node.parent_id
        if parent_id is None:
            roots.append(tree_node)
            continue
        parent = by_id.get(parent_id)
        if parent is not None:
            parent.children.append(tree_node)
    return roots


def first_response(prompt_id: str, roots: Iterable[TreeNode]) -> TreeNode | None:
    """The round-0 Stage I tree of a prompt: its earliest response root with Stage I criticisms;
    without one, its earliest response that was not imported (a Stage I tree grows from the policy's
    own answer, DESIGN.md §1.2; an imported answer with no tree is a chain's start or data, not a
    root to grow), or None.

    >>> from backend.domain import Node
    >>> roots = build_trees([Node("y0", "p", "response", "imported answer", model="imported"),
    ...                      Node("c1", "p", "criticism", "a Stage II criticism", parent_id="y0", round=1)], {}, {})
    >>> first_response("p", roots) is None
    True
    """
    candidates = [r for r in roots if r.node.prompt_id == prompt_id and r.node.kind == "response"
                  and r.node.round == 0]
    candidates.sort(key=order_key)
    for root in candidates:
        if any(child.node.kind == "criticism" and child.node.round == 0 for child in root.children):
            return root
    return next((root for root in candidates if root.node.model != IMPORTED_MODEL), None)


def stage1_children(tree_node: TreeNode, kind: str) -> list[TreeNode]:
    """Children of `kind` in the same round as their parent (Stage II rounds nest deeper; skip them)."""
    round_ = tree_node.node.round
    return [c for c in tree_node.children if c.node.kind == kind and c.node.round == round_]

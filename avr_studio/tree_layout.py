"""Where each node of a refinement tree sits in the tree picture: one column per depth (answer →
criticisms → improvements, and a Stage II chain's rounds further right), leaves one row apart in
reading order, each parent level with the middle of its children. Pure Python; no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.avr.tree import TreeNode


@dataclass(frozen=True)
class Placed:
    """A node's place: `column` is its depth, `row` its vertical place in rows (leaves on whole rows)."""

    node_id: str
    column: int
    row: float


def layout_trees(roots: list[TreeNode], first_row: float = 0.0) -> dict[str, Placed]:
    """Places of every node of `roots`, the trees one below the other.

    >>> from backend.avr.tree import build_trees
    >>> from backend.domain import Node
    >>> nodes = [Node("r", "p", "response", "y"), Node("c1", "p", "criticism", "a", parent_id="r"),
    ...          Node("c2", "p", "criticism", "b", parent_id="r"), Node("i1", "p", "improvement", "y1", parent_id="c1"),
    ...          Node("i2", "p", "improvement", "y2", parent_id="c1"), Node("i3", "p", "improvement", "y3", parent_id="c2")]
    >>> places = layout_trees(build_trees(nodes, {}, {}))
    >>> [(p.node_id, p.column, p.row) for p in places.values()]
    [('i1', 2, 0.0), ('i2', 2, 1.0), ('c1', 1, 0.5), ('i3', 2, 2.0), ('c2', 1, 2.0), ('r', 0, 1.25)]
    """
    places: dict[str, Placed] = {}
    next_row = first_row

    def place(tree_node: TreeNode, depth: int) -> float:
        nonlocal next_row
        # Iterative over the children's lists would not be simpler: trees are shallow (a 5-round chain
        # is 11 levels), so recursion depth is never an issue here.
        if not tree_node.children:
            row = next_row
            next_row += 1
        else:
            child_rows = [place(child, depth + 1) for child in tree_node.children]
            row = (child_rows[0] + child_rows[-1]) / 2
        places[tree_node.id] = Placed(tree_node.id, depth, row)
        return row

    for root in roots:
        place(root, 0)
        next_row += 0.5  # a little air between two trees
    return places


def grid_size(places: dict[str, Placed]) -> tuple[int, float]:
    """(columns, rows) the placed nodes span."""
    if not places:
        return 0, 0.0
    return (max(p.column for p in places.values()) + 1, max(p.row for p in places.values()) + 1)


def neighbour(places: dict[str, Placed], parent_of: dict[str, str | None], children: dict[str, list[str]],
              node_id: str, direction: str) -> str | None:
    """The node an arrow key moves to from `node_id`: 'left' the parent, 'right' the first child,
    'up' / 'down' the nearest node above / below in the same column (siblings, then cousins)."""
    if node_id not in places:
        return None
    if direction == "left":
        return parent_of.get(node_id)
    if direction == "right":
        kids = children.get(node_id) or []
        return kids[0] if kids else None
    here = places[node_id]
    same_column = [p for p in places.values() if p.column == here.column and p.node_id != node_id]
    if direction == "up":
        above = [p for p in same_column if p.row < here.row]
        return max(above, key=lambda p: p.row).node_id if above else None
    below = [p for p in same_column if p.row > here.row]
    return min(below, key=lambda p: p.row).node_id if below else None

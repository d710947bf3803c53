"""What the compare view puts side by side for a selected node, so that every text is read against
the text it answers (pure Python over `PromptTrees`; no Qt):

- a criticism: the answer it criticises | the criticism (no word diff: they are different kinds of text);
- an improvement: the answer | the improvement, with the criticism it acts on between them;
- an answer: the answer | its best refinement (else its first improvement), that one's criticism between;
- a node a person edited: the model's text | the person's text.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from avr_studio.diffing import tokenize
from backend.curation.prompt_trees import PromptTrees

# Below this share of words in common, a word diff paints nearly everything: say so instead.
MIN_SHARED_FOR_DIFF = 0.4


@dataclass(frozen=True)
class PaneText:
    """A node's text for one pane: its current text, or (original=True) the model's text of an edit."""

    node_id: str
    original: bool = False


@dataclass(frozen=True)
class CompareContext:
    left: PaneText | None
    right: PaneText | None
    middle: PaneText | None = None  # the criticism an improvement acts on
    diff: bool = True  # whether a word diff of left and right means anything
    title: str = ""  # what is compared, in words


def compare_context(trees: PromptTrees, node_id: str) -> CompareContext | None:
    """The comparison that gives `node_id` its meaning (None if it is not in the trees).

    >>> from backend.avr.tree import build_trees
    >>> from backend.domain import Node
    >>> nodes = [Node("r", "p", "response", "y"), Node("c", "p", "criticism", "c", parent_id="r"),
    ...          Node("i", "p", "improvement", "y2", parent_id="c")]
    >>> trees = PromptTrees("p", build_trees(nodes, {"r": 0.1, "i": 0.5}, {}))
    >>> context = compare_context(trees, "i")
    >>> context.left.node_id, context.middle.node_id, context.right.node_id, context.diff
    ('r', 'c', 'i', True)
    >>> context = compare_context(trees, "c")
    >>> context.left.node_id, context.middle, context.right.node_id, context.diff
    ('r', None, 'c', False)
    """
    tree_node = trees.by_id.get(node_id)
    if tree_node is None:
        return None
    if tree_node.is_edited:
        return CompareContext(PaneText(node_id, original=True), PaneText(node_id), None, True,
                              "The model's text → the person's edit")
    parent = trees.parent(node_id)
    if tree_node.kind == "criticism":
        left = PaneText(parent.id) if parent is not None else None
        return CompareContext(left, PaneText(node_id), None, False, "The answer → its criticism")
    if tree_node.kind == "improvement":
        answer = trees.parent(parent.id) if parent is not None else None
        return CompareContext(PaneText(answer.id) if answer else None, PaneText(node_id),
                              PaneText(parent.id) if parent else None, True,
                              "The answer → this improvement, made under the criticism between them")
    if tree_node.kind == "long_thought":
        return CompareContext(None, PaneText(node_id), None, False, "A long thought")
    improvements = [i for c in tree_node.children if c.kind == "criticism" for i in c.children
                    if i.kind == "improvement"]
    best = next((i for i in improvements if trees.reward(i.id).best), None) or next(iter(improvements), None)
    if best is None:
        return CompareContext(PaneText(node_id), None, None, False, "The answer (no improvement yet)")
    criticism = trees.parent(best.id)
    best_words = "its best refinement" if trees.reward(best.id).best else "its first improvement"
    return CompareContext(PaneText(node_id), PaneText(best.id), PaneText(criticism.id) if criticism else None,
                          True, f"The answer → {best_words}, made under the criticism between them")


def shared_share(old: str, new: str) -> float:
    """The share of words two texts have in common, in order (difflib's ratio over word tokens).

    >>> shared_share("the cat sat", "the cat sat down")
    0.8571428571428571
    >>> shared_share("", "")
    1.0
    """
    a, b = [t[0] for t in tokenize(old)], [t[0] for t in tokenize(new)]
    if not a and not b:
        return 1.0
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).ratio()


def diff_helps(old: str, new: str) -> bool:
    """A word diff helps when the texts share enough words that the changes stand out."""
    return shared_share(old, new) >= MIN_SHARED_FOR_DIFF


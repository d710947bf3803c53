"""Refinement trees of one prompt as a Qt item model; children enter the model when a branch opens.

The trees are the current prompt's `PromptTrees` (loaded once, shared by the panels); the model only
hands rows to the view as they are fetched, so a prompt with long Stage II chains opens at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from backend.avr.rewards import NodeReward
from backend.avr.tree import TreeNode
from backend.curation.prompt_trees import PromptTrees
from backend.curation.provenance import from_edited_criticism, is_regenerated, made_from_other_text

_ROOT = QModelIndex()  # the invisible root, as a shared default argument
# (header, name, tooltip). Short headers: the tree usually sits in a narrow dock and the text needs the width.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Node", "Node", "Kind and the first line of the text (★ best refinement, ✎ edited by a person)"),
    ("Rd", "Round", "Round: 0 for the Stage I tree; one more per accepted Stage II refinement"),
    ("Reward", "Reward", "R(x, y) for answers; the mean R of its improvements for a criticism"),
    ("Δ", "Gain Δ", "Gain of an improvement over the answer its criticism judged"),
    ("Rating", "Self-rating", "The criticism's own 1–10 rating (not the reward)"),
    ("✓", "Verdict", "Verdict: ✓ accepted, ✗ rejected, ↷ skipped"),
    ("Scorer", "Scorer", "The scorer whose scores rank the nodes"),
)
NODE_COLUMN, ROUND_COLUMN, REWARD_COLUMN, GAIN_COLUMN, RATING_COLUMN, VERDICT_COLUMN, SCORER_COLUMN = range(7)

NODE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
"""data(index, NODE_ID_ROLE) gives the node id of the row."""

VERDICT_LOOK: dict[str, tuple[str, QColor]] = {
    "accept": ("✓ accepted", QColor("#1b7f3b")),
    "reject": ("✗ rejected", QColor("#b3261e")),
    "skip": ("↷ skipped", QColor("#6b6b6b")),  # not "·": that is the separator of summary lines
}
REGENERATED_MARK = "⟲"  # an improvement regenerated from its criticism (backend/curation/provenance.py)
GAIN_UP, GAIN_DOWN = QColor("#1b7f3b"), QColor("#b3261e")
KIND_LABEL = {"response": "Response", "criticism": "Criticism", "improvement": "Improvement",
              "long_thought": "Long thought"}


def node_marks(tree_node: TreeNode, parent: TreeNode | None) -> list[str]:
    """Where a node came from, in words: regenerated from an edited criticism, and whether its
    criticism still has the text it was made from."""
    if not is_regenerated(tree_node.node):
        return []
    marks = [f"{REGENERATED_MARK} from edited criticism" if from_edited_criticism(tree_node.node)
             else f"{REGENERATED_MARK} regenerated"]
    if made_from_other_text(tree_node, parent):
        marks.append("made from an earlier text of its criticism")
    return marks


def node_summary_html(tree_node: TreeNode, reward: NodeReward, parent: TreeNode | None = None) -> str:
    """One rich-text line on a node for panel headers: kind, round, reward, Δ, best, rating, verdict,
    edit, where it came from, model."""
    parts = [f"<b>{KIND_LABEL.get(tree_node.kind, tree_node.kind)}</b>", f"round {tree_node.node.round}"]
    if reward.reward is not None:
        of_model = " (of the model's text)" if tree_node.is_edited and tree_node.is_answer else ""
        parts.append(f"reward {reward.reward:.3f}{of_model}")
    if reward.gain is not None:
        colour = (GAIN_UP if reward.gain > 0 else GAIN_DOWN).name()
        parts.append(f'<span style="color:{colour}">Δ {reward.gain:+.3f}</span>')
    if reward.best:
        parts.append("★ best refinement" if tree_node.kind == "improvement" else "★ led to the best refinement")
    if tree_node.node.self_rating is not None:
        parts.append(f"self-rating {tree_node.node.self_rating}/10")
    if tree_node.verdict in VERDICT_LOOK:
        label, colour = VERDICT_LOOK[tree_node.verdict]
        parts.append(f'<span style="color:{colour.name()}"><b>{label}</b></span>')
    if tree_node.is_edited:
        parts.append("✎ edited")
    parts += [f'<span style="color:#7a4dbf">{mark}</span>' for mark in node_marks(tree_node, parent)]
    if tree_node.node.model:
        parts.append(tree_node.node.model)
    return " · ".join(parts)


@dataclass(eq=False)
class _Item:
    """One row: the tree node, where it sits, and how many of its children the view has fetched."""

    key: int
    tree_node: TreeNode
    parent: _Item | None
    row: int
    children: list[_Item] = field(default_factory=list)


class TreeModel(QAbstractItemModel):
    """The refinement trees of the current prompt: roots are responses and long thoughts."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._roots: list[_Item] = []
        self._items: dict[int, _Item] = {}  # internalId → item (Qt indexes carry only the id)
        self._by_node_id: dict[str, _Item] = {}
        self.trees = PromptTrees("", [])
        self._keys = count(1)

    # --- content -------------------------------------------------------------------------------
    def set_trees(self, trees: PromptTrees) -> None:
        """Show these trees; only the roots are fetched until a branch opens."""
        self.beginResetModel()
        self.trees = trees
        self._items.clear()
        self._by_node_id.clear()
        self._roots = [self._new_item(root, None, row) for row, root in enumerate(trees.roots)]
        self.endResetModel()

    def clear(self) -> None:
        self.set_trees(PromptTrees("", []))

    def tree_node(self, index: QModelIndex | QPersistentModelIndex) -> TreeNode | None:
        item = self._item(index)
        return item.tree_node if item else None

    def index_of(self, node_id: str) -> QModelIndex:
        """The index of a node, fetching its ancestors' children first; invalid if not shown."""
        if node_id not in self.trees.by_id:
            return QModelIndex()
        path = [node_id]
        while (parent := self.trees.parent_of.get(path[-1])) is not None:
            path.append(parent)
        for ancestor in reversed(path[1:]):  # top-down, so each fetch can find its item
            ancestor_index = self._index_of_item(self._by_node_id[ancestor])
            if self.canFetchMore(ancestor_index):
                self.fetchMore(ancestor_index)
        item = self._by_node_id.get(node_id)
        return self._index_of_item(item) if item else QModelIndex()

    # --- lazy loading --------------------------------------------------------------------------
    def hasChildren(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> bool:
        if not parent.isValid():
            return bool(self._roots)
        item = self._item(parent)
        return bool(item and item.tree_node.children) and parent.column() == 0

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> bool:
        item = self._item(parent)
        return bool(item) and parent.column() == 0 and len(item.children) < len(item.tree_node.children)

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> None:
        item = self._item(parent)
        if item is None or not self.canFetchMore(parent):
            return
        pending = item.tree_node.children[len(item.children):]
        first = len(item.children)
        self.beginInsertRows(parent, first, first + len(pending) - 1)
        item.children.extend(self._new_item(child, item, first + i) for i, child in enumerate(pending))
        self.endInsertRows()

    # --- QAbstractItemModel --------------------------------------------------------------------
    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        siblings = self._roots if not parent.isValid() else self._item(parent).children  # type: ignore[union-attr]
        return self.createIndex(row, column, siblings[row].key)

    def parent(self, index: QModelIndex | QPersistentModelIndex) -> QModelIndex:  # type: ignore[override]
        item = self._item(index)
        if item is None or item.parent is None:
            return QModelIndex()
        return self.createIndex(item.parent.row, 0, item.parent.key)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        if not parent.isValid():
            return len(self._roots)
        item = self._item(parent)
        return len(item.children) if item is not None and parent.column() == 0 else 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        scorer = self.trees.scorer or ""
        if role == Qt.ItemDataRole.DisplayRole:
            if section == REWARD_COLUMN and scorer:  # the ranking scorer, by its kind ("R · relevance")
                return f"R · {scorer.partition(':')[0]}"
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][2] + (f" — scorer {scorer}" if section in (REWARD_COLUMN, GAIN_COLUMN)
                                          and scorer else "")
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self._item(index)
        if item is None:
            return None
        tree_node, column = item.tree_node, index.column()
        reward = self.trees.reward(tree_node.id)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(tree_node, reward, column)
        if role == NODE_ID_ROLE:
            return tree_node.id
        if role == Qt.ItemDataRole.ToolTipRole and column == NODE_COLUMN:
            marks = node_marks(tree_node, self.trees.parent(tree_node.id))
            return "\n".join([*marks, tree_node.text[:1500]])
        if role == Qt.ItemDataRole.ToolTipRole and column == VERDICT_COLUMN and tree_node.verdict in VERDICT_LOOK:
            return VERDICT_LOOK[tree_node.verdict][0][2:]
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == GAIN_COLUMN and reward.gain:
                return GAIN_UP if reward.gain > 0 else GAIN_DOWN
            if column in (VERDICT_COLUMN, NODE_COLUMN) and tree_node.verdict in VERDICT_LOOK:
                return VERDICT_LOOK[tree_node.verdict][1]
        if role == Qt.ItemDataRole.FontRole and reward.best and column in (NODE_COLUMN, REWARD_COLUMN):
            font = QFont()
            font.setBold(True)  # the best refinement and the criticism that led to it
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column == VERDICT_COLUMN:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (ROUND_COLUMN, REWARD_COLUMN, GAIN_COLUMN,
                                                                  RATING_COLUMN):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, tree_node: TreeNode, reward: NodeReward, column: int) -> str:
        if column == NODE_COLUMN:
            first_line = next((line.strip() for line in tree_node.text.splitlines() if line.strip()), "")
            mark = "✎ " if tree_node.is_edited else ""
            star = "★ " if reward.best else ""
            regenerated = f"{REGENERATED_MARK} " if is_regenerated(tree_node.node) else ""
            return f"{star}{mark}{regenerated}{KIND_LABEL.get(tree_node.kind, tree_node.kind)}: {first_line[:160]}"
        if column == ROUND_COLUMN:
            return str(tree_node.node.round)
        if column == REWARD_COLUMN:
            return "" if reward.reward is None else f"{reward.reward:.3f}"
        if column == GAIN_COLUMN:
            return "" if reward.gain is None else f"{reward.gain:+.3f}"
        if column == RATING_COLUMN:
            rating = tree_node.node.self_rating
            return "" if rating is None else str(rating)
        if column == VERDICT_COLUMN:  # the glyph only; the tooltip has the word
            return VERDICT_LOOK[tree_node.verdict][0][0] if tree_node.verdict in VERDICT_LOOK else ""
        if column == SCORER_COLUMN:
            return (self.trees.scorer or "") if tree_node.score is not None else ""
        return ""

    # --- helpers -------------------------------------------------------------------------------
    def _new_item(self, tree_node: TreeNode, parent: _Item | None, row: int) -> _Item:
        item = _Item(next(self._keys), tree_node, parent, row)
        self._items[item.key] = item
        self._by_node_id[tree_node.id] = item
        return item

    def _item(self, index: QModelIndex | QPersistentModelIndex) -> _Item | None:
        if not index.isValid() or index.model() is not self:
            return None
        return self._items.get(index.internalId())

    def _index_of_item(self, item: _Item) -> QModelIndex:
        return self.createIndex(item.row, 0, item.key)

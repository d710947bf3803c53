"""The current prompt's refinement trees with rewards, gains and verdicts; arrows walk the tree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from avr_studio.models.tree_model import (
    COLUMNS,
    NODE_COLUMN,
    RATING_COLUMN,
    ROUND_COLUMN,
    SCORER_COLUMN,
    TreeModel,
)

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext

OPEN_DEPTH = 2  # a Stage I tree (response → criticisms → improvements) opens fully; deeper chains wait
HIDDEN_AT_FIRST = (ROUND_COLUMN, RATING_COLUMN, SCORER_COLUMN)  # the header's right-click menu shows them


class TreeNavigationView(QTreeView):
    """A tree view whose arrows move along the tree: Up/Down between siblings, Left to the parent,
    Right to the first child (QTreeView's own arrows walk visible rows and collapse on Left)."""

    def moveCursor(self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier) -> QModelIndex:
        current = self.currentIndex()
        model = self.model()
        if not current.isValid() or model is None:
            return super().moveCursor(action, modifiers)
        current = current.siblingAtColumn(0)
        Action = QAbstractItemView.CursorAction
        if action == Action.MoveUp:
            return current.sibling(current.row() - 1, 0) if current.row() > 0 else current
        if action == Action.MoveDown:
            below = current.sibling(current.row() + 1, 0)
            return below if below.isValid() else current
        if action == Action.MoveLeft:
            parent = current.parent()
            return parent if parent.isValid() else current
        if action == Action.MoveRight:
            if model.canFetchMore(current):
                model.fetchMore(current)
            if model.rowCount(current) == 0:
                return current
            self.expand(current)
            return model.index(0, 0, current)
        return super().moveCursor(action, modifiers)


class TreePanel(QWidget):
    """Shows the current prompt's trees (`context.current_prompt`); the selected row becomes the
    current node, and the scorer picked here ranks the nodes in every panel."""

    sig_trees_loaded = Signal(str)
    """The panel shows the trees of a prompt now; argument: the prompt id ("" when cleared)."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tree_panel")
        self._context = context
        self._current = context.current_prompt
        self.model = TreeModel(self)

        # One ranking scorer per project (backend/curation/ranking.py): shown here, switched on purpose.
        self.ranking_label = QLabel()
        self.ranking_label.setToolTip("The project's ranking scorer: its rewards rank every node and decide "
                                      "the reward's pairs")
        self.change_ranking_button = QToolButton(text="Change…")
        self.change_ranking_button.setToolTip("Rank the project by another scorer (rebuilds the pairs; undoable)")
        self.change_ranking_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.change_ranking_button.clicked.connect(self._ask_ranking_change)
        self.summary_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.ranking_label)
        bar.addWidget(self.change_ranking_button)
        bar.addStretch(1)
        bar.addWidget(self.summary_label)

        self.view = TreeNavigationView()
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NODE_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)  # right-click: pick columns
        for column in range(1, self.model.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
            toggle = QAction(COLUMNS[column][1], header)
            toggle.setCheckable(True)
            toggle.setChecked(column not in HIDDEN_AT_FIRST)
            toggle.toggled.connect(lambda on, c=column: self.view.setColumnHidden(c, not on))
            header.addAction(toggle)
            # The node's text needs the narrow dock's width; round, rating and scorer wait in the menu.
            self.view.setColumnHidden(column, column in HIDDEN_AT_FIRST)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view)

        self.view.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        self._current.sig_scorers_changed.connect(self._fill_scorers)
        self._current.sig_trees_changed.connect(self._show_trees)
        context.sig_node_selected.connect(self.select_node)
        self._fill_scorers()
        self._show_trees(self._current.prompt_id)

    # --- public --------------------------------------------------------------------------------
    @property
    def scorer(self) -> str | None:
        return self._current.scorer

    def select_node(self, node_id: str) -> None:
        """Select and reveal a node of the shown trees (no-op if it is not one of them)."""
        index = self.model.index_of(node_id) if node_id else QModelIndex()
        if not index.isValid() or self.view.currentIndex().siblingAtColumn(0) == index:
            return
        parent = index.parent()
        while parent.isValid():
            self.view.expand(parent)
            parent = parent.parent()
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index)

    # --- reactions -----------------------------------------------------------------------------
    def _fill_scorers(self) -> None:
        scorer = self._current.scorer
        self.ranking_label.setText(f"Ranked by <b>{scorer}</b>" if scorer else "<i>No scores yet</i>")
        self.change_ranking_button.setEnabled(len(self._current.scorers) > 1)

    def _ask_ranking_change(self) -> None:
        action = self._context.action("curate.ranking_scorer")
        if action is not None:
            action.trigger()

    def _show_trees(self, prompt_id: str) -> None:
        """Show the model's trees, keeping what was open and what was selected on a refresh."""
        trees = self._current.trees
        same_prompt = bool(prompt_id) and self.model.trees.prompt_id == prompt_id
        opened = self._opened_node_ids() if same_prompt else []
        self.model.set_trees(trees)
        if not same_prompt:  # a new prompt opens its Stage I tree; a refresh keeps what the person opened
            for row in range(self.model.rowCount()):
                self._open(self.model.index(row, 0), OPEN_DEPTH)
        else:
            for node_id in opened:
                index = self.model.index_of(node_id)
                if index.isValid():
                    self.view.expand(index)
        if self._context.current_node_id:
            self.select_node(self._context.current_node_id)
        self.summary_label.setText(f"{len(trees.roots)} tree(s), {len(trees.by_id)} nodes" if prompt_id else "")
        self.sig_trees_loaded.emit(prompt_id)

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        tree_node = self.model.tree_node(current)
        if tree_node is not None:
            self._context.select_node(tree_node.id)

    # --- helpers -------------------------------------------------------------------------------
    def _open(self, index: QModelIndex, depth: int) -> None:
        if depth <= 0 or not self.model.hasChildren(index):
            return
        self.view.expand(index)  # QTreeView fetches the children it reveals
        if self.model.canFetchMore(index):
            self.model.fetchMore(index)
        for row in range(self.model.rowCount(index)):
            self._open(self.model.index(row, 0, index), depth - 1)

    def _opened_node_ids(self) -> list[str]:
        opened: list[str] = []
        stack = [QModelIndex()]
        while stack:
            parent = stack.pop()
            for row in range(self.model.rowCount(parent)):
                index = self.model.index(row, 0, parent)
                if self.view.isExpanded(index):
                    tree_node = self.model.tree_node(index)
                    if tree_node is not None:
                        opened.append(tree_node.id)
                    stack.append(index)
        return opened

"""The current prompt's refinement trees with rewards, gains and verdicts; arrows walk the tree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from avr_studio.models.tree_model import COLUMNS, NODE_COLUMN, SCORER_COLUMN, PromptTrees, TreeModel

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext

OPEN_DEPTH = 2  # a Stage I tree (response → criticisms → improvements) opens fully; deeper chains wait


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
    """Shows the trees of `context.current_prompt_id`; the selected row becomes the current node."""

    sig_trees_loaded = Signal(str)
    """The panel (re)loaded the trees of a prompt; argument: the prompt id ("" when cleared)."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tree_panel")
        self._context = context
        self._prompt_id = ""
        self.model = TreeModel(self)

        self.scorer_combo = QComboBox()
        self.scorer_combo.setToolTip("Which scorer's rewards rank the nodes")
        self.scorer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.summary_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Scorer"))
        bar.addWidget(self.scorer_combo)
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
            toggle.setChecked(column != SCORER_COLUMN)
            toggle.toggled.connect(lambda on, c=column: self.view.setColumnHidden(c, not on))
            header.addAction(toggle)
        self.view.setColumnHidden(SCORER_COLUMN, True)  # the combo above already names the scorer

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view)

        self.view.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        self.scorer_combo.currentIndexChanged.connect(lambda _i: self.reload())
        context.sig_project_opened.connect(self._on_project_opened)
        context.sig_project_closed.connect(self._on_project_closed)
        context.sig_prompt_selected.connect(self.show_prompt)
        context.sig_node_selected.connect(self.select_node)
        context.sig_data_changed.connect(self._on_data_changed)
        if context.store is not None:
            self._on_project_opened()

    # --- public --------------------------------------------------------------------------------
    @property
    def scorer(self) -> str | None:
        return self.scorer_combo.currentData()

    def show_prompt(self, prompt_id: str) -> None:
        self._prompt_id = prompt_id
        self.reload()

    def reload(self) -> None:
        """Rebuild the trees from the store, keeping what was open and what was selected."""
        store = self._context.store
        if store is None or not self._prompt_id:
            self.model.clear()
            self.summary_label.clear()
            self.sig_trees_loaded.emit("")
            return
        keep_node = self._context.current_node_id
        same_prompt = self.model.trees.prompt_id == self._prompt_id
        opened = self._opened_node_ids() if same_prompt else []
        trees = PromptTrees.load(store, self._prompt_id, self.scorer)
        self.model.set_trees(trees)
        if not same_prompt:  # a new prompt opens its Stage I tree; a refresh keeps what the person opened
            for row in range(self.model.rowCount()):
                self._open(self.model.index(row, 0), OPEN_DEPTH)
        else:
            for node_id in opened:
                index = self.model.index_of(node_id)
                if index.isValid():
                    self.view.expand(index)
        if keep_node:
            self.select_node(keep_node)
        self.summary_label.setText(f"{len(trees.roots)} tree(s), {len(trees.by_id)} nodes")
        self.sig_trees_loaded.emit(self._prompt_id)

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
    def _on_project_opened(self) -> None:
        store = self._context.store
        self.scorer_combo.blockSignals(True)  # one reload after the combo is filled, not one per item
        self.scorer_combo.clear()
        if store is not None:
            default = store.default_scorer()
            for scorer in store.scorers():
                self.scorer_combo.addItem(scorer, scorer)
            if default is not None:
                self.scorer_combo.setCurrentIndex(max(0, self.scorer_combo.findData(default)))
        self.scorer_combo.blockSignals(False)
        self._prompt_id = self._context.current_prompt_id or ""
        self.reload()

    def _on_project_closed(self) -> None:
        self.scorer_combo.clear()
        self._prompt_id = ""
        self.reload()

    def _on_data_changed(self, prompt_id: str) -> None:
        if self._prompt_id and prompt_id in ("", self._prompt_id):
            if self._context.store is not None and self.scorer_combo.count() != len(self._context.store.scorers()):
                self._on_project_opened()  # a job added a new scorer
            else:
                self.reload()

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

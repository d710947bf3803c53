"""The training pairs the current prompt's tree yields, as stored in the project.

Pairs follow the person where they spoke and the reward where they did not (backend/avr/pairs.py);
the backend rebuilds them with every verdict, edit, undo and job result (backend/curation/derived.py),
so this panel only displays them, with notes on why a kind of pair is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from avr_studio.panels.on_screen import is_on_screen
from backend.avr.pairs import build_stage1
from backend.curation.derived import pair_config
from backend.curation.prompt_trees import PromptTrees
from backend.domain import STAGE1_PAIR_KINDS, Pair

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext

HUMAN_COLOUR = QColor("#1f5fbf")
_ROOT = QModelIndex()
COLUMNS = ("Kind", "Chosen", "Rejected", "Decided by", "Margin")
KIND_COLUMN, CHOSEN_COLUMN, REJECTED_COLUMN, DECIDED_COLUMN, MARGIN_COLUMN = range(5)


def _snippet(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class PairsTableModel(QAbstractTableModel):
    """A few pairs (one prompt's), shown whole; no paging needed."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.pairs: list[Pair] = []

    def set_pairs(self, pairs: list[Pair]) -> None:
        self.beginResetModel()
        self.pairs = list(pairs)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.pairs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.pairs):
            return None
        pair, column = self.pairs[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(pair, column)
        if role == Qt.ItemDataRole.ToolTipRole and column in (CHOSEN_COLUMN, REJECTED_COLUMN):
            return (pair.chosen if column == CHOSEN_COLUMN else pair.rejected)[:2000]
        if role == Qt.ItemDataRole.ForegroundRole and column == DECIDED_COLUMN and pair.decided_by == "human":
            return HUMAN_COLOUR
        if role == Qt.ItemDataRole.FontRole and column == DECIDED_COLUMN and pair.decided_by == "human":
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column == MARGIN_COLUMN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(pair: Pair, column: int) -> str:
        if column == KIND_COLUMN:
            return pair.kind
        if column == CHOSEN_COLUMN:
            return _snippet(pair.chosen)
        if column == REJECTED_COLUMN:
            return _snippet(pair.rejected)
        if column == DECIDED_COLUMN:
            return "person" if pair.decided_by == "human" else "reward"
        if pair.chosen_score is None or pair.rejected_score is None:
            return ""
        return f"{pair.chosen_score - pair.rejected_score:+.3f}"


class PairsPanel(QWidget):
    """Shows the current prompt's stored Stage I pairs; reads them only while it is on screen."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pairs_panel")
        self._context = context
        self._current = context.current_prompt
        self.prompt_id = ""
        self.notes: list[str] = []
        self.has_rsft = False
        self._stale = True  # the shown pairs may be behind the store (read again when next shown)
        self.model = PairsTableModel(self)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        for column in (KIND_COLUMN, DECIDED_COLUMN, MARGIN_COLUMN):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        for column in (CHOSEN_COLUMN, REJECTED_COLUMN):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.notes_label = QLabel(wordWrap=True)
        self.status_label = QLabel()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.status_label)

        self.table.doubleClicked.connect(self._compare_pair)
        self._current.sig_trees_changed.connect(self._on_trees_changed)  # pairs are rebuilt with the data
        self._on_trees_changed(self._current.prompt_id)

    # --- public --------------------------------------------------------------------------------
    @property
    def pairs(self) -> list[Pair]:
        return self.model.pairs

    def refresh(self) -> None:
        """Read the prompt's stored pairs, and why a kind is missing, from the store."""
        self._stale = False
        store = self._context.store
        prompt = store.get_prompt(self.prompt_id) if store is not None and self.prompt_id else None
        if prompt is None:
            self.model.set_pairs([])
            self.notes, self.has_rsft = [], False
        else:
            stored = [p for p in store.pairs(prompt_id=prompt.id) if p.kind in STAGE1_PAIR_KINDS]
            self.model.set_pairs(sorted(stored, key=lambda p: STAGE1_PAIR_KINDS.index(p.kind)))
            # The notes explain the stored pairs: the same rules on the same trees (ranked by the
            # project's scorer, as the stored pairs are, even when the tree panel shows another).
            trees = self._current.trees
            if self._current.scorer != self._current.default_scorer:
                trees = PromptTrees.load(store, prompt.id)
            explained = build_stage1(prompt, trees.roots, store.templates, pair_config(store))
            self.notes, self.has_rsft = explained.notes, bool(explained.rsft)
        self._show_notes()

    # --- internals -----------------------------------------------------------------------------
    def on_screen_changed(self, on_screen: bool) -> None:
        """The panel's tab was selected (True) or left (False); the main window calls this."""
        if on_screen and self._stale:
            self.refresh()

    def _on_trees_changed(self, prompt_id: str) -> None:
        self.prompt_id = prompt_id
        self._stale = True
        if is_on_screen(self):
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.on_screen_changed(True)

    def _show_notes(self) -> None:
        if not self.prompt_id:
            self.notes_label.clear()
            self.status_label.setText("No prompt selected.")
            return
        made = {p.kind for p in self.model.pairs}
        lines = [f"RSFT sample: {'yes' if self.has_rsft else 'no'} · pairs: "
                 + (", ".join(k for k in STAGE1_PAIR_KINDS if k in made) or "none"), *self.notes]
        self.notes_label.setText("\n".join(lines))
        humans = sum(p.decided_by == "human" for p in self.model.pairs)
        self.status_label.setText(f"{len(self.model.pairs)} pair(s) stored, {humans} decided by a person")

    def _compare_pair(self, index: QModelIndex) -> None:
        pair = self.model.pairs[index.row()] if index.isValid() else None
        if pair is not None and pair.chosen_node_id and pair.rejected_node_id:
            self._context.request_compare(pair.rejected_node_id, pair.chosen_node_id)

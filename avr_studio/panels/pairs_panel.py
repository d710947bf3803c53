"""The training pairs the current prompt's tree yields right now, and writing them to the project.

Pairs follow the person where they spoke and the reward where they did not (DESIGN.md §1.5), so the
table changes with every verdict or edit; with auto-write on, the stored pairs follow it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from avr_studio.models.tree_model import PromptTrees
from backend.avr.pairs import Stage1Data, build_stage1
from backend.config import PairConfig
from backend.domain import Pair

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext

STAGE1_KINDS = ("response", "criticism", "improvement", "edit")
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
    """Builds the current prompt's Stage I data on every change and writes it on request (or always)."""

    sig_pairs_written = Signal(str, int)
    """The prompt's Stage I pairs were stored (prompt id, number of pairs)."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pairs_panel")
        self._context = context
        self.prompt_id = ""
        self.stage1: Stage1Data = Stage1Data()
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
        self.write_button = QPushButton("Write pairs")
        self.write_button.setToolTip("Store this prompt's pairs and RSFT sample, replacing the ones stored before")
        self.auto_write_check = QCheckBox("Write automatically", checked=True)
        self.auto_write_check.setToolTip("Keep the stored pairs in step with every verdict and edit")

        bar = QHBoxLayout()
        bar.addWidget(self.status_label, 1)
        bar.addWidget(self.auto_write_check)
        bar.addWidget(self.write_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notes_label)
        layout.addLayout(bar)

        self.write_button.clicked.connect(self.write_pairs)
        self.table.doubleClicked.connect(self._compare_pair)
        context.sig_prompt_selected.connect(self.show_prompt)
        context.sig_data_changed.connect(self._on_data_changed)
        context.sig_project_opened.connect(lambda: self.show_prompt(context.current_prompt_id or ""))
        context.sig_project_closed.connect(lambda: self.show_prompt(""))
        self.show_prompt(context.current_prompt_id or "")

    # --- public --------------------------------------------------------------------------------
    def show_prompt(self, prompt_id: str) -> None:
        self.prompt_id = prompt_id
        self.rebuild()

    def rebuild(self) -> None:
        """Build the pairs from the tree as it stands (verdicts and edits included)."""
        store = self._context.store
        prompt = store.get_prompt(self.prompt_id) if store is not None and self.prompt_id else None
        if prompt is None:
            self.stage1 = Stage1Data()
        else:
            trees = PromptTrees.load(store, prompt.id)
            self.stage1 = build_stage1(prompt, trees.roots, store.templates, PairConfig(scorer=trees.scorer))
        self.model.set_pairs(self.stage1.pairs)
        self._show_notes()
        self._show_status()

    def write_pairs(self) -> None:
        """Replace the prompt's stored Stage I pairs and RSFT sample with what the table shows."""
        store = self._context.store
        if store is None or not self.prompt_id:
            return
        store.replace_stage1_data([self.prompt_id], self.stage1.pairs, self.stage1.rsft)
        self._show_status()
        self.sig_pairs_written.emit(self.prompt_id, len(self.stage1.pairs))

    def stored_pairs(self) -> list[Pair]:
        store = self._context.store
        if store is None or not self.prompt_id:
            return []
        return [p for p in store.pairs(prompt_id=self.prompt_id) if p.kind in STAGE1_KINDS]

    # --- internals -----------------------------------------------------------------------------
    def _on_data_changed(self, prompt_id: str) -> None:
        if not self.prompt_id or prompt_id not in ("", self.prompt_id):
            return
        self.rebuild()
        if self.auto_write_check.isChecked() and self._is_stale():
            self.write_pairs()

    def _is_stale(self) -> bool:
        return {p.id for p in self.stored_pairs()} != {p.id for p in self.stage1.pairs}

    def _show_notes(self) -> None:
        lines = list(self.stage1.notes)
        if self.prompt_id:
            made = {p.kind for p in self.stage1.pairs}
            lines.insert(0, f"RSFT sample: {'yes' if self.stage1.rsft else 'no'} · pairs: "
                            + (", ".join(k for k in STAGE1_KINDS if k in made) or "none"))
        self.notes_label.setText("\n".join(lines))

    def _show_status(self) -> None:
        if not self.prompt_id:
            self.status_label.setText("No prompt selected.")
            self.write_button.setEnabled(False)
            return
        humans = sum(p.decided_by == "human" for p in self.stage1.pairs)
        stale = self._is_stale()
        self.status_label.setText(
            f"{len(self.stage1.pairs)} pair(s), {humans} decided by a person · "
            + ("stored pairs differ from these" if stale else "stored"))
        self.write_button.setEnabled(stale)

    def _compare_pair(self, index: QModelIndex) -> None:
        pair = self.model.pairs[index.row()] if index.isValid() else None
        if pair is not None and pair.chosen_node_id and pair.rejected_node_id:
            self._context.request_compare(pair.rejected_node_id, pair.chosen_node_id)

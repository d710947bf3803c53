"""One evaluation's held-out prompts under one scorer, as a table: the prompt, each side's reward, their
difference and the outcome. Sorting goes through `SORT_ROLE` (numbers, not their text)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from backend.store.evaluations import EvalRow

COLUMNS = ("Prompt", "Base reward", "Trained reward", "Δ reward", "Outcome")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
_OUTCOME_COLOURS = {"win": "#e3f4e1", "loss": "#fbe3e4", "tie": "#f0f0f0"}


def outcome(row: EvalRow) -> str:
    if row.trained_score > row.base_score:
        return "win"
    return "tie" if row.trained_score == row.base_score else "loss"


class EvalRowsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[EvalRow] = []

    def set_rows(self, rows: list[EvalRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> EvalRow | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index.row())
        if row is None:
            return None
        column = index.column()
        difference = row.trained_score - row.base_score
        if role == SORT_ROLE:
            return (row.prompt.lower(), row.base_score, row.trained_score, difference, outcome(row))[column]
        if role == Qt.ItemDataRole.DisplayRole:
            prompt = " ".join(row.prompt.split())
            return (prompt[:90] + ("…" if len(prompt) > 90 else ""), f"{row.base_score:.4g}", f"{row.trained_score:.4g}",
                    f"{difference:+.4g}", outcome(row))[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return row.prompt
        if role == Qt.ItemDataRole.BackgroundRole and column == 4:
            return QColor(_OUTCOME_COLOURS[outcome(row)])
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (1, 2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

"""The `?` sheet: every action of actions.py with its shortcut, grouped by menu, then the keys that
move around (arrows, Tab) from actions.NAVIGATION_KEYS."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from avr_studio.actions import ACTIONS, MENU_ORDER, NAVIGATION_KEYS, native_shortcut_text


class ShortcutsDialog(QDialog):
    """A read-only table generated from the action table, so it can never drift from the menus."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(820, 640)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Shortcut", "Action", "What it does"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._fill()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _fill(self) -> None:
        ordered = sorted(ACTIONS, key=lambda spec: MENU_ORDER.index(spec.menu))
        for spec in ordered:
            row = self.table.rowCount()
            self.table.insertRow(row)
            label = spec.label.replace("&", "").rstrip("…")
            self.table.setItem(row, 0, QTableWidgetItem(native_shortcut_text(spec) or "—"))
            self.table.setItem(row, 1, QTableWidgetItem(f"{spec.menu} › {label}"))
            self.table.setItem(row, 2, QTableWidgetItem(spec.description))
        for keys, what in NAVIGATION_KEYS:
            row = self.table.rowCount()
            self.table.insertRow(row)
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem("Move"))
            self.table.setItem(row, 2, QTableWidgetItem(what))

    def listed_labels(self) -> list[str]:
        """The action labels as shown (tests check every action is listed)."""
        return [self.table.item(row, 1).text() for row in range(self.table.rowCount() - len(NAVIGATION_KEYS))]

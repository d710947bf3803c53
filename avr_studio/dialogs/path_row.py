"""The "path field + Browse…" row of the dialogs, written once.

`PathRow(edit, choose)`: the Browse… button calls `choose(current text)`, which asks the person (a file
dialog) and returns the path picked, or "" if they cancelled; a picked path goes into the field.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget

Chooser = Callable[[str], str]


class PathRow(QWidget):
    """A line edit with a Browse… button beside it."""

    sig_path_chosen = Signal(str)
    """The person picked a path with Browse… (it is in the field now)."""

    def __init__(self, edit: QLineEdit, choose: Chooser, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit, self._choose = edit, choose
        self.browse_button = QPushButton("Browse…")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        row.addWidget(self.browse_button)
        self.browse_button.clicked.connect(self.browse)

    def browse(self) -> None:
        chosen = self._choose(self.edit.text())
        if chosen:
            self.edit.setText(chosen)
            self.sig_path_chosen.emit(chosen)


def folder_chooser(parent: QWidget, title: str) -> Chooser:
    return lambda current: QFileDialog.getExistingDirectory(parent, title, current)


def open_file_chooser(parent: QWidget, title: str, filters: str = "") -> Chooser:
    return lambda current: QFileDialog.getOpenFileName(parent, title, current, filters)[0]


def save_file_chooser(parent: QWidget, title: str, filters: str = "") -> Chooser:
    return lambda current: QFileDialog.getSaveFileName(parent, title, current, filters)[0]

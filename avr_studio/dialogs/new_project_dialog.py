"""Ask for a new project's folder (a parent folder plus a name) and, optionally, a prompts file."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from avr_studio.dialogs.path_row import PathRow, folder_chooser, open_file_chooser
from backend.paths import data_dir

_SAFE_NAME = re.compile(r"^[\w.\- ]+$")


class NewProjectDialog(QDialog):
    """Collects `project_dir` and `prompts_file`; the main window creates the store."""

    def __init__(self, parent: QWidget | None = None, default_parent: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Project")
        self.setMinimumWidth(520)
        self.project_dir: Path | None = None
        self.prompts_file: Path | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.name_edit = QLineEdit("my-avr-project")
        form.addRow("Name", self.name_edit)
        self.location_edit = QLineEdit(str(default_parent or data_dir() / "projects"))
        form.addRow("Location", PathRow(self.location_edit, folder_chooser(self, "Where to create the project")))
        self.prompts_edit = QLineEdit()
        self.prompts_edit.setPlaceholderText("optional: a .jsonl/.json/.csv/.parquet with a 'prompt' field")
        form.addRow("Import prompts", PathRow(self.prompts_edit, open_file_chooser(
            self, "Prompts file", "Data (*.jsonl *.json *.csv *.parquet)")))
        layout.addLayout(form)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _validate(self) -> tuple[Path, Path | None]:
        name = self.name_edit.text().strip()
        if not name or not _SAFE_NAME.match(name):
            raise ValueError("the name may use letters, digits, spaces, '.', '-' and '_'")
        project_dir = Path(self.location_edit.text().strip()).expanduser() / name
        if project_dir.exists() and any(project_dir.iterdir()):
            raise ValueError(f"{project_dir} already exists and is not empty; pick another name "
                             "or open it with File → Open Project")
        prompts = self.prompts_edit.text().strip()
        prompts_file = Path(prompts).expanduser() if prompts else None
        if prompts_file is not None and not prompts_file.exists():
            raise ValueError(f"prompts file not found: {prompts_file}")
        return project_dir, prompts_file

    def accept(self) -> None:
        try:
            self.project_dir, self.prompts_file = self._validate()
        except ValueError as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            return
        super().accept()

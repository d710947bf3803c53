"""Export curated training data (pairs, RSFT samples, long thoughts) to files for TRL, LLaMA-Factory
or the AvR layout; the writing runs on a thread-pool thread and reports counts or what went wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from avr_studio.background import BackgroundTask
from avr_studio.dialogs.path_row import PathRow, folder_chooser, save_file_chooser
from backend.errors import UserError
from backend.io import EXPORT_FORMATS, EXPORT_KINDS, export

if TYPE_CHECKING:
    from backend.io import ExportReport
    from backend.store import Store

FILE_TYPES = ("jsonl", "json", "parquet")
FORMAT_LABELS = {"trl": "TRL (prompt / chosen / rejected, messages)", "llamafactory": "LLaMA-Factory (folder)",
                 "avr": "AvR (with provenance)"}
KIND_LABELS = {"pairs": "Preference pairs (DPO)", "sft": "RSFT samples (Stage I SFT)",
               "long-thought": "Long thoughts (Stage II SFT)"}
# Who decided a pair (Pair.decided_by): a person's verdicts, the reward where no one spoke, or both.
DECIDERS = (("both", "A person or the reward (all pairs)"), ("human", "A person (pairs from verdicts and edits)"),
            ("reward", "The reward (pairs no one judged)"))
ERROR_STYLE = "color: #b3261e;"


class ExportDialog(QDialog):
    """Pick what, in which layout and file type, and where; Export writes it without freezing the window."""

    sig_export_finished = Signal(object)
    """The export was written; argument: the backend's ExportReport (rows, files, seconds)."""

    sig_export_failed = Signal(str)
    """The export failed; argument: the message shown to the person."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Training Data")
        self.setMinimumWidth(560)
        self._store = store
        self._task: BackgroundTask | None = None  # kept alive until its signal arrives
        self._path_typed = False

        self.kind_combo = QComboBox()
        for kind in EXPORT_KINDS:
            self.kind_combo.addItem(KIND_LABELS.get(kind, kind), kind)
        self.format_combo = QComboBox()
        for name in EXPORT_FORMATS:
            self.format_combo.addItem(FORMAT_LABELS.get(name, name), name)
        self.file_type_combo = QComboBox()
        for file_type in FILE_TYPES:
            self.file_type_combo.addItem(file_type, file_type)
        self.decider_combo = QComboBox()
        for decider, label in DECIDERS:
            self.decider_combo.addItem(label, decider)
        self.decider_combo.setToolTip("Export only the pairs a person decided, or only those the reward decided")
        self.counts_label = QLabel()
        self.counts_label.setStyleSheet("color: #444;")
        self.path_edit = QLineEdit()
        path_widget = PathRow(self.path_edit, self._choose_path)

        form = QFormLayout()
        form.addRow("Data", self.kind_combo)
        form.addRow("Decided by", self.decider_combo)
        form.addRow("", self.counts_label)
        form.addRow("Layout", self.format_combo)
        form.addRow("File type", self.file_type_combo)
        form.addRow("Write to", path_widget)
        self.result_label = QLabel(wordWrap=True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.result_label)
        layout.addWidget(self.buttons)

        for combo in (self.kind_combo, self.format_combo, self.file_type_combo, self.decider_combo):
            combo.currentIndexChanged.connect(self._suggest_path)
        self.kind_combo.currentIndexChanged.connect(lambda _i: self._show_counts())
        self.decider_combo.currentIndexChanged.connect(lambda _i: self._show_counts())
        self.path_edit.textEdited.connect(self._on_path_typed)
        path_widget.sig_path_chosen.connect(self._on_path_typed)
        self.export_button.clicked.connect(self.start_export)
        self.buttons.rejected.connect(self.reject)
        self._suggest_path()
        self._show_counts()

    # --- public --------------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._task is not None

    def choices(self) -> tuple[str, str, str, Path]:
        """(kind, layout, file type, output path) as chosen."""
        return (self.kind_combo.currentData(), self.format_combo.currentData(),
                self.file_type_combo.currentData(), Path(self.path_edit.text().strip()).expanduser())

    @property
    def decided_by(self) -> str | None:
        """'human' or 'reward' when the export is limited to one decider's pairs, else None."""
        decider = self.decider_combo.currentData()
        return None if decider == "both" or self.kind_combo.currentData() != "pairs" else decider

    def rows_to_write(self) -> int | None:
        """How many pairs the export will write with the choices made (None for SFT kinds)."""
        if self.kind_combo.currentData() != "pairs":
            return None
        counts = self._store.pair_counts_by_decider()
        return counts[self.decided_by] if self.decided_by else sum(counts.values())

    def _show_counts(self) -> None:
        """Say, before writing, how many pairs each decider made and how many rows the export takes."""
        is_pairs = self.kind_combo.currentData() == "pairs"
        self.decider_combo.setEnabled(is_pairs)
        if not is_pairs:
            self.counts_label.setText("")
            return
        counts = self._store.pair_counts_by_decider()
        self.counts_label.setText(f"Writes <b>{self.rows_to_write():,}</b> pairs · in the project: "
                                  f"{counts['human']:,} decided by a person, {counts['reward']:,} by the reward")

    def start_export(self) -> None:
        kind, layout, file_type, out = self.choices()
        if not str(out) or str(out) == ".":
            self._show_error("Choose where to write the export.")
            return
        store, decided_by = self._store, self.decided_by
        self._task = BackgroundTask(lambda: export(store, kind, layout, out, file_type, decided_by=decided_by),
                                    self)
        self._task.sig_task_finished.connect(self._on_finished)
        self._task.sig_task_failed.connect(self._on_failed)
        self._set_busy(True)
        self.result_label.setStyleSheet("")
        self.result_label.setText(f"Exporting {kind} to {out}…")
        self._task.start()

    # --- reactions -----------------------------------------------------------------------------
    def _on_finished(self, report: ExportReport) -> None:
        self._task = None
        self._set_busy(False)
        files = ", ".join(str(f) for f in report.files[:3]) + (" …" if len(report.files) > 3 else "")
        self.result_label.setStyleSheet("")
        self.result_label.setText(f"Wrote {report.rows:,} rows ({report.kind}, {report.format}, "
                                  f"{report.file_format}) in {report.seconds:.2f} s:\n{files}")
        self.sig_export_finished.emit(report)

    def _on_failed(self, error: Exception, details: str) -> None:
        self._task = None
        self._set_busy(False)
        # A UserError already says what to do; anything else is a bug, so keep its traceback at hand.
        message = str(error) if isinstance(error, UserError) else f"Export failed: {error!r}"
        self._show_error(message)
        if not isinstance(error, UserError):
            self.result_label.setToolTip(details)
        self.sig_export_failed.emit(message)

    def _show_error(self, message: str) -> None:
        self.result_label.setStyleSheet(ERROR_STYLE)
        self.result_label.setText(message)

    def _set_busy(self, busy: bool) -> None:
        self.export_button.setEnabled(not busy)
        for widget in (self.kind_combo, self.format_combo, self.file_type_combo, self.path_edit):
            widget.setEnabled(not busy)
        self.decider_combo.setEnabled(not busy and self.kind_combo.currentData() == "pairs")

    def _on_path_typed(self, _text: str) -> None:
        self._path_typed = True

    def _suggest_path(self) -> None:
        kind, layout, file_type, _ = self.choices()
        if self._path_typed:
            return
        # LLaMA-Factory reads a folder (data file plus dataset_info.json); the others write one file.
        by = {"human": "-by-person", "reward": "-by-reward"}.get(self.decided_by or "", "")
        name = f"{kind}{by}-{layout}" if layout == "llamafactory" else f"{kind}{by}-{layout}.{file_type}"
        self.path_edit.setText(str(Path(self._store.exports_dir) / name))

    def _choose_path(self, current: str) -> str:
        _kind, layout, file_type, _path = self.choices()
        if layout == "llamafactory":  # a folder
            return folder_chooser(self, "Export folder")(str(Path(current).parent))
        return save_file_chooser(self, "Export file", f"{file_type.upper()} files (*.{file_type})")(current)

    def done(self, result: int) -> None:
        if self.is_running:  # closing mid-export would drop the report; the export takes seconds
            self.result_label.setText("Still exporting; the window closes when it is done.")
            self._task.sig_task_finished.connect(lambda _r: QDialog.done(self, result))
            self._task.sig_task_failed.connect(lambda *_a: QDialog.done(self, result))
            return
        super().done(result)

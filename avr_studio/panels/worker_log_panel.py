"""The worker's log as a person reads it: its own messages and errors, with library progress bars
(tqdm's "Loading weights: 45%|███ |") folded into the job's progress line in the Jobs panel instead of
a wall of bars. A switch shows everything the worker wrote."""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from avr_studio.context import ProjectContext
from avr_studio.log_lines import library_progress

KEPT_LINES = 5000


class WorkerLogPanel(QWidget):
    """Log lines of the worker (protocol Log events and its stderr), progress bars folded away."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("worker_log_panel")
        self._lines: deque[str] = deque(maxlen=KEPT_LINES)
        self.folded = 0  # progress-bar lines not shown
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setMaximumBlockCount(KEPT_LINES)
        self.text.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.show_bars_check = QCheckBox("Show library progress bars")
        self.show_bars_check.setToolTip("Progress bars of the libraries the worker uses (model loading, "
                                        "batches); folded into the job's progress line when off")
        self.show_bars_check.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.folded_label = QLabel()
        self.folded_label.setStyleSheet("color: #666;")
        clear = QPushButton("Clear")
        clear.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        clear.clicked.connect(self.clear)
        bar = QHBoxLayout()
        bar.addWidget(self.folded_label, 1)
        bar.addWidget(self.show_bars_check)
        bar.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)
        self.show_bars_check.toggled.connect(lambda _on: self._redraw())
        if context.worker_client is not None:
            context.worker_client.sig_log.connect(self.add_line)

    def add_line(self, line: str) -> None:
        self._lines.append(line)
        if self._shown(line):
            self.text.appendPlainText(line)
        else:
            self.folded += 1
            self.folded_label.setText(f"{self.folded} progress-bar line(s) folded into the job's progress")

    def shown_lines(self) -> list[str]:
        return self.text.toPlainText().splitlines()

    def clear(self) -> None:
        self._lines.clear()
        self.folded = 0
        self.folded_label.clear()
        self.text.clear()

    def _shown(self, line: str) -> bool:
        return self.show_bars_check.isChecked() or library_progress(line) is None

    def _redraw(self) -> None:
        self.text.setPlainText("\n".join(line for line in self._lines if self._shown(line)))

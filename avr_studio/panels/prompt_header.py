"""The question being answered, always in sight above the compare view: the prompt's whole text and,
when the prompt has one, its reference answer (the data set's own answer) behind a toggle."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from backend.curation.prompt_trees import PromptTrees

MAX_PROMPT_LINES = 6  # a longer prompt scrolls inside its box
MAX_REFERENCE_LINES = 10


def _fit_height(browser: QTextBrowser, max_lines: int) -> None:
    """Make a read-only text box as tall as its text, up to `max_lines` lines (then it scrolls)."""
    line = browser.fontMetrics().lineSpacing()
    browser.document().setTextWidth(max(browser.viewport().width(), 200))
    content = int(browser.document().size().height()) + 2 * browser.frameWidth() + 4
    browser.setFixedHeight(max(line + 12, min(content, max_lines * line + 12)))


class PromptHeader(QFrame):
    """Prompt text and (toggled) reference answer of `trees`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promptHeader")
        self.setStyleSheet("#promptHeader { background: #f4f6fa; border: 1px solid #d8dde6; border-radius: 3px; }")
        self.title = QLabel("<b>Prompt</b>")
        self.meta_label = QLabel()
        self.meta_label.setStyleSheet("color: #666;")
        self.reference_button = QToolButton(text="Reference answer", checkable=True)
        self.reference_button.setToolTip("Show the data set's own answer to this prompt")
        self.reference_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.reference_button.setArrowType(Qt.ArrowType.RightArrow)
        self.reference_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.prompt_text = QTextBrowser()
        self.reference_text = QTextBrowser()
        for browser in (self.prompt_text, self.reference_text):
            browser.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay with the tree
            browser.setFrameShape(QFrame.Shape.NoFrame)
        self.reference_text.hide()
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.meta_label, 1)
        top.addWidget(self.reference_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.prompt_text)
        layout.addWidget(self.reference_text)
        self.reference_button.toggled.connect(self._show_reference)
        self.show_trees(PromptTrees("", []))

    def show_trees(self, trees: PromptTrees) -> None:
        prompt, reference = trees.prompt, trees.reference
        self.prompt_text.setPlainText(prompt.text if prompt is not None else "")
        if prompt is None:
            self.prompt_text.setPlaceholderText("Pick a prompt in the list (Ctrl+1).")
        system = prompt.system if prompt is not None else None
        self.meta_label.setText(f"· system message: {' '.join(system.split())[:80]}" if system else "")
        self.reference_text.setPlainText(reference.text if reference is not None else "")
        self.reference_button.setVisible(reference is not None)
        if reference is not None:
            source = f" ({reference.source})" if reference.source else ""
            self.reference_button.setToolTip(f"Show the data set's own answer to this prompt{source}")
        self._show_reference(self.reference_button.isChecked())
        self._fit()

    @property
    def shown_prompt_text(self) -> str:
        return self.prompt_text.toPlainText()

    def _show_reference(self, shown: bool) -> None:
        has_reference = bool(self.reference_text.toPlainText())
        self.reference_text.setVisible(shown and has_reference)
        self.reference_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self._fit()

    def _fit(self) -> None:
        _fit_height(self.prompt_text, MAX_PROMPT_LINES)
        if self.reference_text.isVisibleTo(self):
            _fit_height(self.reference_text, MAX_REFERENCE_LINES)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit()  # a narrower box wraps the text into more lines

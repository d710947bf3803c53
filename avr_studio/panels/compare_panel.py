"""The selected node against the text that gives it meaning (`avr_studio.compare_context`), under the
prompt it answers: an answer and its criticism, an answer and its improvement with the criticism
between them, a person's edit against the model's text. A word diff (deletions red on the left,
insertions green on the right) is drawn only where the texts share enough words to make it useful.

Any two nodes of any prompts can still be compared through `ProjectContext.request_compare` or the
two node pickers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollBar,
    QSizePolicy,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from avr_studio.actions import ACTIONS_BY_ID, native_shortcut_text
from avr_studio.compare_context import CompareContext, PaneText, compare_context, diff_helps
from avr_studio.diffing import highlighted_html, word_diff
from avr_studio.models.tree_model import KIND_LABEL, node_summary_html
from avr_studio.panels.prompt_header import PromptHeader
from backend.curation.prompt_trees import PromptTrees
from backend.curation.provenance import made_from_other_text, source_text

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext
    from backend.avr.tree import TreeNode

DELETED_COLOUR = "#f7c6c5"
INSERTED_COLOUR = "#c8ecd0"
MIDDLE_BACKGROUND = "#fbf7ea"
STACK_BELOW_WIDTH = 560  # narrower than this, the panes stack vertically
DIFFERS_NOTE = "The two texts differ substantially: no word diff (it would colour nearly every word)."


def default_partner(trees: PromptTrees, node_id: str) -> str | None:
    """The node shown beside `node_id` (see compare_context): the answer a criticism or improvement
    responds to, an answer's best refinement, or the node itself for an edit (its model's text)."""
    context = compare_context(trees, node_id)
    if context is None:
        return None
    for side in (context.left, context.right):
        if side is not None and (side.node_id != node_id or side.original):
            return side.node_id
    return None


class ComparePanel(QWidget):
    """Prompt header, then left | (middle) | right panes with headers, node pickers, a diff toggle (D)
    and proportional scroll sync."""

    sig_diff_toggled = Signal(bool)
    """Diff highlighting was switched on (True) or off (False)."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compare_panel")
        self._context = context
        self._current = context.current_prompt  # the current prompt's trees, shared with the other panels
        self._other_trees: dict[str, PromptTrees] = {}  # other prompts compared, dropped when they change
        self._shown_prompt = ""
        self.left: PaneText | None = None
        self.right: PaneText | None = None
        self.middle: PaneText | None = None
        self.meaningful_diff = True  # False when the two sides are different kinds of text
        self.diff_shown = False  # a diff is painted now
        self._syncing = False

        self.prompt_header = PromptHeader()
        self.title_label = QLabel()
        self.title_label.setStyleSheet("color: #444;")
        self.title_label.setWordWrap(True)  # a long title wraps instead of widening the window
        self.left_combo, self.right_combo = QComboBox(), QComboBox()
        self.left_header, self.right_header, self.middle_header = QLabel(), QLabel(), QLabel()
        self.left_pane, self.right_pane, self.middle_pane = QTextBrowser(), QTextBrowser(), QTextBrowser()
        self.middle_pane.setStyleSheet(f"QTextBrowser {{ background: {MIDDLE_BACKGROUND}; }}")
        for combo in (self.left_combo, self.right_combo):
            combo.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for header in (self.left_header, self.right_header, self.middle_header):
            header.setTextFormat(Qt.TextFormat.RichText)
            header.setWordWrap(True)
        self.swap_button = QToolButton(text="⇄", toolTip="Swap the two sides")
        self.diff_button = QPushButton("Diff on", checkable=True, checked=True)
        diff_spec = ACTIONS_BY_ID["curate.toggle_diff"]  # the key lives in the one table of actions.py
        self.diff_button.setToolTip(f"Highlight word differences ({native_shortcut_text(diff_spec)})")
        for button in (self.swap_button, self.diff_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must never press a button here
        self.note_label = QLabel()
        self.note_label.setStyleSheet("color: #8a6d00;")
        self.note_label.setWordWrap(True)

        tools = QHBoxLayout()
        tools.addWidget(QLabel("<b>Compare</b>"))
        tools.addWidget(self.title_label, 1)
        tools.addWidget(self.swap_button)
        tools.addWidget(self.diff_button)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.middle_side = QWidget()
        for combo, header, pane in ((self.left_combo, self.left_header, self.left_pane),
                                    (None, self.middle_header, self.middle_pane),
                                    (self.right_combo, self.right_header, self.right_pane)):
            side = self.middle_side if combo is None else QWidget()
            box = QVBoxLayout(side)
            box.setContentsMargins(0, 0, 0, 0)
            if combo is not None:
                box.addWidget(combo)
            box.addWidget(header)
            box.addWidget(pane, 1)
            self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setStretchFactor(2, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.prompt_header)
        line = QFrame(frameShape=QFrame.Shape.NoFrame)
        line.setFixedHeight(2)
        layout.addWidget(line)
        layout.addLayout(tools)
        layout.addWidget(self.note_label)
        layout.addWidget(self.splitter, 1)

        self.toggle_diff_action = QAction(diff_spec.label.replace("&", ""), self,
                                          shortcut=QKeySequence(diff_spec.shortcut))
        self.toggle_diff_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.toggle_diff_action.triggered.connect(self.toggle_diff)
        self.addAction(self.toggle_diff_action)

        self.bind_actions(context.actions)  # in the app, the window's D action carries the shortcut
        self.diff_button.toggled.connect(self._on_diff_toggled)
        self.swap_button.clicked.connect(lambda: self.compare(self.right_id or "", self.left_id or ""))
        self.left_combo.activated.connect(lambda _i: self.compare(self.left_combo.currentData() or "",
                                                                  self.right_id or ""))
        self.right_combo.activated.connect(lambda _i: self.compare(self.left_id or "",
                                                                   self.right_combo.currentData() or ""))
        self.left_pane.verticalScrollBar().valueChanged.connect(
            lambda _v: self._sync_scroll(self.left_pane.verticalScrollBar(), self.right_pane.verticalScrollBar()))
        self.right_pane.verticalScrollBar().valueChanged.connect(
            lambda _v: self._sync_scroll(self.right_pane.verticalScrollBar(), self.left_pane.verticalScrollBar()))

        context.sig_node_selected.connect(self.show_default)
        context.sig_compare_requested.connect(self.compare)
        self._current.sig_trees_changed.connect(self._on_trees_changed)
        context.sig_data_changed.connect(self._on_data_changed)
        context.sig_project_opened.connect(self._on_project_changed)
        context.sig_project_closed.connect(self._on_project_changed)
        self._show_layout()

    # --- public --------------------------------------------------------------------------------
    @property
    def diff_enabled(self) -> bool:
        return self.diff_button.isChecked()

    @property
    def left_id(self) -> str | None:
        return self.left.node_id if self.left else None

    @property
    def right_id(self) -> str | None:
        return self.right.node_id if self.right else None

    @property
    def middle_id(self) -> str | None:
        return self.middle.node_id if self.middle else None

    def bind_actions(self, actions: dict[str, QAction]) -> None:
        """Use the main window's D action instead of the panel's own (two D shortcuts would clash)."""
        window_action = actions.get("curate.toggle_diff")
        if window_action is not None:
            self.removeAction(self.toggle_diff_action)
            window_action.triggered.connect(self.toggle_diff_action.trigger)

    def toggle_diff(self) -> None:
        self.diff_button.toggle()

    def focus_texts(self) -> None:
        """Put the keyboard in the compare view: arrows and Page keys scroll the texts (kept in step)."""
        pane = self.right_pane if self.right is not None else self.left_pane
        pane.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def show_default(self, node_id: str) -> None:
        """Show `node_id` in the comparison that gives it meaning (see compare_context)."""
        found = self._lookup(node_id)
        if found is None:
            return
        context = compare_context(found[1], node_id)
        if context is not None:
            self._show(context)

    def compare(self, left_id: str, right_id: str) -> None:
        """Show two nodes (from any prompts) as they are now; an empty id leaves that side blank."""
        self._show(CompareContext(PaneText(left_id) if left_id else None,
                                  PaneText(right_id) if right_id else None, None, True, "Chosen nodes"))

    def resizeEvent(self, event) -> None:
        # Side by side needs room; in a narrow spot the texts read better one above the other.
        wide = event.size().width() >= STACK_BELOW_WIDTH
        self.splitter.setOrientation(Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical)
        super().resizeEvent(event)

    # --- rendering -----------------------------------------------------------------------------
    def _show(self, context: CompareContext) -> None:
        self.left, self.right, self.middle = context.left, context.right, context.middle
        self.meaningful_diff = context.diff
        self.title_label.setText(context.title)
        self._fill_combos()
        self._render()

    def _text(self, pane: PaneText | None) -> str:
        found = self._lookup(pane.node_id) if pane else None
        if found is None:
            return ""
        return found[0].node.text if pane.original else found[0].text

    def _render(self) -> None:
        left, right = self._lookup(self.left_id), self._lookup(self.right_id)
        left_text, right_text = self._text(self.left), self._text(self.right)
        comparable = bool(left and right and self.meaningful_diff)
        helps = comparable and diff_helps(left_text, right_text)
        diff = word_diff(left_text, right_text) if helps else None
        on = self.diff_enabled and diff is not None
        self.diff_shown = on
        self.note_label.setText(DIFFERS_NOTE if comparable and not helps and self.diff_enabled else "")
        self.note_label.setVisible(bool(self.note_label.text()))
        self.diff_button.setEnabled(comparable)
        left_scroll = self.left_pane.verticalScrollBar().value()
        self.left_pane.setHtml(highlighted_html(left_text, diff.deleted if diff else [],
                                                DELETED_COLOUR if on else None))
        self.right_pane.setHtml(highlighted_html(right_text, diff.inserted if diff else [],
                                                 INSERTED_COLOUR if on else None))
        self.left_pane.verticalScrollBar().setValue(left_scroll)  # a diff toggle keeps the reading place
        self.left_header.setText(self._header_html(left, self.left))
        self.right_header.setText(self._header_html(right, self.right, other=left))
        self._render_middle()

    def _render_middle(self) -> None:
        found = self._lookup(self.middle_id)
        self.middle_side.setVisible(found is not None)
        if found is None:
            self.middle_pane.clear()
            return
        criticism, trees = found
        text, note = criticism.text, "it acts on"
        improvement = trees.by_id.get(self.right_id or "")
        if improvement is not None and made_from_other_text(improvement, criticism):
            # The improvement was made from another text of this criticism (an edit since undone):
            # show the text it was really made from.
            store = self._context.store
            history = store.annotation_history(criticism.id) if store is not None else []
            made_from = source_text(improvement.node, criticism.node, history)
            text = made_from if made_from is not None else text
            note = "the text it was made from — not the criticism's text now" if made_from else \
                "(its text has changed since the improvement was made)"
        self.middle_header.setText(f"<b>Criticism</b> · <i>{note}</i>")
        self.middle_pane.setPlainText(text)

    def _header_html(self, found: tuple[TreeNode, PromptTrees] | None, pane: PaneText | None,
                     other: tuple[TreeNode, PromptTrees] | None = None) -> str:
        if found is None:
            return "<i>nothing chosen</i>"
        tree_node, trees = found
        if pane is not None and pane.original:
            return f"<b>{KIND_LABEL.get(tree_node.kind, tree_node.kind)}</b> · the model's text"
        html = node_summary_html(tree_node, trees.reward(tree_node.id))
        if other is not None and other[1].prompt_id != trees.prompt_id:
            html += " · <i>another prompt</i>"
        return html

    def _lookup(self, node_id: str | None) -> tuple[TreeNode, PromptTrees] | None:
        if not node_id:
            return None
        current = self._current.trees
        if node_id in current.by_id:  # the usual case: no query at all
            return current.by_id[node_id], current
        store = self._context.store
        node = store.get_node(node_id) if store is not None else None
        if node is None:
            return None
        trees = self._trees_of(node.prompt_id)
        tree_node = trees.by_id.get(node_id)
        return (tree_node, trees) if tree_node is not None else None

    def _trees_of(self, prompt_id: str) -> PromptTrees:
        if prompt_id == self._current.prompt_id:
            return self._current.trees
        if prompt_id not in self._other_trees:
            assert self._context.store is not None
            self._other_trees[prompt_id] = PromptTrees.load(self._context.store, prompt_id, self._current.scorer)
        return self._other_trees[prompt_id]

    def _fill_combos(self) -> None:
        """List the nodes of the shown prompts (usually one) in both pickers."""
        prompt_ids: list[str] = []
        for found in (self._lookup(self.left_id), self._lookup(self.right_id)):
            if found is not None and found[1].prompt_id not in prompt_ids:
                prompt_ids.append(found[1].prompt_id)
        for combo, chosen in ((self.left_combo, self.left_id), (self.right_combo, self.right_id)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("(none)", "")
            for number, prompt_id in enumerate(prompt_ids):
                for tree_node in self._trees_of(prompt_id).nodes():
                    first_line = " ".join(tree_node.text.split())[:80]
                    tag = f"[prompt {number + 1}] " if len(prompt_ids) > 1 else ""
                    combo.addItem(f"{tag}{KIND_LABEL.get(tree_node.kind, tree_node.kind)}: {first_line}",
                                  tree_node.id)
            combo.setCurrentIndex(max(0, combo.findData(chosen or "")))
            combo.blockSignals(False)

    # --- reactions -----------------------------------------------------------------------------
    def _on_diff_toggled(self, on: bool) -> None:
        self.diff_button.setText("Diff on" if on else "Diff off")
        self._render()
        self.sig_diff_toggled.emit(on)

    def _on_trees_changed(self, prompt_id: str) -> None:
        self.prompt_header.show_trees(self._current.trees)
        if prompt_id != self._shown_prompt:
            # Until a node is picked, a new prompt shows its answer against its best refinement.
            self._shown_prompt = prompt_id
            roots = self._current.trees.roots
            if self._context.current_node_id in self._current.trees.by_id:
                self.show_default(self._context.current_node_id)
            elif roots:
                self.show_default(roots[0].id)
            else:
                self._show(CompareContext(None, None, None, False, ""))
        elif self._context.current_node_id in self._current.trees.by_id:
            # The same prompt's data changed (a verdict, an edit, new children): show it as it is now.
            self.show_default(self._context.current_node_id)
        elif self.left or self.right:
            self._render()

    def _on_data_changed(self, prompt_id: str) -> None:
        """Another prompt's data changed: forget its trees (the current prompt's come from the model)."""
        if prompt_id:
            self._other_trees.pop(prompt_id, None)
        else:
            self._other_trees.clear()
        shown = [node_id for node_id in (self.left_id, self.right_id) if node_id]
        if any(node_id not in self._current.trees.by_id for node_id in shown):
            self._render()  # a node of another prompt is shown

    def _on_project_changed(self) -> None:
        self._other_trees.clear()
        self._shown_prompt = ""
        self.prompt_header.show_trees(self._current.trees)
        self._show(CompareContext(None, None, None, False, ""))

    def _show_layout(self) -> None:
        self.middle_side.hide()
        self.note_label.hide()

    def _sync_scroll(self, source: QScrollBar, target: QScrollBar) -> None:
        # Proportional: texts of different lengths stay at the same relative place.
        if self._syncing:
            return
        self._syncing = True
        try:
            fraction = source.value() / source.maximum() if source.maximum() else 0.0
            target.setValue(round(fraction * target.maximum()))
        finally:
            self._syncing = False

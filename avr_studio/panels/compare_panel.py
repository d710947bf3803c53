"""Two nodes side by side with a word diff (deletions red on the left, insertions green on the right).

By default the current node is shown against what it came from; any two nodes of any prompts can be
compared through `ProjectContext.request_compare` or the two node pickers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
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
from avr_studio.diffing import highlighted_html, word_diff
from avr_studio.models.tree_model import KIND_LABEL, node_summary_html
from backend.curation.prompt_trees import PromptTrees

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext
    from backend.avr.tree import TreeNode

DELETED_COLOUR = "#f7c6c5"
INSERTED_COLOUR = "#c8ecd0"
STACK_BELOW_WIDTH = 560  # narrower than this, the panes stack vertically


def default_partner(trees: PromptTrees, node_id: str) -> str | None:
    """What a node is naturally compared with: an improvement with the answer its criticism judged,
    a criticism with a sibling criticism, an answer with its best refinement (or first improvement)."""
    tree_node = trees.by_id.get(node_id)
    if tree_node is None:
        return None
    parent = trees.parent(node_id)
    if tree_node.kind == "improvement" and parent is not None:
        answer = trees.parent(parent.id)
        return answer.id if answer is not None else parent.id
    if tree_node.kind == "criticism" and parent is not None:
        sibling = next((c for c in parent.children if c.kind == "criticism" and c.id != node_id), None)
        return sibling.id if sibling is not None else parent.id
    improvements = [i for c in tree_node.children if c.kind == "criticism" for i in c.children]
    best = next((i for i in improvements if trees.reward(i.id).best), None)
    chosen = best or (improvements[0] if improvements else None)
    return chosen.id if chosen is not None else None


class ComparePanel(QWidget):
    """Left and right panes with headers, node pickers, a diff toggle (D) and proportional scroll sync."""

    sig_diff_toggled = Signal(bool)
    """Diff highlighting was switched on (True) or off (False)."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compare_panel")
        self._context = context
        self._current = context.current_prompt  # the current prompt's trees, shared with the other panels
        self._other_trees: dict[str, PromptTrees] = {}  # other prompts compared, dropped when they change
        self._shown_prompt = ""
        self.left_id: str | None = None
        self.right_id: str | None = None
        self._syncing = False

        self.left_combo, self.right_combo = QComboBox(), QComboBox()
        self.left_header, self.right_header = QLabel(), QLabel()
        self.left_pane, self.right_pane = QTextBrowser(), QTextBrowser()
        for combo in (self.left_combo, self.right_combo):
            combo.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        for header in (self.left_header, self.right_header):
            header.setTextFormat(Qt.TextFormat.RichText)
            header.setWordWrap(True)
        self.swap_button = QToolButton(text="⇄", toolTip="Swap the two sides")
        self.diff_button = QPushButton("Diff on", checkable=True, checked=True)
        diff_spec = ACTIONS_BY_ID["curate.toggle_diff"]  # the key lives in the one table of actions.py
        self.diff_button.setToolTip(f"Highlight word differences ({native_shortcut_text(diff_spec)})")

        tools = QHBoxLayout()
        tools.addWidget(QLabel("Compare"))
        tools.addStretch(1)
        tools.addWidget(self.swap_button)
        tools.addWidget(self.diff_button)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for combo, header, pane in ((self.left_combo, self.left_header, self.left_pane),
                                    (self.right_combo, self.right_header, self.right_pane)):
            side = QWidget()
            box = QVBoxLayout(side)
            box.setContentsMargins(0, 0, 0, 0)
            box.addWidget(combo)
            box.addWidget(header)
            box.addWidget(pane, 1)
            self.splitter.addWidget(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(tools)
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

    # --- public --------------------------------------------------------------------------------
    @property
    def diff_enabled(self) -> bool:
        return self.diff_button.isChecked()

    def bind_actions(self, actions: dict[str, QAction]) -> None:
        """Use the main window's D action instead of the panel's own (two D shortcuts would clash)."""
        window_action = actions.get("curate.toggle_diff")
        if window_action is not None:
            self.removeAction(self.toggle_diff_action)
            window_action.triggered.connect(self.toggle_diff_action.trigger)

    def toggle_diff(self) -> None:
        self.diff_button.toggle()

    def show_default(self, node_id: str) -> None:
        """Show `node_id` against its default partner (see default_partner), older text on the left."""
        found = self._lookup(node_id)
        if found is None:
            return
        tree_node, trees = found
        partner = default_partner(trees, node_id)
        if tree_node.kind in ("criticism", "improvement"):
            self.compare(partner or "", node_id)
        else:  # an answer against its refinement: the older text stays on the left
            self.compare(node_id, partner or "")

    def compare(self, left_id: str, right_id: str) -> None:
        """Show two nodes (from any prompts); an empty id leaves that side blank."""
        self.left_id, self.right_id = left_id or None, right_id or None
        self._fill_combos()
        self._render()

    def resizeEvent(self, event) -> None:
        # Side by side needs room; in a narrow spot the two texts read better one above the other.
        wide = event.size().width() >= STACK_BELOW_WIDTH
        self.splitter.setOrientation(Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical)
        super().resizeEvent(event)

    # --- rendering -----------------------------------------------------------------------------
    def _render(self) -> None:
        left, right = self._lookup(self.left_id), self._lookup(self.right_id)
        left_text = left[0].text if left else ""
        right_text = right[0].text if right else ""
        diff = word_diff(left_text, right_text) if left and right else None
        on = self.diff_enabled and diff is not None
        left_scroll = self.left_pane.verticalScrollBar().value()
        self.left_pane.setHtml(highlighted_html(left_text, diff.deleted if diff else [],
                                                DELETED_COLOUR if on else None))
        self.right_pane.setHtml(highlighted_html(right_text, diff.inserted if diff else [],
                                                 INSERTED_COLOUR if on else None))
        self.left_pane.verticalScrollBar().setValue(left_scroll)  # a diff toggle keeps the reading place
        self.left_header.setText(self._header_html(left))
        self.right_header.setText(self._header_html(right, other=left))

    def _header_html(self, found: tuple[TreeNode, PromptTrees] | None,
                     other: tuple[TreeNode, PromptTrees] | None = None) -> str:
        if found is None:
            return "<i>nothing chosen</i>"
        tree_node, trees = found
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
        if prompt_id != self._shown_prompt:
            # Until a node is picked, a new prompt shows its answer against its best refinement.
            self._shown_prompt = prompt_id
            roots = self._current.trees.roots
            if roots:
                self.show_default(roots[0].id)
            else:
                self.compare("", "")
        elif self.left_id or self.right_id:  # the same prompt's data changed: show it as it is now
            self.compare(self.left_id or "", self.right_id or "")

    def _on_data_changed(self, prompt_id: str) -> None:
        """Another prompt's data changed: forget its trees (the current prompt's come from the model)."""
        if prompt_id:
            self._other_trees.pop(prompt_id, None)
        else:
            self._other_trees.clear()
        shown = [node_id for node_id in (self.left_id, self.right_id) if node_id]
        if any(node_id not in self._current.trees.by_id for node_id in shown):
            self.compare(self.left_id or "", self.right_id or "")  # a node of another prompt is shown

    def _on_project_changed(self) -> None:
        self._other_trees.clear()
        self._shown_prompt = ""
        self.left_id = self.right_id = None
        self._fill_combos()
        self._render()

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

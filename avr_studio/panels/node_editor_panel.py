"""The current node up close: its verdict, every scorer's score, where it came from and its history,
with the curation actions of actions.py (accept, reject, skip, edit, commit, cancel, regenerate) as
buttons. Its text is read in the compare view; the text box here appears for an edit (and whenever
the compare view is out of sight), so a text is never shown twice.

Verdicts apply to responses, criticisms and improvements: a verdict on the response matters too (an
accepted response is never the rejected side of the response pair). Long thoughts take no verdict.
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from avr_studio.actions import ACTIONS_BY_ID
from avr_studio.commands.curation import EditTextCommand, SetVerdictCommand, submit_regenerate_improvements
from avr_studio.models.tree_model import node_summary_html
from avr_studio.panels.history_rows import history_rows
from avr_studio.panels.on_screen import is_on_screen
from backend.domain import REVERT_EDIT, TREE_ANSWER_KINDS, VERDICT_NODE_KINDS
from backend.errors import UserError

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext
    from backend.avr.tree import TreeNode

# The curation actions of actions.py (labels and keys live there) and the method each one calls.
CURATION_METHODS: dict[str, str] = {
    "curate.accept": "accept",
    "curate.reject": "reject",
    "curate.skip": "skip",
    "curate.edit": "start_edit",
    "curate.commit": "commit_edit",
    "curate.cancel": "cancel_edit",
    "curate.regenerate": "regenerate",
}


def _author() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


class NodeEditorPanel(QWidget):
    """Shows `context.current_node_id` and turns the curation keys into undoable commands."""

    sig_regenerate_requested = Signal(str)
    """Improvements were asked for from this criticism (node id); the job has been submitted."""

    sig_edit_started = Signal(str)
    """The person started editing this node's text (node id)."""

    sig_edit_finished = Signal(str)
    """An edit was saved or dropped (node id): the keyboard goes back to the tree."""

    sig_verdict_given = Signal(str)
    """A verdict by the person on this node (node id) is stored: the curation flow moves on."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None, author: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("node_editor_panel")
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # a click anywhere in the panel arms its keys
        self._context = context
        self._current = context.current_prompt  # the trees shared with the other panels
        self.author = author or _author()
        self.node_id: str | None = None
        self.editing = False
        self._edited: TreeNode | None = None  # the node being edited, kept even if the trees change

        self.text_shown_elsewhere = False  # the compare view shows the node's text (the main window says)
        self.header_label = QLabel(textFormat=Qt.TextFormat.RichText, wordWrap=True)
        self.original_button = QPushButton("edited — show original", checkable=True)
        self.original_button.setToolTip("Show the model's text instead of the person's edit")
        self.original_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.text_edit = QPlainTextEdit(readOnly=True)
        self.text_hint = QLabel("<i>Its text is in the compare view. E edits it here.</i>")
        self.text_hint.setStyleSheet("color: #666;")
        self.scores_note = QLabel(wordWrap=True)
        self.scores_note.setStyleSheet("color: #8a6d00;")
        self.scores_table = QTableWidget(0, 2)
        self.scores_table.setHorizontalHeaderLabels(["Scorer", "Score"])
        self.history_table = QTableWidget(0, 4)
        self.history_table.setHorizontalHeaderLabels(["When", "Who", "Verdict", "Edit"])
        self.show_undone_check = QCheckBox("Show undone steps")
        self.show_undone_check.setToolTip("Undo appends a restoring row (history is never erased); "
                                          "these pairs of rows are hidden unless this is on")
        self.show_undone_check.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.undone_label = QLabel()
        self.undone_label.setStyleSheet("color: #666;")
        self._history_stale = True  # the history tab reads the store only when it is on screen
        for table in (self.scores_table, self.history_table):
            table.verticalHeader().hide()
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            table.horizontalHeader().setStretchLastSection(True)

        self.actions_by_id: dict[str, QAction] = {}
        self.buttons: dict[str, QPushButton] = {}
        # A grid of two columns: one row of seven buttons forced the dock past 800 px wide, and four
        # columns still kept it at ~430 px, leaving the central tabs (tree picture, plots) ~530 px.
        button_grid = QGridLayout()
        for position, (action_id, method) in enumerate(CURATION_METHODS.items()):
            spec = ACTIONS_BY_ID[action_id]
            action = QAction(spec.button, self, shortcut=QKeySequence(spec.shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(getattr(self, method))
            self.addAction(action)
            self.actions_by_id[action_id] = action
            button = QPushButton(spec.button_text)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the panel, not a button
            button.clicked.connect(getattr(self, method))
            self.buttons[action_id] = button
            button_grid.addWidget(button, position // 2, position % 2)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        header_row = QHBoxLayout()
        header_row.addWidget(self.header_label, 1)
        header_row.addWidget(self.original_button)
        top_layout.addLayout(header_row)
        top_layout.addLayout(button_grid)
        top_layout.addWidget(self.text_hint)
        top_layout.addWidget(self.text_edit, 1)
        # takes the room the hidden text box leaves, so the buttons stay under the header
        self._filler = QWidget()
        top_layout.addWidget(self._filler, 1)
        scores_page = QWidget()
        scores_box = QVBoxLayout(scores_page)
        scores_box.setContentsMargins(0, 0, 0, 0)
        scores_box.addWidget(self.scores_note)
        scores_box.addWidget(self.scores_table, 1)
        history_page = QWidget()
        history_box = QVBoxLayout(history_page)
        history_box.setContentsMargins(0, 0, 0, 0)
        history_row = QHBoxLayout()
        history_row.addWidget(self.undone_label, 1)
        history_row.addWidget(self.show_undone_check)
        history_box.addLayout(history_row)
        history_box.addWidget(self.history_table, 1)
        self.details_tabs = QTabWidget()
        self.details_tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.details_tabs.addTab(scores_page, "Scores")
        self.details_tabs.addTab(history_page, "History")
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.details_tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)

        self.bind_actions(context.actions)  # in the app, the window's actions carry the shortcuts
        self.original_button.toggled.connect(lambda _on: self._show_text())
        self.show_undone_check.toggled.connect(lambda _on: self._show_history(force=True))
        self.details_tabs.currentChanged.connect(lambda _i: self._show_history())
        context.sig_node_selected.connect(self.show_node)
        self._current.sig_trees_changed.connect(self._on_trees_changed)
        # A draft being typed is saved while the store is still open (closing the window or opening
        # another project mid-edit must neither lose the text nor write to a closed store).
        context.sig_project_about_to_close.connect(self._save_draft_before_close)
        context.sig_project_closed.connect(lambda: self.show_node(""))
        context.sig_project_opened.connect(lambda: self.show_node(""))
        self.show_node(context.current_node_id or "")

    # --- public --------------------------------------------------------------------------------
    @property
    def tree_node(self) -> TreeNode | None:
        return self._current.trees.by_id.get(self.node_id) if self.node_id else None

    def bind_actions(self, actions: dict[str, QAction]) -> None:
        """Drive the panel from the main window's curation actions instead of its own shortcuts
        (the same key on two active actions would be ambiguous and fire neither). The panel's own
        action keeps deciding whether the window's one is enabled."""
        for action_id, own in self.actions_by_id.items():
            window_action = actions.get(action_id)
            if window_action is None:
                continue
            self.removeAction(own)
            window_action.triggered.connect(own.trigger)
            own.changed.connect(lambda own=own, w=window_action: w.setEnabled(own.isEnabled()))
            window_action.setEnabled(own.isEnabled())

    def show_node(self, node_id: str) -> None:
        """Show a node of the current prompt's trees ("" or an unknown id: nothing)."""
        if self.editing and node_id != self.node_id:
            self._keep_draft()
        self.node_id = node_id if node_id in self._current.trees.by_id else None
        self.original_button.setChecked(False)
        self._history_stale = True
        self._refresh()

    def set_text_shown_elsewhere(self, shown: bool) -> None:
        """The compare view shows the node's text (True) or is out of sight (False)."""
        self.text_shown_elsewhere = shown
        self._show_text()

    def accept(self) -> None:
        self._set_verdict("accept")

    def reject(self) -> None:
        self._set_verdict("reject")

    def skip(self) -> None:
        self._set_verdict("skip")

    def start_edit(self) -> None:
        tree_node = self.tree_node
        if tree_node is None or self.editing:
            return
        self.editing, self._edited = True, tree_node
        self.original_button.setChecked(False)
        self.text_edit.setPlainText(tree_node.text)
        self.text_edit.setReadOnly(False)
        self._show_text_box(True)
        self.text_edit.setFocus()
        self._update_enabled()
        self.sig_edit_started.emit(tree_node.id)

    def commit_edit(self) -> None:
        tree_node = self._edited
        if not self.editing or tree_node is None:
            return
        new_text = self.text_edit.toPlainText()
        if not new_text.strip():
            QMessageBox.information(self, "Empty text", "A node's text cannot be empty. Type a text, or press "
                                    "Esc to cancel (reject the node if it should not be used).")
            return
        self._end_edit()
        if new_text == tree_node.text:  # unchanged: no edit, keep the history clean
            self._refresh()
            self.sig_edit_finished.emit(tree_node.id)
            return
        if new_text == tree_node.node.text:
            new_text = REVERT_EDIT  # typed back to the model's text: that is dropping the edit
        self._push(EditTextCommand(self._context.store, tree_node.id, new_text, self.author,
                                   self._context.notify_data_changed))
        self.sig_edit_finished.emit(tree_node.id)

    def cancel_edit(self) -> None:
        if self.editing:
            node_id = self._edited.id if self._edited is not None else ""
            self._end_edit()
            self._refresh()
            self.sig_edit_finished.emit(node_id)

    def regenerate(self) -> None:
        tree_node = self.tree_node
        if tree_node is None or tree_node.kind != "criticism" or self.editing:
            return
        try:
            submit_regenerate_improvements(self._context, tree_node.id)
        except UserError as exc:  # its message says what to do
            QMessageBox.warning(self, "Cannot regenerate improvements", str(exc))
            return
        self.sig_regenerate_requested.emit(tree_node.id)

    # --- internals -----------------------------------------------------------------------------
    def _save_draft_before_close(self) -> None:
        if self.editing and self._context.store is not None:
            self._keep_draft()

    def _keep_draft(self) -> None:
        # Moving to another node mid-edit commits the draft (one Ctrl+Z takes it back): typed work
        # is never lost silently, and no dialog interrupts keyboard navigation.
        if self.text_edit.toPlainText().strip():
            self.commit_edit()
        else:
            self.cancel_edit()

    def _set_verdict(self, verdict: str) -> None:
        tree_node = self.tree_node
        if tree_node is None or self.editing or tree_node.kind not in VERDICT_NODE_KINDS:
            return
        self._push(SetVerdictCommand(self._context.store, tree_node.id, verdict, self.author,
                                     self._context.notify_data_changed))
        self.sig_verdict_given.emit(tree_node.id)

    def _push(self, command) -> None:
        # The command's callback emits sig_data_changed: the shared trees reload, and every panel with them.
        self._context.undo_stack.push(command)

    def _end_edit(self) -> None:
        self.editing, self._edited = False, None
        self.text_edit.setReadOnly(True)
        self._update_enabled()
        self._show_text()

    def _on_trees_changed(self, _prompt_id: str) -> None:
        # Another prompt (the node is gone) or the same one reloaded (its verdict, text or scores
        # changed). A draft being typed stays as it is, unless its node left the trees.
        if self.editing:
            if self.node_id in self._current.trees.by_id:
                return
            self._keep_draft()
        self.show_node(self.node_id or "")

    def _refresh(self) -> None:
        tree_node = self.tree_node
        self._show_header(tree_node)
        self._show_text()
        self._show_scores()
        self._history_stale = True
        self._show_history()
        self._update_enabled()

    def _show_header(self, tree_node: TreeNode | None) -> None:
        if tree_node is None:
            self.header_label.setText("<i>Select a node in the tree.</i>")
            return
        trees = self._current.trees
        self.header_label.setText(node_summary_html(tree_node, trees.reward(tree_node.id),
                                                    trees.parent(tree_node.id)))

    def _show_text(self) -> None:
        self._show_text_box(self.editing or self.original_button.isChecked() or not self.text_shown_elsewhere)
        if self.editing:
            return
        tree_node = self.tree_node
        self.original_button.setVisible(bool(tree_node and tree_node.is_edited))
        if tree_node is None:
            self.text_edit.clear()
        elif self.original_button.isChecked():
            self.text_edit.setPlainText(tree_node.node.text)
        else:
            self.text_edit.setPlainText(tree_node.text)

    def _show_text_box(self, shown: bool) -> None:
        self.text_edit.setVisible(shown)
        self._filler.setVisible(not shown)
        self.text_hint.setVisible(not shown and self.tree_node is not None)

    def _show_scores(self) -> None:
        tree_node = self.tree_node
        scores = self._current.trees.node_scores(self.node_id) if tree_node is not None else {}
        edited_answer = tree_node is not None and tree_node.is_edited and tree_node.kind in TREE_ANSWER_KINDS
        self.scores_note.setText("These scores are of the model's text: the person's edit is not scored."
                                 if edited_answer and scores else "")
        self.scores_note.setVisible(bool(self.scores_note.text()))
        self.scores_table.setRowCount(len(scores))
        for row, (scorer, value) in enumerate(sorted(scores.items())):
            self.scores_table.setItem(row, 0, QTableWidgetItem(scorer))
            value_item = QTableWidgetItem(f"{value:.4f}")
            value_item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.scores_table.setItem(row, 1, value_item)

    def _show_history(self, force: bool = False) -> None:
        """Read the node's history when the History tab is on screen (it costs a query per node)."""
        if not force and not (self._history_stale and is_on_screen(self.history_table)):
            return
        self._history_stale = False
        store = self._context.store
        history = store.annotation_history(self.node_id) if store is not None and self.node_id else []
        rows, hidden = history_rows(history, show_undone=self.show_undone_check.isChecked())
        self.undone_label.setText(f"{hidden} undone step(s) hidden" if hidden else "")
        self.history_table.setRowCount(len(rows))
        for row, cells in enumerate(rows):
            for column, text in enumerate(cells):
                self.history_table.setItem(row, column, QTableWidgetItem(text))

    def _update_enabled(self) -> None:
        tree_node = self.tree_node
        has_node = tree_node is not None
        can_judge = has_node and tree_node.kind in VERDICT_NODE_KINDS and not self.editing
        enabled = {
            "curate.accept": can_judge, "curate.reject": can_judge, "curate.skip": can_judge,
            "curate.edit": has_node and not self.editing,
            "curate.commit": self.editing, "curate.cancel": self.editing,
            "curate.regenerate": has_node and tree_node.kind == "criticism" and not self.editing,
        }
        for action_id, on in enabled.items():
            self.actions_by_id[action_id].setEnabled(bool(on))
            self.buttons[action_id].setEnabled(bool(on))

"""Curation actions on one node: a verdict or an edit (undoable QUndoCommands over the append-only
store) and regenerating improvements from a criticism (a worker job, so not undoable).

Nothing is ever deleted: redo appends the person's annotation, undo appends one that restores the
state captured when the command was made, so `annotation_history` keeps every step. Both go through
`backend.curation.annotations.annotate`, which rebuilds the prompt's pairs with the annotation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from backend.curation.annotations import annotate
from backend.domain import CLEAR_VERDICT, REVERT_EDIT, VERDICTS, Annotation, NodeState

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext
    from backend.store import Store


VERDICT_WORDS = {"accept": "Accept", "reject": "Reject", "skip": "Skip"}

ChangeCallback = Callable[[str], None]
"""Called with the node's prompt id after every redo and undo (e.g. ProjectContext.notify_data_changed)."""


class _NodeCommand(QUndoCommand):
    """Shared part: the node, its prompt, the state before the command, and the change callback."""

    def __init__(self, store: Store, node_id: str, author: str, on_changed: ChangeCallback | None,
                 text: str) -> None:
        super().__init__(text)
        node = store.get_node(node_id)
        if node is None:
            raise ValueError(f"no node {node_id!r} in this project; pick a node in the tree first")
        self.store, self.node, self.author = store, node, author
        self.before: NodeState = store.node_state(node_id)
        self._on_changed = on_changed

    def _append(self, verdict: str | None, edited_text: str | None) -> None:
        annotate(self.store, Annotation(self.node.id, verdict, edited_text, author=self.author))
        if self._on_changed is not None:
            self._on_changed(self.node.prompt_id)


class SetVerdictCommand(_NodeCommand):
    """Accept, reject or skip a node; undo restores the verdict it had before (or none)."""

    def __init__(self, store: Store, node_id: str, verdict: str, author: str = "",
                 on_changed: ChangeCallback | None = None) -> None:
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {verdict!r}")
        super().__init__(store, node_id, author, on_changed, "")
        self.verdict = verdict
        self.setText(f"{VERDICT_WORDS[verdict]} {self.node.kind}")

    def redo(self) -> None:
        self._append(self.verdict, None)

    def undo(self) -> None:
        self._append(self.before.verdict or CLEAR_VERDICT, None)


class EditTextCommand(_NodeCommand):
    """Replace a node's text with the person's version (the model's original stays stored).

    Improvements regenerated from an edited criticism were made from its edited text: undoing the edit
    may also reject them (`reject_on_undo`, set when the person chooses so), and redo brings back
    the verdicts they had."""

    def __init__(self, store: Store, node_id: str, new_text: str, author: str = "",
                 on_changed: ChangeCallback | None = None) -> None:
        super().__init__(store, node_id, author, on_changed, "")
        self.new_text = new_text
        self.reject_on_undo: list[str] = []  # improvements to reject with the undo
        self._verdicts_before_reject: dict[str, str | None] = {}
        self.setText(f"Edit {self.node.kind}")

    def redo(self) -> None:
        with self.store.transaction():
            for node_id, verdict in self._verdicts_before_reject.items():
                annotate(self.store, Annotation(node_id, verdict or CLEAR_VERDICT, None, author=self.author))
            self._verdicts_before_reject = {}
            self._append(None, self.new_text)

    def undo(self) -> None:
        before = self.before.edited_text
        with self.store.transaction():
            for node_id in self.reject_on_undo:
                self._verdicts_before_reject[node_id] = self.store.node_state(node_id).verdict
                annotate(self.store, Annotation(node_id, "reject", None, author=self.author))
            self._append(None, REVERT_EDIT if before is None else before)


# --- regenerating improvements (not undoable: it generates) ----------------------------------------


def submit_regenerate_improvements(context: ProjectContext, criticism_id: str) -> str:
    """Send a regenerate job (model and sampling of Settings, the project's ranking scorer); returns the
    job id. Raises UserError (with a sentence for the person) when the node cannot be regenerated from."""
    if context.store is None or context.jobs_service is None:
        raise RuntimeError("open a project (with its worker) before regenerating improvements")
    return context.jobs_service.submit_regenerate(criticism_id)

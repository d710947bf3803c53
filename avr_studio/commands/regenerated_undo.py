"""Undoing an edit of a criticism that improvements were regenerated from asks what to do with them:
they were made from the edited text, which the undo takes away. The person chooses to reject them
with the undo (redo brings their verdicts back) or to keep them, marked "made from an earlier text of
its criticism" (`backend/curation/provenance.py`); either way their text and provenance stay stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox, QWidget

from avr_studio.commands.curation import EditTextCommand
from avr_studio.dialogs import run_modal
from backend.curation.prompt_trees import PromptTrees
from backend.curation.provenance import text_sha1

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext

REJECT_TEXT = "Undo and reject them"
KEEP_TEXT = "Undo, keep them"


def made_from_edit(context: ProjectContext, command: EditTextCommand) -> list[str]:
    """Ids of improvements of the edited criticism that were made from the edit's text."""
    store = context.store
    if store is None or command.node.kind != "criticism" or not command.new_text:
        return []
    trees = context.current_prompt.trees
    if command.node.id not in trees.by_id:
        trees = PromptTrees.load(store, command.node.prompt_id)
    criticism = trees.by_id.get(command.node.id)
    edited = text_sha1(command.new_text)
    return [child.id for child in (criticism.children if criticism else [])
            if child.kind == "improvement" and child.node.sampling.get("criticism_text_sha1") == edited]


def confirm_undo(parent: QWidget, context: ProjectContext) -> bool:
    """Ask about regenerated improvements before their criticism's edit is undone; False: cancelled."""
    stack = context.undo_stack
    command = stack.command(stack.index() - 1) if stack.index() > 0 else None
    if not isinstance(command, EditTextCommand):
        return True
    children = made_from_edit(context, command)
    if not children:
        return True
    box = QMessageBox(QMessageBox.Icon.Question, "Undo the edit?",
                      f"{len(children)} improvement(s) were regenerated from this edited criticism. "
                      "Undoing the edit takes away the text they were made from.", parent=parent)
    box.setInformativeText("Reject them with the undo (redo brings them back), or keep them: they stay in "
                           "the tree marked “made from an earlier text of its criticism”.")
    reject = box.addButton(REJECT_TEXT, QMessageBox.ButtonRole.AcceptRole)
    keep = box.addButton(KEEP_TEXT, QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(reject)
    run_modal(box)
    clicked = box.clickedButton()
    if clicked is reject:
        command.reject_on_undo = children
    elif clicked is keep:
        command.reject_on_undo = []
    else:
        return False
    return True

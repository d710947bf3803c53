"""Undo you can read (issue 12, item 10 and the smaller ones), by keys in the real window: the Edit menu
names what Undo and Redo do; improvements regenerated from an edited criticism are marked and keep the
text they came from; undoing that edit asks, and "Undo and reject them" rejects them with it (redo
brings their verdicts back); an edited answer says its reward is the model's text's; the history
hides undone steps."""

import hashlib

from PySide6.QtCore import Qt

from backend.domain import Node
from backend.worker.ingest import store_records
from tests.gui.keys import press, when_a_dialog_opens

EDITED = "Explain how to use it: mix with water and scrub the oven."


def regenerated_children(store, prompt_id: str, text: str) -> list[Node]:
    """What a regenerate job from `text` journals: two improvements of c1 marked with their provenance
    (backend/worker/jobs/regenerate.py), stored as the app's ingest stores them."""
    marks = {"regenerated": True, "from_edited_criticism": True,
             "criticism_text_sha1": hashlib.sha1(text.encode("utf-8")).hexdigest()}
    nodes = [Node(f"g{k}", prompt_id, "improvement", f"Mix baking soda with water, version {k}.", parent_id="c1",
                  sampling=marks, model="tiny-test") for k in (1, 2)]
    store_records(store, [{"type": "node", "id": n.id, "prompt_id": n.prompt_id, "kind": n.kind, "text": n.text,
                           "parent_id": n.parent_id, "round": 0, "sampling": n.sampling, "model": n.model}
                          for n in nodes])
    return nodes


def test_edit_regenerate_undo_asks_and_rejects_the_regenerated_improvements(curation_shell, qtbot):
    shell = curation_shell
    context, store, window = shell.context, shell.context.store, shell.window
    undo, redo = window.actions_by_id["edit.undo"], window.actions_by_id["edit.redo"]
    context.select_prompt(shell.project.p1)
    context.select_node("c1")
    press(qtbot, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, Qt.Key.Key_E)
    editor = window.panels["node_editor"]
    editor.text_edit.selectAll()
    qtbot.keyClicks(editor.text_edit, EDITED)
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert undo.text() == "&Undo Edit criticism"

    regenerated_children(store, shell.project.p1, EDITED)  # R's job came back with two improvements
    context.notify_data_changed(shell.project.p1)
    context.select_node("g1")
    tree = window.panels["tree"]
    assert "⟲" in tree.model.data(tree.model.index_of("g1"))
    assert "from edited criticism" in editor.header_label.text()
    compare = window.compare_panel
    assert compare.middle_pane.toPlainText() == EDITED  # the criticism it acts on: the edited text

    when_a_dialog_opens(qtbot, Qt.Key.Key_Return)  # "Undo and reject them" is the default answer
    press(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert store.node_state("c1").edited_text is None
    assert store.node_state("g1").verdict == "reject" and store.node_state("g2").verdict == "reject"
    # they keep the text they were made from, and say so
    context.select_node("g2")
    assert "made from an earlier text of its criticism" in editor.header_label.text()
    assert compare.middle_pane.toPlainText() == EDITED
    assert "the text it was made from" in compare.middle_header.text()
    assert redo.text() == "&Redo Edit criticism"
    press(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert store.node_state("c1").edited_text == EDITED
    assert store.node_state("g1").verdict is None and store.node_state("g2").verdict is None


def test_an_edited_answer_says_whose_reward_it_shows_and_undone_steps_are_hidden(curation_shell, qtbot):
    shell = curation_shell
    context, window = shell.context, shell.window
    context.select_prompt(shell.project.p1)
    context.select_node("i12")
    press(qtbot, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, Qt.Key.Key_E)
    editor = window.panels["node_editor"]
    qtbot.keyClicks(editor.text_edit, " Also shoes.")
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    context.select_node("i12")
    assert "reward 0.700 (of the model's text)" in editor.header_label.text()
    assert editor.scores_note.text() == "These scores are of the model's text: the person's edit is not scored."
    for _ in range(2):  # accept, then undo: two history rows that cancel out
        press(qtbot, Qt.Key.Key_A)
        context.select_node("i12")
        press(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    editor.details_tabs.setCurrentIndex(1)
    assert editor.history_table.rowCount() == 1  # the edit; the accepted-then-undone steps are hidden
    assert editor.undone_label.text() == "4 undone step(s) hidden"
    editor.show_undone_check.setChecked(True)
    assert editor.history_table.rowCount() == 5

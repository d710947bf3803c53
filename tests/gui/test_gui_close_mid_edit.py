"""Closing the window, or opening another project, in the middle of an edit keeps the typed text as
an edit and raises nothing (issue 12, item 6)."""

from PySide6.QtCore import Qt

from backend.store import Store
from tests.gui.curation_store_fixture import build_curation_project
from tests.gui.keys import press


def _type_a_draft(shell, qtbot, text: str) -> None:
    shell.context.select_prompt(shell.project.p1)
    shell.context.select_node("c1")
    press(qtbot, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, Qt.Key.Key_E)
    editor = shell.window.panels["node_editor"]
    editor.text_edit.selectAll()
    qtbot.keyClicks(editor.text_edit, text)
    assert editor.editing


def test_quitting_mid_edit_keeps_the_typed_text(curation_shell, qtbot):
    shell = curation_shell
    _type_a_draft(shell, qtbot, "Say how to use it on an oven.")
    press(qtbot, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)  # File › Quit closes the window
    assert shell.context.store is None and not shell.window.isVisible()
    with Store.open(shell.project_dir) as store:
        assert store.node_state("c1").edited_text == "Say how to use it on an oven."
        # its pairs were rebuilt with it, as any edit's are
        assert any(p.kind == "edit" for p in store.pairs(prompt_id=shell.project.p1))


def test_opening_another_project_mid_edit_keeps_the_typed_text(curation_shell, qtbot, tmp_path):
    shell = curation_shell
    other = build_curation_project(tmp_path / "second")
    other.store.close()
    _type_a_draft(shell, qtbot, "A draft typed before switching projects.")
    assert shell.controller.open_project(tmp_path / "second" / "project")
    assert shell.context.store.project_dir == (tmp_path / "second" / "project").resolve()
    assert not shell.window.panels["node_editor"].editing
    assert shell.context.undo_stack.count() == 0  # the first project's commands never replay here
    with Store.open(shell.project_dir) as store:
        assert store.node_state("c1").edited_text == "A draft typed before switching projects."

"""The compare view shows each text against what gives it meaning (issue 12, item 4), driven by the
tree's arrow keys in the real window: a criticism beside the answer it criticises, an improvement
beside the answer with the criticism it acts on between them, an edit beside the model's text; a word
diff only where the texts share enough words."""

from PySide6.QtCore import Qt

from avr_studio.compare_context import shared_share
from avr_studio.panels.compare_panel import DIFFERS_NOTE, INSERTED_COLOUR
from tests.gui.curation_store_fixture import TEXTS
from tests.gui.keys import press
from tests.gui.screens import save_screenshot


def test_each_kind_of_node_is_shown_against_what_it_answers(curation_shell, qtbot):
    shell = curation_shell
    compare = shell.window.compare_panel
    shell.context.select_prompt(shell.project.p1)
    press(qtbot, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert shell.context.current_node_id == "r"
    # the answer: against its best refinement, with the criticism that led to it between them
    assert (compare.left_id, compare.middle_id, compare.right_id) == ("r", "c1", "i11")

    press(qtbot, Qt.Key.Key_Right)  # down to the first criticism
    assert shell.context.current_node_id == "c1"
    assert (compare.left_id, compare.right_id) == ("r", "c1") and compare.middle_id is None
    assert compare.left_pane.toPlainText() == TEXTS["r"] and compare.right_pane.toPlainText() == TEXTS["c1"]
    assert not compare.diff_shown and not compare.diff_button.isEnabled()  # an answer and a critique: no diff

    press(qtbot, Qt.Key.Key_Right)  # its first improvement
    assert (compare.left_id, compare.middle_id, compare.right_id) == ("r", "c1", "i11")
    assert compare.middle_pane.toPlainText() == TEXTS["c1"] and compare.middle_side.isVisible()
    assert compare.diff_shown and INSERTED_COLOUR in compare.right_pane.toHtml()
    # the selected text is not shown a second time in the node panel
    assert not shell.window.panels["node_editor"].text_edit.isVisible()
    save_screenshot(shell.window, "compare_improvement_with_its_criticism")


def test_an_edited_node_is_shown_against_the_models_text(curation_shell, qtbot):
    shell = curation_shell
    compare, editor = shell.window.compare_panel, shell.window.panels["node_editor"]
    shell.context.select_prompt(shell.project.p1)
    shell.context.select_node("c2")
    press(qtbot, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, Qt.Key.Key_E)
    editor.text_edit.selectAll()
    qtbot.keyClicks(editor.text_edit, "The answer is fine but could mention cooking and cleaning.")
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert compare.left.node_id == compare.right.node_id == "c2" and compare.left.original
    assert compare.left_pane.toPlainText() == TEXTS["c2"]
    assert compare.right_pane.toPlainText() == "The answer is fine but could mention cooking and cleaning."
    assert "the model's text" in compare.left_header.text()
    assert compare.diff_shown  # the person's version shares most words with the model's


def test_texts_that_share_little_get_a_note_instead_of_a_sea_of_colour(curation_shell, qtbot):
    shell = curation_shell
    compare = shell.window.compare_panel
    shell.context.select_prompt(shell.project.p2)
    shell.context.select_node("j12")  # "Photosynthesis." against "Plants turn light, water and ..."
    assert shared_share(TEXTS["s"], TEXTS["j12"]) < 0.4
    assert compare.note_label.text() == DIFFERS_NOTE and not compare.diff_shown
    assert INSERTED_COLOUR not in compare.right_pane.toHtml()

"""Compare panel: word-diff spans, the D toggle, default partners, pickers, other prompts, scroll sync."""

from PySide6.QtCore import Qt

from avr_studio.context import ProjectContext
from avr_studio.diffing import highlighted_html, word_diff
from avr_studio.panels.compare_panel import DELETED_COLOUR, INSERTED_COLOUR, ComparePanel, default_partner
from backend.curation.prompt_trees import PromptTrees
from tests.gui.curation_store_fixture import TEXTS
from tests.gui.screens import TMP_SCREENS, save_screenshot


def test_word_diff_spans_of_a_known_pair():
    old, new = TEXTS["r"], TEXTS["i11"]
    # "Baking soda cleans ovens. It also removes smells from the fridge."
    # "Baking soda cleans ovens when mixed with water. It also absorbs smells in the fridge."
    diff = word_diff(old, new)
    assert [old[a:b] for a, b in diff.deleted] == ["removes", "from"]
    assert [new[a:b] for a, b in diff.inserted] == ["when mixed with water", "absorbs", "in"]
    assert not word_diff("a  b\nc", "a b c").changed  # whitespace alone is no change


def test_highlighted_html_escapes_and_marks():
    html = highlighted_html("x < y and z", [(6, 9)], "#fff")
    assert '<span style="background-color:#fff">and</span>' in html and "x &lt; y" in html
    assert "span style" not in highlighted_html("x < y and z", [(6, 9)], None)


def test_default_partners(project):
    trees = PromptTrees.load(project.store, project.p1)
    assert default_partner(trees, "i12") == "r"  # an improvement against the answer it improves
    assert default_partner(trees, "c1") == "r"  # a criticism against the answer it criticises
    assert default_partner(trees, "r") == "i11"  # an answer against its best refinement


def _panel(qtbot, project) -> tuple[ProjectContext, ComparePanel]:
    context = ProjectContext(project.store)
    panel = ComparePanel(context)
    qtbot.addWidget(panel)
    panel.resize(900, 360)
    panel.show()
    context.select_prompt(project.p1)
    return context, panel


def test_selecting_a_node_compares_it_and_d_toggles_the_diff(qtbot, project):
    context, panel = _panel(qtbot, project)
    context.select_node("i11")
    assert (panel.left_id, panel.right_id) == ("r", "i11")
    assert DELETED_COLOUR in panel.left_pane.toHtml() and INSERTED_COLOUR in panel.right_pane.toHtml()
    assert "Δ +0.400" in panel.right_header.text() and "Response" in panel.left_header.text()
    assert panel.left_combo.currentData() == "r" and panel.right_combo.currentData() == "i11"
    qtbot.wait(10)
    save_screenshot(panel, "compare_panel", folders=(TMP_SCREENS,))

    with qtbot.waitActive(panel):
        panel.activateWindow()
    panel.right_pane.setFocus()
    with qtbot.waitSignal(panel.sig_diff_toggled) as toggled:
        qtbot.keyClick(panel.right_pane, Qt.Key.Key_D)
    assert toggled.args == [False]
    assert INSERTED_COLOUR not in panel.right_pane.toHtml() and DELETED_COLOUR not in panel.left_pane.toHtml()
    assert panel.right_pane.toPlainText() == TEXTS["i11"]
    qtbot.keyClick(panel.right_pane, Qt.Key.Key_D)
    assert panel.diff_enabled and INSERTED_COLOUR in panel.right_pane.toHtml()


def test_any_two_nodes_even_from_two_prompts(qtbot, project):
    context, panel = _panel(qtbot, project)
    assert (panel.left_id, panel.right_id) == ("r", "i11")  # a new prompt: answer vs best refinement
    context.request_compare("j11", "i22")
    assert panel.left_pane.toPlainText() == TEXTS["j11"] and panel.right_pane.toPlainText() == TEXTS["i22"]
    assert "another prompt" in panel.right_header.text()
    assert panel.left_combo.count() == 1 + 7 + 4  # "(none)" plus both prompts' nodes
    panel.right_combo.setCurrentIndex(panel.right_combo.findData("j12"))
    panel.right_combo.activated.emit(panel.right_combo.currentIndex())
    assert panel.right_id == "j12" and panel.right_pane.toPlainText() == TEXTS["j12"]
    panel.swap_button.click()
    assert (panel.left_id, panel.right_id) == ("j12", "j11")


def test_scrolling_one_side_scrolls_the_other_proportionally(qtbot, project):
    context, panel = _panel(qtbot, project)
    context.select_node("i11")
    panel.left_pane.setPlainText("line\n" * 400)
    panel.right_pane.setPlainText("line\n" * 100)
    qtbot.wait(10)
    left, right = panel.left_pane.verticalScrollBar(), panel.right_pane.verticalScrollBar()
    assert left.maximum() > right.maximum() > 0
    left.setValue(left.maximum() // 2)
    assert abs(right.value() - right.maximum() / 2) <= 2
    right.setValue(right.maximum())
    assert left.value() == left.maximum()

"""The curation flow by keys in the real window (issue 12, items 1-3 and the smaller ones): the prompt
is always readable above the compare view, one key decides a node and the next one comes up, N / P
move between prompts, the counter says how far the curation is, and the keyboard never gets stuck."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from avr_studio.actions import NAVIGATION_KEYS
from avr_studio.dialogs.shortcuts_dialog import ShortcutsDialog
from avr_studio.models.prompt_list_model import TEXT_COLUMN
from tests.gui.curation_store_fixture import PROMPT_TEXTS, TEXTS
from tests.gui.keys import focused, press
from tests.gui.screens import save_screenshot

KEY = Qt.Key






def states(shell, prompt_id):
    return {node_id: state.verdict for node_id, state in shell.context.store.node_states(prompt_id).items()}


def test_at_launch_the_keys_go_to_the_tree_and_space_skips_without_a_dialog(curation_shell, qtbot, monkeypatch):
    shell = curation_shell
    monkeypatch.setattr(QMessageBox, "exec", lambda *a: pytest_fail("no dialog may open"))
    tree_view = shell.window.panels["tree"].view
    qtbot.waitUntil(lambda: focused() is tree_view)  # not the banner's "Learn more…" button
    shell.context.select_prompt(shell.project.p1)
    assert shell.context.current_node_id == "r"  # a new prompt opens on its first undecided node
    press(qtbot, KEY.Key_Space)
    assert states(shell, shell.project.p1) == {"r": "skip"}


def pytest_fail(message):
    raise AssertionError(message)


def test_the_prompt_is_readable_above_the_compare_view(curation_shell, qtbot):
    shell = curation_shell
    window = shell.window
    press(qtbot, KEY.Key_1, Qt.KeyboardModifier.ControlModifier)  # Ctrl+1: the prompt list
    table = window.panels["prompts"].table
    assert focused() is table
    press(qtbot, KEY.Key_Down)  # the list's first row is current; Down goes to the second prompt
    header = window.compare_panel.prompt_header
    assert header.shown_prompt_text == PROMPT_TEXTS[1]
    assert header.prompt_text.isVisible() and header.prompt_text.height() >= header.fontMetrics().height()
    # the Prompt column keeps the room: the number columns that crowded it out wait in the header menu
    qtbot.waitUntil(lambda: table.columnWidth(TEXT_COLUMN) > table.viewport().width() // 2)
    assert window.panels["prompts"].model.headerData(TEXT_COLUMN, Qt.Orientation.Horizontal).endswith(
        "likelihood:test")
    save_screenshot(window, "flow_prompt_above_compare")


def test_one_key_per_decision_then_the_next_prompt_and_the_counter(curation_shell, qtbot):
    shell = curation_shell
    context, p1, p2 = shell.context, shell.project.p1, shell.project.p2
    context.select_prompt(p1)
    press(qtbot, KEY.Key_2, Qt.KeyboardModifier.ControlModifier)  # Ctrl+2: the tree
    assert focused() is shell.window.panels["tree"].view
    keys = [KEY.Key_A, KEY.Key_X, KEY.Key_A, KEY.Key_X, KEY.Key_Space, KEY.Key_A, KEY.Key_X]
    for key in keys:
        press(qtbot, key)
    assert states(shell, p1) == {"r": "accept", "c1": "reject", "i11": "accept", "i12": "reject",
                                 "c2": "skip", "i21": "accept", "i22": "reject"}
    # seven keys, seven decisions; the flow moved to the next prompt with undecided nodes by itself
    assert context.current_prompt_id == p2 and context.current_node_id == "s"
    counts = shell.window.panels["prompts"].count_label.text()
    assert counts.endswith("curated 1 of 2 trees")
    assert shell.window.panels["prompts"].model.data(
        shell.window.panels["prompts"].model.index(0, 6)) == "✓ 7"  # the Decided column of prompt 1
    press(qtbot, KEY.Key_P)  # back to the previous prompt
    assert context.current_prompt_id == p1
    press(qtbot, KEY.Key_N)
    assert context.current_prompt_id == p2


def test_tab_leaves_the_prompt_list_for_the_tree_and_an_edit_hands_the_keys_back(curation_shell, qtbot):
    shell = curation_shell
    context = shell.context
    press(qtbot, KEY.Key_1, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, KEY.Key_Tab)
    tree_view = shell.window.panels["tree"].view
    assert focused() is tree_view  # not the next cell of the table
    context.select_node("c1")
    press(qtbot, KEY.Key_E)
    editor = shell.window.panels["node_editor"]
    assert focused() is editor.text_edit and editor.text_edit.isVisible()
    editor.text_edit.selectAll()
    qtbot.keyClicks(editor.text_edit, "Say how to use it.")
    press(qtbot, KEY.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert focused() is tree_view  # the arrows move in the tree again
    assert not editor.text_edit.isVisible()  # the text is read in the compare view, not twice
    press(qtbot, KEY.Key_Down)
    assert context.current_node_id == "c2"
    press(qtbot, KEY.Key_3, Qt.KeyboardModifier.ControlModifier)  # Ctrl+3: the compare view's texts
    assert focused() in (shell.window.compare_panel.right_pane, shell.window.compare_panel.left_pane)


def test_relaunch_returns_to_the_last_prompt_and_node(curation_shell, qtbot):
    shell = curation_shell
    shell.context.select_prompt(shell.project.p2)
    shell.context.select_node("j12")
    shell.context.close_store()  # as closing the window does
    assert shell.controller.open_project(shell.project_dir)
    assert (shell.context.current_prompt_id, shell.context.current_node_id) == (shell.project.p2, "j12")


def test_the_shortcut_sheet_lists_the_arrow_keys_and_the_new_keys(curation_shell, qtbot):
    dialog = ShortcutsDialog(curation_shell.window)
    qtbot.addWidget(dialog)
    listed = [dialog.table.item(row, 0).text() for row in range(dialog.table.rowCount())]
    assert all(keys in listed for keys, _what in NAVIGATION_KEYS)
    assert {"N", "P", "J", "Ctrl+1", "Ctrl+2", "Ctrl+3"} <= set(listed)


def test_a_skip_reads_as_one_mark(curation_shell, qtbot):
    shell = curation_shell
    shell.context.select_prompt(shell.project.p1)
    shell.context.select_node("c1")
    press(qtbot, KEY.Key_2, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, KEY.Key_Space)
    shell.context.select_node("c1")
    header = shell.window.panels["node_editor"].header_label.text()
    assert "↷ skipped" in header and "· ·" not in header
    assert TEXTS["c1"].split("\n")[0] in shell.window.compare_panel.right_pane.toPlainText()

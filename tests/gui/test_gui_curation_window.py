"""In the real main window, the curation keys reach the panels once (no ambiguous duplicate shortcuts)."""

import pytest
from PySide6.QtCore import Qt

from avr_studio.app_settings import AppSettings
from avr_studio.context import ProjectContext
from avr_studio.main_window import MainWindow
from backend.domain import NodeState


@pytest.fixture
def window(qtbot, project):
    context = ProjectContext(project.store)
    main = MainWindow(context, AppSettings())
    qtbot.addWidget(main)
    main.show()
    with qtbot.waitActive(main):
        main.activateWindow()
    return main, context, project


def test_keys_in_the_tree_curate_undo_and_toggle_the_diff(qtbot, window):
    main, context, project = window
    context.select_prompt(project.p1)
    context.select_node("c1")
    tree = main.panels["tree"]
    tree.view.setFocus()
    qtbot.keyClick(tree.view, Qt.Key.Key_A)
    assert context.current_node_id == "i11"  # the flow moved on to the next undecided node
    qtbot.keyClick(tree.view, Qt.Key.Key_Down)
    assert context.current_node_id == "i12"
    qtbot.keyClick(tree.view, Qt.Key.Key_X)
    states = project.store.node_states(project.p1)
    assert states["c1"] == NodeState("accept") and states["i12"] == NodeState("reject")
    assert context.current_node_id == "c2"  # i11 was passed over by the arrow key; c2 comes next after i12
    qtbot.keyClick(tree.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "i12" not in project.store.node_states(project.p1)
    assert main.compare_panel.diff_enabled
    qtbot.keyClick(tree.view, Qt.Key.Key_D)
    assert not main.compare_panel.diff_enabled

"""The tree panel: lazy children, reward columns, arrow-key walking, selection kept across refreshes."""

from PySide6.QtCore import QModelIndex, Qt

from avr_studio.context import ProjectContext
from avr_studio.models.tree_model import (
    GAIN_COLUMN,
    GAIN_UP,
    NODE_ID_ROLE,
    RATING_COLUMN,
    REWARD_COLUMN,
    SCORER_COLUMN,
    VERDICT_COLUMN,
    TreeModel,
)
from avr_studio.panels.tree_panel import TreePanel
from backend.curation.prompt_trees import PromptTrees
from backend.domain import Annotation
from tests.gui.curation_store_fixture import SCORER
from tests.gui.screens import TMP_SCREENS, save_screenshot


def test_tree_model_passes_qt_model_tester_and_fetches_lazily(qtmodeltester, project):
    model = TreeModel()
    model.set_trees(PromptTrees.load(project.store, project.p1))
    root = model.index(0, 0)
    assert model.rowCount() == 1 and model.hasChildren(root)
    assert model.rowCount(root) == 0 and model.canFetchMore(root)  # children wait for the branch to open
    qtmodeltester.check(model)  # the tester fetches every branch it walks
    assert model.rowCount(root) == 2
    crit = model.index(0, 0, root)
    assert model.rowCount(crit) == 2 and not model.canFetchMore(crit)


def test_columns_show_rewards_gains_ratings_and_scorer(project):
    model = TreeModel()
    model.set_trees(PromptTrees.load(project.store, project.p1))
    c1 = model.index_of("c1")
    i11 = model.index_of("i11")
    assert model.data(c1.siblingAtColumn(REWARD_COLUMN)) == "0.800"  # mean of 0.9 and 0.7
    assert model.data(c1.siblingAtColumn(RATING_COLUMN)) == "6"
    assert model.data(i11.siblingAtColumn(GAIN_COLUMN)) == "+0.400"
    assert model.data(i11.siblingAtColumn(GAIN_COLUMN), Qt.ItemDataRole.ForegroundRole) == GAIN_UP
    assert model.data(i11.siblingAtColumn(SCORER_COLUMN)) == SCORER
    assert model.data(i11).startswith("★ Improvement: Baking soda cleans ovens when mixed")
    assert model.data(i11, NODE_ID_ROLE) == "i11"


def _current_id(panel: TreePanel) -> str:
    return panel.model.data(panel.view.currentIndex().siblingAtColumn(0), NODE_ID_ROLE)


def test_arrow_keys_walk_siblings_parent_and_first_child(qtbot, project):
    context = ProjectContext(project.store)
    panel = TreePanel(context)
    qtbot.addWidget(panel)
    panel.resize(900, 320)
    panel.show()
    context.select_prompt(project.p1)
    context.select_node("r")
    panel.view.setFocus()
    assert _current_id(panel) == "r"

    steps = [(Qt.Key.Key_Right, "c1"), (Qt.Key.Key_Down, "c2"), (Qt.Key.Key_Down, "c2"),  # no sibling below
             (Qt.Key.Key_Right, "i21"), (Qt.Key.Key_Down, "i22"), (Qt.Key.Key_Up, "i21"),
             (Qt.Key.Key_Left, "c2"), (Qt.Key.Key_Up, "c1"), (Qt.Key.Key_Left, "r"), (Qt.Key.Key_Left, "r")]
    for key, expected in steps:
        qtbot.keyClick(panel.view, key)
        assert _current_id(panel) == expected, f"after {key!r}"
        assert context.current_node_id == expected
    assert panel.view.isExpanded(panel.model.index_of("c1"))  # Left went to the parent without collapsing


def test_refresh_after_a_verdict_keeps_selection_and_shows_it(qtbot, project):
    context = ProjectContext(project.store)
    panel = TreePanel(context)
    qtbot.addWidget(panel)
    context.select_prompt(project.p1)
    context.select_node("i12")
    panel.view.collapse(panel.model.index_of("c2"))

    project.store.add_annotation(Annotation("i12", "reject", author="t"))
    project.store.add_annotation(Annotation("c1", "accept", "Say how to use it on ovens.", author="t"))
    with qtbot.waitSignal(panel.sig_trees_loaded):
        context.notify_data_changed(project.p1)
    assert panel.model.data(panel.model.index_of("c1")).startswith("★ ✎ Criticism: Say how to use it on ovens.")
    assert _current_id(panel) == "i12"
    verdict_cell = panel.model.index_of("i12").siblingAtColumn(VERDICT_COLUMN)
    assert panel.model.data(verdict_cell) == "✗"
    assert panel.model.data(verdict_cell, Qt.ItemDataRole.ToolTipRole) == "rejected"
    assert not panel.view.isExpanded(panel.model.index_of("c2"))  # what was closed stays closed
    panel.resize(900, 260)
    panel.show()
    qtbot.wait(10)  # let the layout catch up with the label texts before the picture
    save_screenshot(panel, "tree_panel", folders=(TMP_SCREENS,))

    context.notify_data_changed("some-other-prompt")  # not ours: nothing to do
    context.select_prompt(project.p2)
    assert panel.model.rowCount() == 1 and panel.model.data(panel.model.index(0, 0)).startswith("Response: Plants")
    assert panel.model.index_of("i12") == QModelIndex()

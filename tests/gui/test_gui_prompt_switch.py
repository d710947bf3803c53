"""Curating in the real window as a person does it, by keys: a prompt switch reads the prompt's trees
once (four queries) for every panel, a verdict rebuilds the stored pairs, and panels only display."""

import re

import pytest
from PySide6.QtCore import Qt

from avr_studio.app import build_shell
from avr_studio.app_settings import AppSettings
from backend.store.connection import Database
from tests.gui.curation_store_fixture import build_curation_project
from tests.gui.screens import save_screenshot

pytestmark = pytest.mark.usefixtures("own_data_dir")
TREE_QUERIES = {  # what PromptTrees.load asks (backend/store: prompt_context.py, nodes.py, prompt_scores.py,
    # curation.py): the prompt with its reference answer, the nodes, every scorer's scores, the states
    "prompt": re.compile(r"FROM prompts p LEFT JOIN reference_answers r .* WHERE p\.id = \?"),
    "nodes": re.compile(r"FROM nodes WHERE prompt_id = \?"),
    "scores": re.compile(r"FROM scores s JOIN nodes n .* WHERE n\.prompt_id = \?$"),
    "states": re.compile(r"FROM current_node_states s JOIN nodes n .* WHERE n\.prompt_id = \?"),
}
ONE_LOAD = {"prompt": 1, "nodes": 1, "scores": 1, "states": 1}


@pytest.fixture
def sql_log(monkeypatch):
    """Every SQL text the UI thread sends to the project database, in order."""
    sent: list[str] = []
    for method in ("execute", "rows", "row"):
        original = getattr(Database, method)

        def logged(self, sql, params=(), _original=original):
            sent.append(" ".join(sql.split()))
            return _original(self, sql, params)
        monkeypatch.setattr(Database, method, logged)
    return sent


@pytest.fixture
def shell(qtbot, tmp_path):
    project = build_curation_project(tmp_path)
    project.store.close()
    built = build_shell(AppSettings())
    qtbot.addWidget(built.window)
    built.window.show()
    assert built.controller.open_project(tmp_path / "project")
    built.project = project
    yield built
    built.worker.stop()


def tree_queries(sent):
    return {name: sum(bool(pattern.search(sql)) for sql in sent) for name, pattern in TREE_QUERIES.items()}


def test_a_prompt_switch_loads_the_trees_once_for_every_panel(shell, qtbot, sql_log):
    window, current = shell.window, shell.context.current_prompt
    table = window.panels["prompts"].table
    table.setFocus()  # the table takes its first row as current: the baking soda prompt
    qtbot.waitUntil(lambda: current.prompt_id == shell.project.p1)
    for _switch in range(3):  # down to the next prompt and back up, as a person pages through them
        for key, prompt_id in ((Qt.Key.Key_Down, shell.project.p2), (Qt.Key.Key_Up, shell.project.p1)):
            loads, sql_log[:] = current.loads, []
            qtbot.keyClick(table, key)
            assert current.prompt_id == prompt_id
            assert current.loads == loads + 1
            assert tree_queries(sql_log) == ONE_LOAD
            # Nothing else with the Pairs tab and the picture and reward tabs not selected: the tree,
            # node editor (its History tab is not shown) and compare view draw from the shared trees.
            assert len(sql_log) == 4, sql_log
    tree = window.panels["tree"]
    assert tree.model.trees is current.trees  # one loaded copy, shared
    assert window.compare_panel.right_id == "i11"  # the answer against its best refinement

    window.docks["pairs"].raise_()  # now the pairs panel reads the stored pairs on each switch
    qtbot.waitUntil(lambda: len(window.panels["pairs"].pairs) == 3)
    sql_log[:] = []
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert tree_queries(sql_log) == ONE_LOAD  # still one tree load
    assert window.panels["pairs"].prompt_id == shell.project.p2


def test_a_verdict_by_key_rebuilds_the_stored_pairs_and_the_panels_show_them(shell, qtbot):
    window, store, project = shell.window, shell.context.store, shell.project
    table = window.panels["prompts"].table
    table.setFocus()
    qtbot.waitUntil(lambda: shell.context.current_prompt.prompt_id == project.p1)
    tree_view = window.panels["tree"].view
    tree_view.setFocus()
    shell.context.select_node("i11")
    assert window.panels["node_editor"].node_id == "i11"

    qtbot.keyClick(tree_view, Qt.Key.Key_X)  # reject the reward model's favourite improvement
    stored = {p.kind: (p.chosen_node_id, p.rejected_node_id, p.decided_by) for p in store.pairs(prompt_id=project.p1)}
    assert stored["improvement"] == ("i12", "i11", "human")
    assert shell.context.current_prompt.trees.by_id["i11"].verdict == "reject"
    assert window.panels["tree"].model.trees.by_id["i11"].verdict == "reject"
    window.docks["pairs"].raise_()
    qtbot.waitUntil(lambda: any(p.decided_by == "human" for p in window.panels["pairs"].pairs))
    save_screenshot(window, "curation_window_after_reject")

    qtbot.keyClick(tree_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo
    stored = {p.kind: (p.chosen_node_id, p.rejected_node_id) for p in store.pairs(prompt_id=project.p1)}
    assert stored["improvement"] == ("i11", "i12")
    assert all(p.decided_by == "reward" for p in window.panels["pairs"].pairs)

"""Keys per decision on the demo project: a person curates its 24 shipped trees with the keyboard only
(A accept, X reject, Space skip) from launch to the last node; every key must decide a node and the
next undecided node must come up by itself. Prints the figure and the time per key."""

import statistics
import time

import pytest
from PySide6.QtCore import Qt

from avr_studio.app import build_shell
from avr_studio.app_settings import AppSettings
from backend.domain import VERDICT_NODE_KINDS
from tests.gui.keys import focused, press
from tests.gui.screens import save_screenshot

pytestmark = pytest.mark.usefixtures("own_data_dir")
VERDICT_KEYS = (Qt.Key.Key_A, Qt.Key.Key_X, Qt.Key.Key_A, Qt.Key.Key_Space, Qt.Key.Key_A, Qt.Key.Key_X, Qt.Key.Key_A)


def test_curating_the_demo_trees_takes_one_key_per_decision(qtbot, capsys):
    shell = build_shell(AppSettings())
    qtbot.addWidget(shell.window)
    shell.window.show()
    with qtbot.waitActive(shell.window):
        shell.window.activateWindow()
    assert shell.controller.open_demo_project(start_jobs=False)
    store, context = shell.context.store, shell.context
    to_decide = sum(n for kind, n in store.node_counts_by_kind().items() if kind in VERDICT_NODE_KINDS)
    trees = store.curation_progress()[1]
    assert (trees, to_decide) == (24, 24 * 7)
    tree_view = shell.window.panels["tree"].view
    qtbot.waitUntil(lambda: focused() is tree_view and context.current_node_id is not None)  # at launch

    keys, seconds = 0, []
    while store.curation_progress()[0] < trees:
        assert keys < 2 * to_decide, "the flow stalled"
        started = time.perf_counter()
        press(qtbot, VERDICT_KEYS[keys % len(VERDICT_KEYS)])
        seconds.append(time.perf_counter() - started)
        keys += 1
        if keys == 3:
            save_screenshot(shell.window, "demo_curation_by_keys")
    decided = sum(store.verdict_counts().values())
    assert decided == to_decide
    assert keys / decided == 1.0  # not one key spent on moving around
    assert shell.window.panels["prompts"].count_label.text().endswith("curated 24 of 24 trees")
    with capsys.disabled():
        print(f"\nkeys per decision on the demo project: {keys} keys / {decided} decisions = {keys / decided:.2f}; "
              f"per key median {statistics.median(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms")
    shell.worker.stop()
    shell.context.close_store()

"""Reward debugging: figures worked out by hand on two small trees, for the project and for one prompt;
every plot saves PNG, SVG and its data as CSV; a rectangle dragged over points filters the prompt list;
the disagreement queue is walked with J in the real window; a hidden tab reads nothing."""

import csv

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from avr_studio.app import build_shell
from avr_studio.app_settings import AppSettings
from avr_studio.context import ProjectContext
from avr_studio.panels.prompt_list_panel import PromptListPanel
from avr_studio.panels.reward_debug_panel import PROJECT_SCOPE, PROMPT_SCOPE, RewardDebugPanel
from backend.domain import Annotation, Node, Prompt, Score
from backend.store import Store
from tests.gui.curation_store_fixture import build_curation_project
from tests.gui.screens import save_screenshot

SCORER = "likelihood:test"


def add_tree(store: Store, text: str, answer_score: float, improvement_scores: list[float]) -> str:
    """A response, one criticism, and one improvement per score; returns the prompt id."""
    prompt = Prompt.from_text(text, source="test")
    store.add_prompts([prompt])
    response = Node(f"{prompt.id}-y", prompt.id, "response", "An answer.")
    criticism = Node(f"{prompt.id}-c", prompt.id, "criticism", "Too short.", parent_id=response.id)
    improvements = [Node(f"{prompt.id}-i{k}", prompt.id, "improvement", f"Better answer {k}.",
                         parent_id=criticism.id) for k in range(len(improvement_scores))]
    store.add_nodes([response, criticism, *improvements])
    store.add_scores([Score(response.id, SCORER, answer_score)]
                     + [Score(node.id, SCORER, value) for node, value in zip(improvements, improvement_scores, strict=True)])
    return prompt.id


@pytest.fixture
def two_trees(store):
    """Soda: y = 1.0, y' = 1.5, 0.5 (Δ +0.5, -0.5); France: y = -1.0, y' = 0, 2, -2 (Δ +1, +3, -1)."""
    soda = add_tree(store, "Name two uses of baking soda.", 1.0, [1.5, 0.5])
    france = add_tree(store, "What is the capital of France?", -1.0, [0.0, 2.0, -2.0])
    return store, soda, france


def _panel(qtbot, context) -> RewardDebugPanel:
    panel = RewardDebugPanel(context)
    qtbot.addWidget(panel)
    panel.resize(1100, 760)
    panel.show()
    return panel


@pytest.fixture
def closing(request):
    """Contexts made by a test close their store at its end, as the app does: the panel's read ends first."""
    contexts: list[ProjectContext] = []
    yield contexts.append
    for context in contexts:
        context.close_store()


def drag_to(widget, pos: QPoint) -> None:
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), QPointF(widget.mapToGlobal(pos)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_figures_for_the_project_and_for_one_prompt(qtbot, two_trees, closing):
    store, soda, _france = two_trees
    context = ProjectContext(store)
    closing(context)
    panel = _panel(qtbot, context)
    assert panel.scope == PROJECT_SCOPE and panel.scorer_combo.currentText() == SCORER
    qtbot.waitUntil(lambda: panel.data is not None)  # read on a pool thread
    # 5 improvements, Δ = +0.5 -0.5 +1 +3 -1: 3 above zero, mean +0.6
    assert panel.plots["gains"].figures_label.text() == "5 improvements · 3 with Δ > 0 (60%) · mean Δ +0.600"
    # before / after: soda 1.0 -> best 1.5, france -1.0 -> best 2.0: both beaten by their best refinement
    assert panel.plots["before_after"].figures_label.text().startswith(
        "2 answers · 2 beaten by their best refinement (100%")
    assert "Only one scorer" in panel.plots["scorers"].figures_label.text()
    save_screenshot(panel, "reward_debugging_project")

    context.select_prompt(soda)
    panel.set_scope(PROMPT_SCOPE)
    qtbot.waitUntil(lambda: panel.data is not None and panel.data.prompt_id == soda)
    assert panel.plots["gains"].figures_label.text() == "2 improvements · 1 with Δ > 0 (50%) · mean Δ +0.000"


def test_every_plot_saves_png_svg_and_its_data_as_csv(qtbot, two_trees, tmp_path, closing):
    store, soda, france = two_trees
    context = ProjectContext(store)
    closing(context)
    panel = _panel(qtbot, context)
    qtbot.waitUntil(lambda: panel.data is not None)
    plot = panel.plots["before_after"]
    with plot.save(tmp_path / "before_after.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["prompt_id", "answer_reward", "best_refinement_reward"]
    assert sorted((r[0], float(r[1]), float(r[2])) for r in rows[1:]) == sorted([(soda, 1.0, 1.5),
                                                                               (france, -1.0, 2.0)])
    image = QImage(str(plot.save(tmp_path / "before_after.png")))
    assert image.width() >= 800 and not image.isNull()
    assert "<svg" in plot.save(tmp_path / "before_after.svg").read_text(encoding="utf-8")
    with panel.plots["gains"].save(tmp_path / "gains.csv").open(encoding="utf-8") as handle:
        counts = [int(row[2]) for row in list(csv.reader(handle))[1:]]
    assert sum(counts) == 5 and counts[0] == 1 and counts[-1] == 1  # Δ -1 alone in the first bin, +3 in the last


def test_dragging_a_rectangle_over_points_filters_the_prompt_list(qtbot, two_trees, closing):
    store, soda, france = two_trees
    context = ProjectContext(store)
    closing(context)
    prompts = PromptListPanel(context)
    qtbot.addWidget(prompts)
    panel = _panel(qtbot, context)
    panel.sig_prompts_selected.connect(prompts.show_only)
    qtbot.waitUntil(lambda: panel.data is not None)
    plot = panel.plots["before_after"]
    view = plot.plot  # the PlotWidget (a QGraphicsView)
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: plot.view_box.viewRange()[0][0] < -0.9)  # the view took in the drawn points

    def on_screen(x: float, y: float) -> QPoint:
        scene = plot.view_box.mapViewToScene(QPointF(x, y))
        return view.mapFromScene(scene)

    # soda's answer sits at (1.0, 1.5); a rectangle from (0.5, 1.8) to (1.5, 1.2) holds it alone
    start, end = on_screen(0.5, 1.8), on_screen(1.5, 1.2)
    viewport = view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):  # QTest's mouseMove carries no button: send a drag as the mouse does
        drag_to(viewport, start + (end - start) * step / 5)
    with qtbot.waitSignal(panel.sig_prompts_selected) as selected:
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert selected.args[0] == [soda]
    assert [prompts.model.prompt_id(row) for row in range(prompts.model.rowCount())] == [soda]
    assert not prompts.selection_bar.isHidden() and "Before / after" in prompts.selection_label.text()
    prompts.clear_selection_button.click()
    assert prompts.model.rowCount() == 2


@pytest.fixture
def shell(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("AVR_STUDIO_DATA_DIR", str(tmp_path / "data"))
    project = build_curation_project(tmp_path)
    # A person accepted i12 (R 0.7) over its sibling i11 (R 0.9): margin 0.2; and c2 (r(c) = 0.35)
    # over c1 (0.8): margin 0.45. The reward agrees with the accepted i11 of the other prompt? No verdict.
    for node_id in ("i12", "c2"):
        project.store.add_annotation(Annotation(node_id, "accept", author="ann"))
    project.store.close()
    built = build_shell(AppSettings())
    qtbot.addWidget(built.window)
    built.window.show()
    assert built.controller.open_project(tmp_path / "project")
    built.project = project
    yield built
    built.worker.stop()


def test_j_walks_the_disagreement_queue_by_margin(shell, qtbot):
    window, context = shell.window, shell.context
    with qtbot.waitActive(window):
        window.activateWindow()
    tree_view = window.panels["tree"].view
    tree_view.setFocus()
    qtbot.keyClick(tree_view, Qt.Key.Key_J)  # the Reward Debugging tab was never shown: J reads the queue
    assert (context.current_prompt_id, context.current_node_id) == (shell.project.p1, "c2")
    assert [(d.node_id, round(d.margin, 3)) for d in window.reward_plot_panel.data.queue] == [
        ("c2", 0.45), ("i12", 0.2)]
    qtbot.keyClick(tree_view, Qt.Key.Key_J)
    assert context.current_node_id == "i12"
    qtbot.keyClick(tree_view, Qt.Key.Key_J)
    assert context.current_node_id == "c2"  # round again
    window.central_tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: window.reward_plot_panel.queue_table.rowCount() == 2)
    assert window.reward_plot_panel.queue_table.item(0, 1).text() == "accept"


def test_a_hidden_panel_reads_nothing_until_it_is_shown(qtbot, store, closing):
    add_tree(store, "Write a haiku about rain.", 0.2, [0.4])
    context = ProjectContext(store)
    closing(context)
    panel = RewardDebugPanel(context)
    qtbot.addWidget(panel)
    context.notify_data_changed("")
    assert not panel._refresh_timer.isActive() and panel._task is None and panel.data is None
    panel.show()
    qtbot.waitUntil(lambda: panel.data is not None)
    assert panel.plots["gains"].figures_label.text().startswith("1 improvements · 1 with Δ > 0")


def test_new_scores_from_a_job_redraw_the_plots_on_screen(qtbot, store, closing):
    context = ProjectContext(store)
    closing(context)
    panel = _panel(qtbot, context)
    assert panel.status_label.text().startswith("No scores yet")
    add_tree(store, "Write a haiku about rain.", 0.2, [0.4])
    context.notify_data_changed("")
    qtbot.waitUntil(lambda: panel.data is not None and panel.data.histogram.total == 1, timeout=5000)


def test_plots_reflow_to_the_tabs_width_and_never_scroll_sideways(qtbot, two_trees, closing):
    store, _soda, _france = two_trees
    context = ProjectContext(store)
    closing(context)
    panel = _panel(qtbot, context)  # 1100 px: three plots a row
    qtbot.waitUntil(lambda: panel.data is not None)
    qtbot.waitExposed(panel)
    assert panel.plot_columns == 3
    for width, columns in ((670, 2), (420, 1), (1100, 3)):  # the width the tab had in a 1400 px window: 670
        panel.resize(width, 760)
        qtbot.waitUntil(lambda columns=columns: panel.plot_columns == columns)
        QApplication.processEvents()
        lefts = {plot.x() for plot in panel.plots.values()}
        assert len(lefts) == columns, width
        assert panel.grid_scroll.horizontalScrollBar().maximum() == 0, width  # nothing cut at the right
        first = panel.plots["gains"]  # a plot's x axis and figures show without scrolling down
        assert first.geometry().bottom() < panel.grid_scroll.viewport().height(), width

"""The tree as a picture: every node a box with its reward bar, Δ colour and verdict mark; a click or
an arrow key selects a node everywhere; two pictures side by side (another scorer, another tree); and
fast on a 3 x 3 tree and a 5-round Stage II chain."""

import time
from datetime import timedelta

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from avr_studio.panels.tree_canvas import GAIN_DOWN, GAIN_UP, TreeCanvas, gain_fill
from avr_studio.tree_layout import layout_trees
from backend.avr.tree import build_trees
from backend.curation.prompt_trees import PromptTrees
from backend.domain import Annotation, Node, NodeState, Score
from tests.gui.curation_store_fixture import T0
from tests.gui.keys import press
from tests.gui.screens import save_screenshot


def _click(qtbot, canvas: TreeCanvas, node_id: str) -> None:
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.node_rect(node_id).center().toPoint())


def test_clicking_a_node_in_the_picture_selects_it_everywhere(curation_shell, qtbot):
    shell = curation_shell
    window, context = shell.window, shell.context
    context.select_prompt(shell.project.p1)
    press(qtbot, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)  # Ctrl+4: the Tree Picture tab
    picture = window.tree_picture_panel
    canvas = picture.left_canvas
    assert window.central_tabs.currentWidget() is picture and canvas.places
    _click(qtbot, canvas, "i12")
    assert context.current_node_id == "i12"
    assert window.panels["tree"].model.tree_node(window.panels["tree"].view.currentIndex()).id == "i12"
    assert window.panels["node_editor"].node_id == "i12"
    assert picture.node_text.toPlainText().startswith("Baking soda cleans ovens. It also removes smells from shoes.")
    press(qtbot, Qt.Key.Key_Up)  # arrows in the picture: the sibling above
    assert context.current_node_id == "i11"
    press(qtbot, Qt.Key.Key_Left)  # the parent
    assert context.current_node_id == "c1"
    press(qtbot, Qt.Key.Key_X)  # the curation keys work here too
    assert context.store.node_state("c1").verdict == "reject"
    save_screenshot(window, "tree_picture")


def test_boxes_show_reward_gain_colour_and_verdict(project):
    project.store.add_annotation(Annotation("i21", "accept"))
    trees = PromptTrees.load(project.store, project.p1)
    canvas = TreeCanvas()
    canvas.set_trees(trees)
    assert set(canvas.places) == {"r", "c1", "c2", "i11", "i12", "i21", "i22"}
    assert canvas._reward_range == (0.3, 0.9)  # the bars run from the smallest reward to the largest
    assert canvas._best_path == {"r", "c1", "i11"}  # the gold path to y'*
    image = canvas.grab().toImage()
    for node_id, colour in (("i11", gain_fill(0.4, 0.4)), ("i21", gain_fill(-0.2, 0.4))):
        rect = canvas.node_rect(node_id)
        assert image.pixelColor(QPoint(int(rect.center().x()), int(rect.top() + 30))) == colour, node_id
    assert gain_fill(0.4, 0.4).green() > gain_fill(0.4, 0.4).red() and gain_fill(-0.2, 0.4).red() > 200
    assert GAIN_UP != GAIN_DOWN and QColor(gain_fill(None, 1.0)).name() == "#f5f6f8"


def _beside_another_scorer(shell, qtbot):
    """The first prompt's tree picture (Ctrl+4) with the same tree under a second scorer beside it."""
    shell.context.store.add_scores([Score("r", "other", 0.0), Score("i11", "other", 0.1),
                                    Score("i12", "other", 0.8)])
    shell.context.notify_data_changed("")
    shell.context.select_prompt(shell.project.p1)
    press(qtbot, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    picture = shell.window.tree_picture_panel
    picture.show_beside(("scorer", "other"))
    return picture


def test_side_by_side_under_another_scorer(curation_shell, qtbot):
    shell = curation_shell
    picture = _beside_another_scorer(shell, qtbot)
    assert picture.right_side.isVisible() and picture.right_canvas.trees.scorer == "other"
    assert picture.right_canvas.trees.reward("i12").best and picture.left_canvas.trees.reward("i11").best
    _click(qtbot, picture.right_canvas, "i12")
    assert shell.context.current_node_id == "i12" and picture.left_canvas.selected == "i12"
    save_screenshot(shell.window, "tree_picture_two_scorers")


def _three_by_three() -> PromptTrees:
    nodes, scores, minute = [Node("r", "p", "response", "An answer " * 20, created_at=T0)], {"r": 0.0}, 1
    for c in range(3):
        nodes.append(Node(f"c{c}", "p", "criticism", "A criticism " * 15, parent_id="r",
                          created_at=T0 + timedelta(minutes=minute)))
        minute += 1
        for i in range(3):
            node_id = f"c{c}i{i}"
            nodes.append(Node(node_id, "p", "improvement", "An improvement " * 20, parent_id=f"c{c}",
                              created_at=T0 + timedelta(minutes=minute)))
            scores[node_id] = (c * 3 + i) / 10 - 0.3
            minute += 1
    return PromptTrees("p", build_trees(nodes, scores, {"c1": NodeState("accept")}))


def _five_round_chain() -> PromptTrees:
    """y0, then per round 2 criticisms x 2 improvements, the best one carrying the chain on."""
    nodes, scores, minute = [Node("y0", "p", "response", "The first answer " * 10, created_at=T0)], {"y0": 0.0}, 1
    current = "y0"
    for round_ in range(1, 6):
        best = None
        for c in range(2):
            crit = f"r{round_}c{c}"
            nodes.append(Node(crit, "p", "criticism", "Round criticism " * 10, parent_id=current, round=round_,
                              created_at=T0 + timedelta(minutes=minute)))
            minute += 1
            for i in range(2):
                node_id = f"{crit}i{i}"
                nodes.append(Node(node_id, "p", "improvement", "Round answer " * 15, parent_id=crit, round=round_,
                                  created_at=T0 + timedelta(minutes=minute)))
                scores[node_id] = round_ + c * 0.2 + i * 0.1
                minute += 1
                best = node_id
        current = best
    return PromptTrees("p", build_trees(nodes, scores, {}))


def test_fast_on_a_three_by_three_tree_and_a_five_round_chain(qtbot):
    for name, trees, columns in (("3x3", _three_by_three(), 3), ("5 rounds", _five_round_chain(), 11)):
        places = layout_trees(trees.roots)
        assert len(places) == len(trees.by_id) and max(p.column for p in places.values()) + 1 == columns
        canvas = TreeCanvas()
        qtbot.addWidget(canvas)
        canvas.show()
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            canvas.set_trees(trees)
            canvas.repaint()  # layout and one full paint, synchronously
            timings.append(time.perf_counter() - started)
        assert min(timings) < 0.05, (name, timings)  # well inside a frame budget people notice
        save_screenshot(canvas, f"tree_canvas_{name.replace(' ', '_')}")


def test_two_pictures_side_by_side_each_show_the_whole_tree(curation_shell, qtbot):
    shell = curation_shell
    picture = _beside_another_scorer(shell, qtbot)

    def fits(canvas) -> bool:
        size, view = canvas.content_size(), canvas.parentWidget().size()
        return size.width() <= view.width() and size.height() <= view.height()

    qtbot.waitUntil(lambda: fits(picture.left_canvas) and fits(picture.right_canvas))  # fitted by itself
    left, right = picture.pictures.sizes()
    assert abs(left - right) <= 2  # a long caption no longer widens its side
    zoom = picture.left_canvas.zoom
    picture.set_zoom(1.0)  # at 100 % the tree is wider than half the tab: what the person saw before
    assert not fits(picture.left_canvas)
    picture.set_zoom(zoom)

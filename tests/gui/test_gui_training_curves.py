"""The live training curves: a logged step is drawn plot by plot (one plot per turn of the event loop, so a
step never holds the UI thread for all six), never while the curves are hidden, and what they show is what
was logged."""

import pytest

from avr_studio.panels.training_curves import CURVES, TrainingCurves

STEP = {"loss": 0.5, "rewards/chosen": 0.2, "rewards/rejected": -0.1, "rewards/margins": 0.3,
        "rewards/accuracies": 1.0, "learning_rate": 1e-4}
STORED = [(1, "loss", 0.7), (1, "rewards/margins", 0.0), (2, "loss", 0.6), (2, "rewards/margins", 0.1),
          (2, "margin", 9.0)]  # a name later in a plot's list is not drawn when an earlier one was logged


@pytest.fixture
def curves(qtbot):
    widget = TrainingCurves()
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    widget.show_run("r1", "DPO — run r1", STORED)
    qtbot.waitUntil(lambda: widget.drawn_everything, timeout=2_000)
    return widget


def _drawn(curves: TrainingCurves) -> dict[str, dict[int, float]]:
    return {name: curves.drawn_points(name) for name, _, _ in CURVES}


def test_a_run_s_stored_metrics_are_drawn(curves):
    assert _drawn(curves) == {"loss": {1: 0.7, 2: 0.6}, "chosen": {}, "rejected": {}, "margins": {1: 0.0, 2: 0.1},
                              "accuracies": {}, "learning_rate": {}}


def test_a_logged_step_is_drawn_one_plot_at_a_time(qtbot, curves):
    curves.add_metrics("r1", 3, STEP)
    assert not curves.drawn_everything and 3 not in curves.drawn_points("loss")  # nothing drawn in the slot
    curves._redraw_next()  # one turn of the redraw timer
    assert sum(3 in points for points in _drawn(curves).values()) == 1
    qtbot.waitUntil(lambda: curves.drawn_everything, timeout=2_000)
    assert _drawn(curves) == curves.points
    assert curves.drawn_points("margins") == {1: 0.0, 2: 0.1, 3: 0.3}


def test_hidden_curves_draw_nothing_until_shown_and_another_run_s_steps_are_ignored(qtbot, curves):
    curves.add_metrics("other-run", 3, STEP)
    assert curves.drawn_everything and 3 not in curves.points["loss"]
    curves.hide()
    curves.add_metrics("r1", 3, STEP)
    curves.add_metrics("r1", 4, {"loss": 0.4})
    curves._redraw_next()  # a turn that comes while hidden draws nothing
    assert curves.drawn_points("loss") == {1: 0.7, 2: 0.6}
    curves.show()
    qtbot.waitUntil(lambda: curves.drawn_everything, timeout=2_000)
    assert curves.drawn_points("loss") == {1: 0.7, 2: 0.6, 3: 0.5, 4: 0.4}
    assert _drawn(curves) == curves.points

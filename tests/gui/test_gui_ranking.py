"""One ranking scorer per project (issue 12, item 5), by keys in the real window: it is named in the
headers; Grow Trees scores with it (and the scorer of Settings); a job that brings another scorer does
not re-rank the project; switching it is an undoable command that rebuilds the reward's pairs."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from avr_studio.dialogs.grow_trees_dialog import GrowTreesDialog
from backend.config import ScorerSpec
from backend.curation.ranking import choose_ranking_scorer
from backend.domain import Node, Score
from tests.gui.curation_store_fixture import SCORER
from tests.gui.keys import press, when_a_dialog_opens


def response_pair(store, prompt_id):
    return next((p.chosen_node_id, p.rejected_node_id, p.decided_by) for p in store.pairs(prompt_id=prompt_id)
                if p.kind == "response")


def test_headers_name_the_ranking_scorer(curation_shell):
    window = curation_shell.window
    assert window.panels["tree"].ranking_label.text() == f"Ranked by <b>{SCORER}</b>"
    assert SCORER in window.panels["prompts"].model.headerData(0, Qt.Orientation.Horizontal)
    curation_shell.context.select_prompt(curation_shell.project.p1)
    assert window.panels["tree"].model.headerData(2, Qt.Orientation.Horizontal) == "R · likelihood"


def test_grow_trees_scores_with_the_ranking_scorer_and_a_job_with_another_does_not_re_rank(curation_shell, qtbot,
                                                                                           monkeypatch):
    shell = curation_shell
    store = shell.context.store
    choose_ranking_scorer(store, ScorerSpec(kind="likelihood", model="test"))  # a scorer the app can run
    sent = []
    monkeypatch.setattr(shell.jobs_service, "submit", lambda request: sent.append(request) or "stage1-test")
    when_a_dialog_opens(qtbot, Qt.Key.Key_Return)  # the Grow Trees dialog: 2 prompts, Grow
    press(qtbot, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    [request] = sent
    # the default of 2 prompts: the half-grown photosynthesis tree first, then the haiku with none
    assert [p.id for p in request.prompts] == [shell.project.p2, shell.project.p3]
    assert [s.label for s in request.scorers] == [SCORER, "likelihood:embedded"]  # ranking first, then Settings

    # The old bug: a job scored by another scorer only; the newest scores must not re-rank the project.
    haiku = shell.project.p3
    node = Node("h-y", haiku, "response", "Rain taps the window.")
    store.add_nodes([node])
    store.add_scores([Score(node.id, "likelihood:embedded", -1.7)])
    shell.context.notify_data_changed("")
    assert shell.context.current_prompt.scorer == SCORER
    assert shell.window.panels["tree"].ranking_label.text() == f"Ranked by <b>{SCORER}</b>"
    assert response_pair(store, shell.project.p1) == ("i11", "r", "reward")


def test_switching_the_ranking_scorer_rebuilds_the_pairs_says_so_and_undoes(curation_shell, qtbot):
    shell = curation_shell
    store, p1 = shell.context.store, shell.project.p1
    store.add_scores([Score("r", "other", 0.0), Score("i11", "other", 0.1), Score("i12", "other", 0.8)])
    shell.context.notify_data_changed("")
    assert response_pair(store, p1) == ("i11", "r", "reward")
    when_a_dialog_opens(qtbot, Qt.Key.Key_Down, Qt.Key.Key_Return)  # the scorer list: 'other' is next
    shell.window.actions_by_id["curate.ranking_scorer"].trigger()
    assert shell.context.current_prompt.scorer == "other"
    assert response_pair(store, p1) == ("i12", "r", "reward")  # y'* under 'other'
    assert "Ranking by other now (was likelihood:test)" in shell.window.statusBar().currentMessage()
    assert shell.window.panels["tree"].ranking_label.text() == "Ranked by <b>other</b>"
    assert shell.window.actions_by_id["edit.undo"].text() == "&Undo Rank by other"
    press(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert shell.context.current_prompt.scorer == SCORER
    assert response_pair(store, p1) == ("i11", "r", "reward")


def test_the_grow_trees_dialog_estimates_from_the_measured_speed(qtbot):
    from avr_studio.job_labels import GenerationSpeed

    first_run = GrowTreesDialog(GenerationSpeed(), 246, ["relevance:embedded"])
    qtbot.addWidget(first_run)
    assert first_run.count == 2  # a couple of trees to curate soon, not 8
    # 2 trees x 7 nodes x 190 tokens / 25 tokens/s + 20 s of loading = 126 s
    assert round(first_run.estimate_seconds()) == 126 and first_run.estimate_label.text() == "<b>2 min</b>"
    assert "first-run guess" in first_run.basis_label.text()
    measured = GrowTreesDialog(GenerationSpeed(7.0, 200.0, "m", True), 246, [])
    qtbot.addWidget(measured)
    qtbot.keyClick(measured.count_spin, Qt.Key.Key_Up)  # 3 prompts: 3 x 7 x 200 / 7 + 20 = 620 s
    assert round(measured.estimate_seconds()) == 620 and "Measured" in measured.basis_label.text()
    assert measured.result() == QDialog.DialogCode.Rejected


def test_grow_trees_names_a_model_folder_that_cannot_load_and_starts_nothing(curation_shell, qtbot, monkeypatch,
                                                                             tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from backend.config import ModelSpec

    shell = curation_shell
    shell.controller.settings.model = ModelSpec(name=str(tmp_path / "moved-model"))
    sent, seen = [], {}
    monkeypatch.setattr(shell.jobs_service, "submit", lambda request: sent.append(request) or "stage1-test")

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, GrowTreesDialog):
            QTimer.singleShot(20, answer)
            return
        seen["problem"] = dialog.problem_label.text() if dialog.problem_label.isVisibleTo(dialog) else ""
        seen["grow"] = dialog.grow_button.isEnabled()
        qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Grow is disabled: Return starts nothing
        seen["open after Return"] = dialog.isVisible()
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    QTimer.singleShot(20, answer)
    press(qtbot, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert "moved-model does not exist" in seen["problem"] and "Settings" in seen["problem"]
    assert seen["grow"] is False and seen["open after Return"] is True
    assert sent == []

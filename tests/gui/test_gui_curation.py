"""The curation loop: act, check the database, undo, check, redo, check — history only ever grows."""

import json

import pytest
from PySide6.QtCore import Qt

from avr_studio.commands.curation import EditTextCommand, SetVerdictCommand
from avr_studio.context import ProjectContext
from avr_studio.jobs_service import JobsService
from avr_studio.panels.node_editor_panel import NodeEditorPanel
from backend.config import ScorerSpec
from backend.curation.ranking import choose_ranking_scorer
from backend.domain import NodeState
from backend.worker.submission import prepare_job
from tests.gui.curation_store_fixture import SCORER, TEXTS
from tests.gui.screens import TMP_SCREENS, save_screenshot


def _state(project, node_id: str) -> NodeState:
    return project.store.node_states(project.p1).get(node_id, NodeState())


def _history_length(project, node_id: str) -> int:
    return len(project.store.annotation_history(node_id))


@pytest.mark.parametrize("verdict", ["accept", "reject", "skip"])
def test_verdict_command_act_undo_redo(project, verdict):
    changed: list[str] = []
    command = SetVerdictCommand(project.store, "c2", verdict, "ann", on_changed=changed.append)
    command.redo()
    assert _state(project, "c2") == NodeState(verdict=verdict)
    command.undo()
    assert _state(project, "c2") == NodeState()  # no verdict again
    command.redo()
    assert _state(project, "c2") == NodeState(verdict=verdict)
    history = project.store.annotation_history("c2")
    assert [a.verdict for a in history] == [verdict, "", verdict]  # appended, never deleted
    assert {a.author for a in history} == {"ann"}
    assert changed == [project.p1] * 3


def test_verdict_undo_restores_the_previous_verdict_not_none(project):
    SetVerdictCommand(project.store, "i11", "accept", "ann").redo()
    command = SetVerdictCommand(project.store, "i11", "reject", "ann")
    command.redo()
    assert _state(project, "i11").verdict == "reject"
    command.undo()
    assert _state(project, "i11").verdict == "accept"


def test_edit_command_keeps_the_verdict_and_the_model_text(project):
    SetVerdictCommand(project.store, "c1", "accept", "ann").redo()
    first = EditTextCommand(project.store, "c1", "Needs concrete steps.\nRating: [[5]]", "ann")
    first.redo()
    second = EditTextCommand(project.store, "c1", "Needs steps and amounts.\nRating: [[5]]", "ann")
    second.redo()
    assert _state(project, "c1") == NodeState("accept", "Needs steps and amounts.\nRating: [[5]]")
    second.undo()
    assert _state(project, "c1") == NodeState("accept", "Needs concrete steps.\nRating: [[5]]")
    first.undo()
    assert _state(project, "c1") == NodeState("accept", None)
    assert project.store.get_node("c1").text == TEXTS["c1"]  # the model's original is never touched
    first.redo()
    assert _state(project, "c1").edited_text == "Needs concrete steps.\nRating: [[5]]"
    assert _history_length(project, "c1") == 6


def _editor(qtbot, project) -> tuple[ProjectContext, NodeEditorPanel]:
    context = ProjectContext(project.store)
    panel = NodeEditorPanel(context, author="tester")
    qtbot.addWidget(panel)
    panel.resize(820, 520)
    panel.show()
    context.select_prompt(project.p1)
    context.select_node("c1")
    with qtbot.waitActive(panel):  # shortcuts only fire in the active window
        panel.activateWindow()
    panel.text_edit.setFocus()
    return context, panel


def test_keys_accept_reject_skip_with_undo_stack(qtbot, project):
    context, panel = _editor(qtbot, project)
    assert panel.text_edit.toPlainText() == TEXTS["c1"]
    assert panel.scores_table.rowCount() == 0  # criticisms have no score of their own
    for key, verdict in ((Qt.Key.Key_A, "accept"), (Qt.Key.Key_X, "reject"), (Qt.Key.Key_Space, "skip")):
        with qtbot.waitSignal(context.sig_data_changed):
            qtbot.keyClick(panel.text_edit, key)
        assert _state(project, "c1").verdict == verdict
    panel.details_tabs.setCurrentIndex(1)  # the History tab reads the store when it is shown
    assert panel.history_table.rowCount() == 3 and panel.history_table.item(0, 2).text() == "skip"

    context.undo_stack.undo()
    assert _state(project, "c1").verdict == "reject"
    context.undo_stack.undo()
    assert _state(project, "c1").verdict == "accept"
    context.undo_stack.redo()
    assert _state(project, "c1").verdict == "reject"
    assert "rejected" in panel.header_label.text()
    assert _history_length(project, "c1") == 6
    assert context.undo_stack.undoText() == "Reject criticism"


def test_edit_commit_cancel_and_show_original(qtbot, project):
    context, panel = _editor(qtbot, project)
    qtbot.keyClick(panel.text_edit, Qt.Key.Key_E)
    assert panel.editing and not panel.text_edit.isReadOnly()
    assert not panel.actions_by_id["curate.accept"].isEnabled()  # typing 'a' must not accept
    panel.text_edit.selectAll()
    qtbot.keyClicks(panel.text_edit, "Say how: mix with water.")
    assert _state(project, "c1").verdict is None  # the typed letters did not curate anything
    qtbot.keyClick(panel.text_edit, Qt.Key.Key_Escape)
    assert not panel.editing and panel.text_edit.toPlainText() == TEXTS["c1"]
    assert _history_length(project, "c1") == 0

    qtbot.keyClick(panel.text_edit, Qt.Key.Key_E)
    panel.text_edit.selectAll()
    qtbot.keyClicks(panel.text_edit, "Say how: mix with water.")
    with qtbot.waitSignal(context.sig_data_changed):
        qtbot.keyClick(panel.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert _state(project, "c1").edited_text == "Say how: mix with water."
    assert panel.text_edit.toPlainText() == "Say how: mix with water."
    assert panel.original_button.isVisible()
    panel.original_button.setChecked(True)
    assert panel.text_edit.toPlainText() == TEXTS["c1"]
    panel.original_button.setChecked(False)

    qtbot.wait(10)
    save_screenshot(panel, "node_editor_panel", folders=(TMP_SCREENS,))

    context.undo_stack.undo()
    assert _state(project, "c1") == NodeState()
    assert panel.text_edit.toPlainText() == TEXTS["c1"] and not panel.original_button.isVisible()
    context.undo_stack.redo()
    assert _state(project, "c1").edited_text == "Say how: mix with water."
    assert _history_length(project, "c1") == 3


def test_editor_shows_every_scorer_and_gates_buttons_by_kind(qtbot, project):
    from backend.domain import Score

    project.store.add_scores([Score("i11", "classifier:other", 3.25)])
    context, panel = _editor(qtbot, project)
    context.select_node("i11")
    rows = {panel.scores_table.item(r, 0).text(): panel.scores_table.item(r, 1).text()
            for r in range(panel.scores_table.rowCount())}
    assert rows == {SCORER: "0.9000", "classifier:other": "3.2500"}
    assert panel.buttons["curate.accept"].isEnabled()
    assert not panel.buttons["curate.regenerate"].isEnabled()  # only criticisms regenerate
    context.select_node("c1")
    assert panel.buttons["curate.regenerate"].isEnabled()


class PreparingJobsService(JobsService):
    """The shell's JobsService without a worker: it builds requests as the real one does and prepares
    each job (folder, request.json, row), keeping the job ids, but sends nothing."""

    def __init__(self, context):
        super().__init__(context)
        self.submitted: list[str] = []

    def submit(self, request) -> str:
        job = prepare_job(request, store=self.context.store)
        self.submitted.append(job.job_id)
        return job.job_id


def test_regenerate_sends_the_edited_criticism_and_its_answer(qtbot, project):
    context, panel = _editor(qtbot, project)
    jobs = PreparingJobsService(context)
    context.jobs_service = jobs
    # the project ranks by the fixture's scorer; the app knows how to run it (a spec stored with it)
    choose_ranking_scorer(project.store, ScorerSpec(kind="likelihood", model="test"))
    EditTextCommand(project.store, "c1", "Explain how to use it on ovens.", "ann").redo()
    context.notify_data_changed(project.p1)
    with qtbot.waitSignal(panel.sig_regenerate_requested) as asked:
        qtbot.keyClick(panel.text_edit, Qt.Key.Key_R)
    assert asked.args == ["c1"]
    [job_id] = jobs.submitted
    sent = json.loads((project.store.jobs_dir / job_id / "request.json").read_text(encoding="utf-8"))
    assert sent["kind"] == "regenerate" and project.store.get_job(job_id).kind == "regenerate"
    assert sent["criticism"] == {"id": "c1", "text": "Explain how to use it on ovens.", "round": 0, "edited": True}
    assert sent["answer"]["id"] == "r" and sent["answer"]["text"] == TEXTS["r"]
    assert (sent["prompt"]["id"], sent["prompt"]["text"]) == (project.p1, "Name two uses of baking soda.")
    assert sent["improvements"] == 2 and sent["templates"]["judge"]
    # scored by the project's ranking scorer first, then by the scorer of Settings
    assert [spec["kind"] + ":" + spec["model"] for spec in sent["scorers"]] == [SCORER, "likelihood:embedded"]

    context.select_node("i11")  # R does nothing on an improvement
    qtbot.keyClick(panel.text_edit, Qt.Key.Key_R)
    assert len(jobs.submitted) == 1


def test_moving_to_another_node_mid_edit_keeps_the_draft_as_an_undoable_edit(qtbot, project):
    context, panel = _editor(qtbot, project)
    qtbot.keyClick(panel.text_edit, Qt.Key.Key_E)
    panel.text_edit.setPlainText("A draft the person typed.")
    context.select_node("c2")
    assert not panel.editing and panel.node_id == "c2"
    assert _state(project, "c1").edited_text == "A draft the person typed."
    context.undo_stack.undo()
    assert _state(project, "c1") == NodeState()

"""Jobs a person can read (issue 12, item 8), in the real window: a Grow Trees job (Ctrl+G, Enter) is
named by its prompts, the worker log folds library progress bars into the job's own line, and a finished
tree job's measured speed drives the next Grow Trees estimate."""

from PySide6.QtCore import Qt

from avr_studio.job_labels import GENERATION_SPEED_SETTING
from backend import protocol
from backend.config import ScorerSpec
from backend.curation.ranking import choose_ranking_scorer
from tests.gui.keys import press, when_a_dialog_opens

BAR = "Loading weights: 45%|████▌     | 122/272 [00:03<00:04, 35.10it/s]"


def _grow_by_keys(shell, qtbot, monkeypatch) -> str:
    """Ctrl+G, Enter in the Grow Trees dialog; the worker is left out (the job is prepared, not run)."""
    choose_ranking_scorer(shell.context.store, ScorerSpec(kind="likelihood", model="test"))
    monkeypatch.setattr(shell.worker, "submit_job", lambda message: 1)
    submitted = []
    shell.jobs_service.sig_job_submitted.connect(lambda job_id, _kind: submitted.append(job_id))
    when_a_dialog_opens(qtbot, Qt.Key.Key_Return)
    press(qtbot, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    [job_id] = submitted
    return job_id


def test_a_job_row_names_its_prompts(curation_shell, qtbot, monkeypatch):
    shell = curation_shell
    job_id = _grow_by_keys(shell, qtbot, monkeypatch)
    row = shell.window.jobs_panel.rows[job_id]
    title = row.title_label.text()
    assert "<b>Grow trees</b>" in title
    assert "2 prompts: “Explain photosynthesis briefly.”, “Write a haiku about rain.”" in title
    assert job_id in title  # the id stays, in grey, for the job folder and the CLI
    # a new session reads the same label back from the project
    shell.window.jobs_panel.reload_from_store()
    assert "Explain photosynthesis briefly." in shell.window.jobs_panel.rows[job_id].title_label.text()


def test_library_progress_bars_fold_into_the_jobs_line(curation_shell, qtbot, monkeypatch):
    shell = curation_shell
    job_id = _grow_by_keys(shell, qtbot, monkeypatch)
    worker, log = shell.worker, shell.window.worker_log
    worker.sig_job_started.emit(protocol.JobStarted(job_id, "stage1"))
    for line in ("info: loading the generator", BAR, BAR.replace("45%", "100%"), "info: generating 2 answers"):
        worker.sig_log.emit(line)
        worker.sig_output_line.emit(line)
    assert log.shown_lines() == ["info: loading the generator", "info: generating 2 answers"]
    assert "2 progress-bar line(s) folded" in log.folded_label.text()
    row = shell.window.jobs_panel.rows[job_id]
    assert row.stats_label.text().endswith("Loading weights 100% (122/272)")
    log.show_bars_check.setChecked(True)
    assert len(log.shown_lines()) == 4


def test_a_finished_tree_job_measures_the_speed_the_next_estimate_uses(curation_shell, qtbot, monkeypatch):
    shell = curation_shell
    job_id = _grow_by_keys(shell, qtbot, monkeypatch)
    worker = shell.worker
    worker.sig_job_started.emit(protocol.JobStarted(job_id, "stage1"))
    worker.sig_progress.emit(protocol.Progress(job_id, 3, 14, tokens_per_s=12.0))
    for index in range(5):
        worker.sig_result.emit(protocol.Result(job_id, index, {"type": "node", "id": f"n{index}"}))
    worker.sig_job_finished.emit(protocol.JobFinished(job_id))
    stored = shell.context.store.get_setting(GENERATION_SPEED_SETTING)
    assert stored["tokens_per_s"] == 12.0 and stored["model"] == "embedded:smollm2-135m-instruct"
    speed = shell.jobs_service.generation_speed("embedded:smollm2-135m-instruct")
    assert speed.measured and speed.tokens_per_s == 12.0

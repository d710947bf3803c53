"""Jobs panel and service: progress, tokens/s and ETA; failures that say what to do; a dead worker
that can be restarted — first from protocol events, then with a real worker process and a tiny model."""

import json

import pytest
from PySide6.QtWidgets import QMessageBox

from avr_studio.app import build_shell
from avr_studio.app_settings import AppSettings, save_app_settings
from avr_studio.context import ProjectContext
from avr_studio.jobs_service import WORKER_DIED_TITLE, JobsService
from avr_studio.panels.jobs_panel import JobsPanel, format_eta
from backend import protocol
from backend.config import ModelSpec, SamplingConfig, ScorerSpec, TreeConfig
from backend.domain import Job, Prompt
from backend.store import Store
from tests.gui.screens import save_screenshot

pytestmark = pytest.mark.usefixtures("own_data_dir")


@pytest.fixture
def store_prompts():
    """The shared `store` fixture (conftest.py) starts with these two prompts here."""
    return ("Name two uses of baking soda.", "What is the capital of France?")


@pytest.fixture
def panel(qtbot, store):
    context = ProjectContext(store)
    widget = JobsPanel(context)
    qtbot.addWidget(widget)
    widget.resize(620, 420)
    widget.show()
    return widget


def test_eta_is_short_and_human():
    assert [format_eta(s) for s in (None, 9.4, 75, 3725)] == ["ETA –", "ETA 9 s", "ETA 1 min 15 s",
                                                               "ETA 1 h 02 min"]


def test_progress_shows_done_total_tokens_per_second_and_eta(panel, qtbot):
    panel.on_job_started(protocol.JobStarted("stage1-a", "stage1"))
    panel.on_progress(protocol.Progress("stage1-a", done=3, total=7, tokens_per_s=42.4, eta_s=75,
                                        message="generating"))

    row = panel.rows["stage1-a"]
    assert not panel.empty_label.isVisible()
    assert row.status_label.text() == "Running"
    assert (row.progress_bar.value(), row.progress_bar.maximum()) == (3, 7)
    assert row.stats_label.text() == "42 tokens/s · ETA – · generating"  # no pace measured yet
    with qtbot.waitSignal(panel.sig_cancel_requested) as cancel:
        row.cancel_button.click()
    assert cancel.args == ["stage1-a"]
    save_screenshot(panel, "jobs_progress")

    panel.on_job_finished(protocol.JobFinished("stage1-a"))
    assert row.status_label.text() == "Finished"
    assert row.progress_bar.value() == 7 and not row.cancel_button.isVisibleTo(panel)


def test_the_eta_comes_from_the_pace_after_the_first_step_not_from_the_model_loading(panel):
    """A job loads its model for 18 s, then takes 2 s a step: after step 3 of 10, 7 steps (14 s) are left.
    The worker's own estimate, 24 s / 3 steps x 7, said 56 s."""
    panel.on_job_started(protocol.JobStarted("stage1-e", "stage1"))
    row = panel.rows["stage1-e"]
    for now, done, worker_eta in ((0.0, 0, None), (20.0, 1, 180.0), (24.0, 3, 56.0)):
        row.show_progress(protocol.Progress("stage1-e", done=done, total=10, eta_s=worker_eta), now=now)
    assert "ETA 14 s" in row.stats_label.text()


def test_a_failure_says_what_to_do_with_the_traceback_behind_details(panel):
    panel.on_job_started(protocol.JobStarted("stage1-b", "stage1"))
    panel.on_job_failed(protocol.JobFailed(
        "stage1-b", "The model could not be loaded",
        "The folder /models/x has no config.json. Pick a model folder in File → Settings.",
        "Traceback (most recent call last):\n  ...\nModelLoadError: no config.json"))

    row = panel.rows["stage1-b"]
    assert row.status_label.text() == "Failed"
    assert row.error_title.isVisibleTo(panel) and row.error_title.text() == "The model could not be loaded"
    assert "File → Settings" in row.what_to_do.text()
    assert not row.traceback_view.isVisibleTo(panel)
    row.details_button.click()
    assert row.traceback_view.isVisibleTo(panel)
    assert "ModelLoadError" in row.traceback_view.toPlainText()
    save_screenshot(panel, "jobs_failure")


def test_a_dead_worker_fails_running_jobs_and_offers_a_restart(panel, qtbot):
    panel.on_job_started(protocol.JobStarted("stage1-c", "stage1"))
    panel.on_worker_died("the worker process crashed")

    assert panel.worker_banner.isVisible()
    assert "crashed" in panel.worker_banner_label.text()
    assert panel.rows["stage1-c"].status == "failed"
    with qtbot.waitSignal(panel.sig_worker_restart_requested):
        panel.restart_button.click()
    assert not panel.worker_banner.isVisible()


def test_past_jobs_are_listed_from_the_store(qtbot, store):
    store.add_job(Job(id="stage1-old", kind="stage1", status="running"))
    store.add_job(Job(id="stage1-done", kind="stage1", status="finished"))
    context = ProjectContext()
    context.jobs_service = JobsService(context)
    widget = JobsPanel(context)
    qtbot.addWidget(widget)

    context.open_store(store)  # recovery marks the job the last session left running as interrupted

    assert set(widget.rows) == {"stage1-old", "stage1-done"}
    old = widget.rows["stage1-old"]
    assert old.status == "interrupted" and old.status_label.text() == "Interrupted"
    assert old.resume_button.isVisibleTo(widget) and "resume it to finish" in old.what_to_do.text()
    assert widget.rows["stage1-done"].status_label.text() == "Finished"
    assert not widget.rows["stage1-done"].resume_button.isVisibleTo(widget)
    assert store.get_job("stage1-old").status == "interrupted"


# --- a real worker process --------------------------------------------------------------------------
@pytest.fixture
def tiny_settings():
    from tests.support.tiny_models import tiny_chat_model_dir

    model_dir = str(tiny_chat_model_dir())
    settings = AppSettings(
        model=ModelSpec(name=model_dir, engine="transformers", dtype="float32", device="cpu", batch_size=8),
        scorer=ScorerSpec(kind="likelihood", model=model_dir),
        sampling=SamplingConfig(max_new_tokens=6, seed=1))
    save_app_settings(settings)
    return settings


@pytest.fixture
def shell(qtbot, tiny_settings, tmp_path):
    built = build_shell(tiny_settings)
    built.window.show()
    try:
        Store.create(tmp_path / "live").close()
        assert built.controller.open_project(tmp_path / "live")
        built.context.store.add_prompts([Prompt.from_text("Name two uses of baking soda.", source="test")])
        built.context.notify_data_changed("")
        yield built
    finally:
        # Stop the worker before closing: closing with a job still running would ask (modal) first.
        built.worker.stop()
        built.window.close()
        built.window.deleteLater()


def test_a_real_stage1_job_reports_progress_and_lands_in_the_store(shell, qtbot):
    store, panel = shell.context.store, shell.window.jobs_panel
    prompt_id = store.prompt_ids()[0]
    progress, changed = [], []
    shell.worker.sig_progress.connect(progress.append)
    shell.context.sig_data_changed.connect(changed.append)

    job_id = shell.jobs_service.submit_stage1([prompt_id], tree=TreeConfig(criticisms=1, improvements=1))
    assert store.get_job(job_id).status == "queued"
    assert job_id in panel.rows
    qtbot.waitUntil(lambda: shell.window.running_job_ids() == [job_id], timeout=10_000)
    with qtbot.waitSignal(shell.worker.sig_job_finished, timeout=180_000):
        pass

    row = panel.rows[job_id]
    assert row.status_label.text() == "Finished"
    assert progress and progress[-1].total > 0 and "ETA" in row.stats_label.text()
    assert store.get_job(job_id).status == "finished"
    kinds = sorted(node.kind for node in store.nodes_for_prompt(prompt_id))
    assert kinds == ["criticism", "improvement", "response"]
    assert store.scores_for_prompt(prompt_id)  # the answers were scored
    assert prompt_id in changed
    save_screenshot(shell.window, "jobs_real_worker_finished")


def test_a_killed_worker_is_reported_and_can_be_restarted(shell, qtbot, monkeypatch):
    store = shell.context.store
    job_id = shell.jobs_service.submit_stage1(store.prompt_ids())
    with qtbot.waitSignal(shell.worker.sig_job_started, timeout=60_000):
        pass

    with qtbot.waitSignal(shell.worker.sig_process_died, timeout=20_000) as died:
        shell.worker._process.kill()

    assert "crashed" in died.args[0] or "exited" in died.args[0]
    panel = shell.window.jobs_panel
    assert panel.worker_banner.isVisible()
    assert panel.rows[job_id].status == "failed"
    assert panel.rows[job_id].error_title.text() == WORKER_DIED_TITLE
    assert "Restart the worker" in panel.rows[job_id].what_to_do.text()
    assert store.get_job(job_id).status == "failed"
    save_screenshot(shell.window, "jobs_worker_died")

    with qtbot.waitSignal(shell.worker.sig_ready, timeout=60_000):
        panel.restart_button.click()
    assert not panel.worker_banner.isVisible()
    # The window closes without asking: the job died with the old worker, so nothing runs now. (The
    # patch must be in force when the window closes, so it closes here, not in the fixture's teardown.)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.No)
    assert shell.window.close() and asked == []


def test_requests_are_numbered_in_order(shell):
    job_id = shell.jobs_service.submit_stage1(shell.context.store.prompt_ids())
    shell.jobs_service.cancel(job_id)
    assert list(shell.worker.sent_requests.values()) == ["hello", f"submit_job {job_id}", f"cancel_job {job_id}"]
    assert list(shell.worker.sent_requests) == [1, 2, 3]


def test_the_app_and_the_cli_make_the_same_job_folder_and_row_for_the_same_request(shell, qtbot, tiny_settings):
    from backend.worker.job_session import run_prepared_job
    from backend.worker.request_builders import stage1_request
    from backend.worker.submission import prepare_job

    store = shell.context.store
    prompts = list(store.prompts_by_id(store.prompt_ids()).values())
    request = stage1_request(store, prompts, tiny_settings.model, [tiny_settings.scorer],
                             TreeConfig(criticisms=1, improvements=1), tiny_settings.sampling,
                             store.current_templates())
    app_id = shell.jobs_service.submit(request)  # the app: its worker process, ingest on the UI thread
    with qtbot.waitSignal(shell.worker.sig_job_finished, timeout=180_000):
        pass
    cli = run_prepared_job(prepare_job(request, store=store), store=store)  # the CLI: a worker of its own
    assert cli.status == "finished"

    app_dir, cli_dir = store.jobs_dir / app_id, cli.job_dir
    assert app_dir.parent == cli_dir.parent and app_id.split("-")[0] == cli.job_id.split("-")[0] == "stage1"
    layout = ["journal.jsonl", "log.txt", "request.json", "worker.lock", "worker.log"]
    assert sorted(p.name for p in app_dir.iterdir()) == sorted(p.name for p in cli_dir.iterdir()) == layout
    assert (app_dir / "request.json").read_bytes() == (cli_dir / "request.json").read_bytes()
    app_row, cli_row = store.get_job(app_id), store.get_job(cli.job_id)
    assert (app_row.kind, app_row.status, app_row.request) == (cli_row.kind, cli_row.status, cli_row.request)
    assert app_row.status == "finished" and app_row.request["prompts"] == {"count": 1, "in": "request.json"}

    def produced(job_dir):  # what the journal holds, ids aside (they are random)
        lines = (job_dir / "journal.jsonl").read_text(encoding="utf-8").splitlines()
        return [(r["type"], r.get("kind"), r.get("text")) for r in map(json.loads, lines)]
    assert produced(app_dir) == produced(cli_dir)  # the same seeded job on the same tiny model
    assert "generator" in (app_dir / "log.txt").read_text() and "generator" in (cli_dir / "log.txt").read_text()

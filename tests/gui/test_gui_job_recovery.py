"""Opening a project after a crash in the app: a leftover journal is imported, the job its worker left
behind is "Interrupted" with a Resume button, its notes (a skipped journal line) are on its row, and
Resume finishes the half-grown tree with a real worker: the missing slots only, never a second root."""

from collections import Counter

import pytest
from PySide6.QtCore import Qt

from avr_studio.app import build_shell
from avr_studio.app_settings import AppSettings, save_app_settings
from avr_studio.panels.jobs_panel import JobRowWidget
from backend import protocol
from backend.config import ModelSpec, SamplingConfig, ScorerSpec, TreeConfig
from backend.domain import Node, Prompt
from backend.store import Store
from backend.worker.journal import JournalWriter, journal_path
from backend.worker.request_builders import stage1_request
from backend.worker.submission import prepare_job
from tests.gui.keys import focused, press
from tests.gui.screens import save_screenshot
from tests.support.tiny_models import tiny_chat_model_dir

pytestmark = pytest.mark.usefixtures("own_data_dir")


@pytest.fixture
def tiny_settings():
    model_dir = str(tiny_chat_model_dir())
    settings = AppSettings(
        model=ModelSpec(name=model_dir, engine="transformers", dtype="float32", device="cpu", batch_size=8),
        scorer=ScorerSpec(kind="likelihood", model=model_dir), sampling=SamplingConfig(max_new_tokens=6, seed=1))
    save_app_settings(settings)
    return settings


@pytest.fixture
def crashed_project(tmp_path, tiny_settings):
    """A project whose last session died while a Stage I job ran: its row says running, its journal
    holds the answer it had made, a damaged line, and nothing else."""
    path = tmp_path / "crashed"
    with Store.create(path) as store:
        store.add_prompts([Prompt.from_text("Name two uses of baking soda.")])
        [prompt] = store.prompts_by_id(store.prompt_ids()).values()
        request = stage1_request(store, [prompt], tiny_settings.model, [tiny_settings.scorer],
                                 TreeConfig(criticisms=1, improvements=1), tiny_settings.sampling,
                                 store.current_templates())
        job = prepare_job(request, store=store)
        store.update_job(job.job_id, "running")
    writer = JournalWriter(job.job_dir)
    writer.append(protocol.node_record(Node("first-answer", prompt.id, "response", "Soda cleans pans.",
                                            job_id=job.job_id)))
    writer.close()
    with journal_path(job.job_dir).open("ab") as handle:
        handle.write(b"#### a damaged block ####\n")
    return path, job.job_id, prompt.id


@pytest.fixture
def shell(qtbot, tiny_settings):
    built = build_shell(tiny_settings)
    built.window.show()
    yield built
    built.worker.stop()
    built.window.close()
    built.window.deleteLater()


def test_an_interrupted_job_is_shown_with_its_notes_and_resumes_to_a_complete_tree(shell, qtbot, crashed_project):
    path, job_id, prompt_id = crashed_project
    assert shell.controller.open_project(path)
    store, panel = shell.context.store, shell.window.jobs_panel

    assert [n.id for n in store.nodes_for_prompt(prompt_id)] == ["first-answer"]  # the leftover journal
    row = panel.rows[job_id]
    assert row.status == "interrupted" and row.status_label.text() == "Interrupted"
    assert row.resume_button.isVisible() and not row.cancel_button.isVisible()
    assert row.notes_label.isVisible() and "journal line 2 (byte" in row.notes_label.text()
    # one row per job, once the rows of the panel's first load (before recovery) are gone
    qtbot.waitUntil(lambda: [w.job_id for w in panel.findChildren(JobRowWidget)] == [job_id], timeout=5_000)
    save_screenshot(shell.window.docks["jobs"].widget(), "jobs_interrupted_with_note")

    shell.window.focus_tree()
    press(qtbot, Qt.Key.Key_8, Qt.KeyboardModifier.ControlModifier)  # Go to Jobs: the newest job's Resume
    assert focused() is row.resume_button
    with qtbot.waitSignal(shell.worker.sig_job_finished, timeout=180_000):
        press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: row.status_label.text() == "Finished", timeout=10_000)
    assert not row.resume_button.isVisible()
    assert store.get_job(job_id).status == "finished"
    nodes = store.nodes_for_prompt(prompt_id)
    assert Counter(n.kind for n in nodes) == {"response": 1, "criticism": 1, "improvement": 1}
    assert nodes[0].id == "first-answer"  # grown on, not replaced by a second root
    save_screenshot(shell.window.docks["jobs"].widget(), "jobs_resumed_finished")


def test_a_job_that_cannot_be_resumed_says_why_on_its_row(shell, qtbot, crashed_project):
    path, job_id, _ = crashed_project
    assert shell.controller.open_project(path)
    (path / "jobs" / job_id / "request.json").write_text("not json", encoding="utf-8")
    row = shell.window.jobs_panel.rows[job_id]
    row.resume_button.click()
    assert "cannot be resumed" in row.notes_label.text() and row.status == "interrupted"

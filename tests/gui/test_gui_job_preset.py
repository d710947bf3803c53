"""The jobs panel names the generation preset a job runs with, as its nodes record it: the preset the
app's Settings chose, and what the person changed on top of it."""

import pytest

from avr_studio.app_settings import AppSettings
from avr_studio.context import ProjectContext
from avr_studio.panels.jobs_panel import JobsPanel
from backend.config import ModelSpec, SamplingConfig, ScorerSpec
from backend.job_requests import ScoreItem, ScoreRequest
from backend.worker.request_builders import stage1_request
from backend.worker.submission import prepare_job
from tests.gui.screens import save_screenshot

pytestmark = pytest.mark.usefixtures("own_data_dir")


@pytest.fixture
def store_prompts():
    """The shared `store` fixture (conftest.py) starts with this prompt here."""
    return ("Name two uses of baking soda.",)


def test_a_job_row_shows_its_preset_and_a_scoring_job_none(qtbot, store):
    settings = AppSettings(model=ModelSpec(name="/models/llama-3-8b-instruct", rating_mode="drop"),
                           sampling=SamplingConfig(temperature=0.9, max_new_tokens=None, repetition_penalty=1.0),
                           preset="auto")
    choice = settings.generation_choice(store)
    prompts = list(store.prompts_by_id(store.prompt_ids()).values())
    grow = prepare_job(stage1_request(store, prompts, choice.model, [ScorerSpec()], choice.tree, choice.sampling,
                                      choice.templates), store=store)
    score = prepare_job(ScoreRequest([ScoreItem("n", "x", "y")]), store=store)

    panel = JobsPanel(ProjectContext(store))
    qtbot.addWidget(panel)
    panel.resize(720, 300)
    panel.show()

    grow_row, score_row = panel.rows[grow.job_id], panel.rows[score.job_id]
    assert grow_row.preset_label.isVisible()
    assert grow_row.preset_label.text() == "preset paper+custom(temperature=0.9)"
    assert not score_row.preset_label.isVisible()
    save_screenshot(panel, "jobs_preset")

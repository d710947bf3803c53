"""Reward plot panel: histograms of rewards and of Δ for the project or the current prompt,
updated when a job writes new scores."""

from avr_studio.context import ProjectContext
from avr_studio.panels.reward_plot_panel import PROJECT_SCOPE, PROMPT_SCOPE, RewardPlotPanel
from backend.domain import Node, Prompt, Score
from backend.store import Store
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


def test_histograms_of_rewards_and_gains_for_project_and_prompt(qtbot, store):
    first = add_tree(store, "Name two uses of baking soda.", 1.0, [1.5, 0.5])
    add_tree(store, "What is the capital of France?", -1.0, [0.0, 2.0, -2.0])
    context = ProjectContext(store)
    panel = RewardPlotPanel(context)
    qtbot.addWidget(panel)
    panel.resize(560, 520)
    panel.show()

    assert panel.scope == PROJECT_SCOPE
    qtbot.waitUntil(lambda: len(panel.sample.rewards) == 7)  # the project scan runs on a pool thread
    assert sorted(panel.sample.gains) == [-1.0, -0.5, 0.5, 1.0, 3.0]
    assert "7 answers" in panel.summary_label.text()
    assert "3 with Δ > 0 (60%)" in panel.summary_label.text()
    assert panel.scorer_combo.currentText() == SCORER
    save_screenshot(panel, "rewards_project")

    context.select_prompt(first)
    panel.set_scope(PROMPT_SCOPE)
    assert sorted(panel.sample.rewards) == [0.5, 1.0, 1.5]
    assert sorted(panel.sample.gains) == [-0.5, 0.5]


def test_new_scores_from_a_job_refresh_the_plot_when_it_is_on_screen(qtbot, store):
    context = ProjectContext(store)
    panel = RewardPlotPanel(context)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.summary_label.text().startswith("No scores yet")

    add_tree(store, "Write a haiku about rain.", 0.2, [0.4])
    context.notify_data_changed("")

    qtbot.waitUntil(lambda: len(panel.sample.rewards) == 2, timeout=5000)
    assert panel.scorer_combo.count() == 1


def test_a_hidden_panel_scans_nothing_until_it_is_shown(qtbot, store):
    add_tree(store, "Write a haiku about rain.", 0.2, [0.4])
    context = ProjectContext(store)
    panel = RewardPlotPanel(context)
    qtbot.addWidget(panel)
    context.notify_data_changed("")
    # nothing scheduled and nothing running: a hidden panel leaves the scan for when it is shown
    assert not panel._refresh_timer.isActive() and panel._task is None and panel.sample.rewards == []
    panel.show()
    qtbot.waitUntil(lambda: len(panel.sample.rewards) == 2, timeout=5000)

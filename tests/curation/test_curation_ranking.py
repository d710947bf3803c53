"""One ranking scorer per project: pinned once, untouched by jobs that bring other scorers, switched
only on purpose (with the reward-decided pairs rebuilt), and every job scores with it."""

import doctest

import pytest

from backend.config import ScorerSpec
from backend.curation import derived, provenance, ranking, undecided
from backend.curation.derived import refresh_pairs
from backend.domain import Score
from backend.errors import UserError
from backend.store.scores import LATEST_SCORER_SETTING
from tests.gui.curation_store_fixture import SCORER, build_curation_project


@pytest.fixture
def project(tmp_path):
    built = build_curation_project(tmp_path)
    yield built
    built.store.close()


def test_worked_examples_in_the_docstrings_hold():
    for module in (ranking, undecided, provenance):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_a_job_with_another_scorer_does_not_re_rank_the_project(project):
    store = project.store
    assert ranking.ranking_scorer(store) == SCORER  # pinned when the fixture's pairs were built
    store.add_scores([Score("i12", "likelihood:embedded", 5.0), Score("r", "likelihood:embedded", 0.0)])
    assert store.get_setting(LATEST_SCORER_SETTING) == "likelihood:embedded"  # the newest scores...
    refresh_pairs(store, [project.p1])
    assert ranking.ranking_scorer(store) == SCORER  # ...do not change the ranking
    response = next(p for p in store.pairs(prompt_id=project.p1) if p.kind == "response")
    assert response.chosen_node_id == "i11"  # still y'* under the ranking scorer (0.9), not i12


def test_switching_rebuilds_the_reward_decided_pairs_and_says_how_many_changed(project):
    store = project.store
    store.add_scores([Score("r", "other", 0.0), Score("i11", "other", 0.1), Score("i12", "other", 0.8),
                      Score("i21", "other", 0.2), Score("i22", "other", 0.3)])
    before = {p.kind: (p.chosen_node_id, p.rejected_node_id) for p in store.pairs(prompt_id=project.p1)}
    switch = derived.switch_ranking_scorer(store, "other")
    after = {p.kind: (p.chosen_node_id, p.rejected_node_id) for p in store.pairs(prompt_id=project.p1)}
    assert before["response"] == ("i11", "r") and after["response"] == ("i12", "r")
    assert (switch.before, switch.after, switch.prompts) == (SCORER, "other", 2)
    # changed = pairs no longer made + pairs newly made, counted from the stored ids
    assert switch.changed_pairs == len(set(before.items()) ^ set(after.items()))
    assert ranking.ranking_scorer(store) == "other"
    with pytest.raises(UserError, match="No node has a score from 'missing'"):
        derived.switch_ranking_scorer(store, "missing")


def test_jobs_score_with_the_ranking_scorer_first(project):
    store = project.store
    settings_scorer = ScorerSpec(kind="likelihood", model="embedded")
    with pytest.raises(UserError, match="ranks by likelihood:test"):
        ranking.job_scorers(store, [settings_scorer])  # 'likelihood:test' has no folder the app knows
    ranking.choose_ranking_scorer(store, ScorerSpec(kind="relevance", model="embedded"))
    assert [s.label for s in ranking.job_scorers(store, [settings_scorer])] == [
        "relevance:embedded", "likelihood:embedded"]
    assert [s.label for s in ranking.job_scorers(store, [ScorerSpec(kind="relevance", model="embedded")])] == [
        "relevance:embedded"]


def test_a_new_project_takes_the_first_scorer_asked_for(tmp_path):
    from backend.store import Store

    with Store.create(tmp_path / "p") as store:
        assert ranking.job_scorers(store, [ScorerSpec(kind="relevance", model="embedded")])[0].label == \
            "relevance:embedded"
        assert ranking.ranking_scorer(store) == "relevance:embedded"


def test_the_cli_shows_and_switches_the_ranking_scorer(tmp_path, capsys):
    from backend.cli.commands import run_command

    built = build_curation_project(tmp_path)
    built.store.add_scores([Score("r", "other", 0.0), Score("i12", "other", 0.8)])
    built.store.close()
    project = str(tmp_path / "project")
    assert run_command(["ranking-scorer", project]) == 0
    assert capsys.readouterr().out.strip() == f"Ranked by {SCORER} (also scored by: other)"
    assert run_command(["ranking-scorer", project, "other"]) == 0
    assert capsys.readouterr().out.startswith(f"Ranked by other now (was {SCORER}): rebuilt the pairs of 2 prompts")
    from backend.store import Store

    with Store.open(project) as store:
        assert ranking.ranking_scorer(store) == "other"
        assert next(p for p in store.pairs(prompt_id=built.p1) if p.kind == "response").chosen_node_id == "i12"


def test_a_project_ranked_by_its_reward_model_run_keeps_scoring_with_it(project):
    store = project.store
    label = "classifier:rm:reward-20261202-101500-a1b2c3"
    store.add_scores([Score("r", label, 0.1), Score("i11", label, 0.4)])
    derived.switch_ranking_scorer(store, label)  # a label alone, as the CLI's ranking-scorer sets it
    scorers = ranking.job_scorers(store, [ScorerSpec(kind="relevance", model="embedded")])
    assert [(s.kind, s.model) for s in scorers] == [("classifier", "rm:reward-20261202-101500-a1b2c3"),
                                                    ("relevance", "embedded")]

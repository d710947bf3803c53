"""The prompt list: summary values, filters, sorting and paging on a hand-built project."""

import pytest

from backend.domain import Annotation
from backend.errors import BadInputError
from backend.store import PromptFilter, PromptSummary
from tests.store.builders import HAIKU, PERCENT, SODA, fill


@pytest.fixture
def project(store):
    fill(store)
    store.add_annotation(Annotation("i11", "accept", author="ann"))
    return store


def ids(summaries):
    return [s.id for s in summaries]


def test_summaries_hold_the_hand_worked_values(project):
    rows = project.list_prompt_summaries(PromptFilter())
    assert rows == [
        PromptSummary(SODA.id, SODA.text, 7, 3.0, 2.0, 2, 1, "curated", 7, 6),
        PromptSummary(HAIKU.id, HAIKU.text, 3, 2.0, -0.5, 0, 0, "generated", 3, 3),
        PromptSummary(PERCENT.id, PERCENT.text, 0, None, None, 0, 0, "new", 0, 0),
    ]


def test_another_scorer_gives_its_own_rewards(project):
    [haiku] = project.list_prompt_summaries(PromptFilter(text="haiku", scorer="b"))
    assert (haiku.best_reward, haiku.best_gain, haiku.n_improving) == (5.0, None, 0)


@pytest.mark.parametrize("filter_, expected", [
    (PromptFilter(text="RAIN"), [HAIKU]),
    (PromptFilter(text="%"), [PERCENT]),  # % is a literal character, not a wildcard
    (PromptFilter(text="_"), []),
    (PromptFilter(state="new"), [PERCENT]),
    (PromptFilter(state="curated"), [SODA]),
    (PromptFilter(min_gain=1.0), [SODA]),
    (PromptFilter(min_gain=-1.0), [SODA, HAIKU]),
    (PromptFilter(has_improving=True), [SODA]),
    (PromptFilter(has_improving=False), [HAIKU, PERCENT]),
    (PromptFilter(text="a", state="generated"), [HAIKU]),
])
def test_filters(project, filter_, expected):
    assert ids(project.list_prompt_summaries(filter_)) == [p.id for p in expected]
    assert project.count_prompt_summaries(filter_) == len(expected)


@pytest.mark.parametrize("sort, descending, expected", [
    ("added", False, [SODA, HAIKU, PERCENT]),
    ("added", True, [PERCENT, HAIKU, SODA]),
    ("text", False, [PERCENT, SODA, HAIKU]),
    ("best_reward", True, [SODA, HAIKU, PERCENT]),  # no score sorts last either way
    ("best_reward", False, [HAIKU, SODA, PERCENT]),
    ("best_gain", False, [HAIKU, SODA, PERCENT]),
    ("n_improving", True, [SODA, HAIKU, PERCENT]),
    ("state", False, [PERCENT, HAIKU, SODA]),
    ("n_nodes", True, [SODA, HAIKU, PERCENT]),
])
def test_sorting(project, sort, descending, expected):
    rows = project.list_prompt_summaries(PromptFilter(), sort=sort, descending=descending)
    assert ids(rows) == [p.id for p in expected]


def test_paging(project):
    page = project.list_prompt_summaries(PromptFilter(), offset=1, limit=1)
    assert ids(page) == [HAIKU.id]


def test_unknown_sort_key_or_state_is_a_user_error(project):
    with pytest.raises(BadInputError, match="unknown sort key"):
        project.list_prompt_summaries(PromptFilter(), sort="id; DROP TABLE prompts")
    with pytest.raises(BadInputError, match="unknown prompt state"):
        project.count_prompt_summaries(PromptFilter(state="done"))


def test_stats_follow_new_scores_and_cleared_verdicts(project):
    from backend.domain import Score
    from tests.store.builders import T0

    project.add_scores([Score("i22", "a", 4.0, created_at=T0)])  # i22 beats r1 by 3
    project.add_annotation(Annotation("i11", ""))  # clear the only verdict
    [soda] = project.list_prompt_summaries(PromptFilter(text="soda"))
    assert (soda.best_reward, soda.best_gain, soda.n_improving, soda.n_verdicts, soda.state) == (
        4.0, 3.0, 3, 0, "generated")


def test_one_prompt_summary(project):
    assert project.prompt_summary(HAIKU.id) == PromptSummary(HAIKU.id, HAIKU.text, 3, 2.0, -0.5, 0, 0, "generated",
                                                             3, 3)
    assert project.prompt_summary("missing") is None


def test_undecided_nodes_filter_and_curation_progress(project):
    """One accepted node of seven leaves SODA undecided; deciding the rest makes it curated."""
    assert ids(project.list_prompt_summaries(PromptFilter(has_undecided=True))) == [SODA.id, HAIKU.id]
    assert project.curation_progress() == (0, 2)
    soda_nodes = [row[0] for row in project._db.rows("SELECT id FROM nodes WHERE prompt_id = ?", [SODA.id])]
    for node_id in soda_nodes:
        project.add_annotation(Annotation(node_id, "skip", author="ann"))
    assert ids(project.list_prompt_summaries(PromptFilter(has_undecided=True))) == [HAIKU.id]
    assert project.curation_progress() == (1, 2)
    assert ids(project.list_prompt_summaries(PromptFilter(prompt_ids=(HAIKU.id, PERCENT.id)))) == [HAIKU.id, PERCENT.id]


def _stats_tables(store):
    """Every row of the cached aggregate tables, in a stable order."""
    return {table: store._db.rows(f"SELECT * FROM {table} ORDER BY ALL")
            for table in ("prompt_stats", "prompt_scorer_stats", "answer_rewards")}


def test_refreshing_some_prompts_drops_only_their_stale_scorer_stats(project):
    """A scorer whose scores are gone loses its stats row on the touched prompts only; the touched
    prompts' rows then equal a rebuild from scratch and the untouched prompts' rows stay as they were."""
    from backend.domain import Score
    from tests.store.builders import T0

    project.add_scores([Score("r1", "c", 7.0, created_at=T0), Score("r2", "c", 8.0, created_at=T0)])
    before = _stats_tables(project)
    assert {(p, s) for p, s, *_ in before["prompt_scorer_stats"]} == {
        (SODA.id, "a"), (SODA.id, "c"), (HAIKU.id, "a"), (HAIKU.id, "b"), (HAIKU.id, "c")}
    project._db.execute("DELETE FROM scores WHERE scorer = 'c'")  # as if scorer c's scores were withdrawn
    project.refresh_prompt_stats([HAIKU.id])
    refreshed = _stats_tables(project)
    for table in ("prompt_stats", "prompt_scorer_stats", "answer_rewards"):
        project._db.execute(f"DELETE FROM {table}")
    project.refresh_prompt_stats()
    rebuilt = _stats_tables(project)
    for table, rows in refreshed.items():
        assert [r for r in rows if HAIKU.id in r] == [r for r in rebuilt[table] if HAIKU.id in r], table
        assert [r for r in rows if HAIKU.id not in r] == [r for r in before[table] if HAIKU.id not in r], table
    assert (SODA.id, "c") in {(p, s) for p, s, *_ in refreshed["prompt_scorer_stats"]}  # untouched: kept
    assert (HAIKU.id, "c") not in {(p, s) for p, s, *_ in refreshed["prompt_scorer_stats"]}
    assert (SODA.id, "c") not in {(p, s) for p, s, *_ in rebuilt["prompt_scorer_stats"]}

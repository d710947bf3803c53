"""The reward-debugging aggregates on the hand-built project (tests/store/builders.py), values worked
out by hand: scorer 'a' gives SODA r1=1, i11=3, i12=0.5, i21=2 and HAIKU r2=2, i31=1.5; 'b' gives r2=5."""

import pytest

from backend.domain import Annotation, Node, Score
from tests.store.builders import HAIKU, SODA, T0, fill


@pytest.fixture
def project(store):
    fill(store)
    return store


def test_gains_histogram_and_points_hold_the_hand_worked_values(project):
    points = project.plot_points("gains", "a")
    assert points.total == 4
    assert sorted(zip(points.x, points.y, strict=True)) == [(-0.5, 0.5), (-0.5, 1.5), (1.0, 2.0), (2.0, 3.0)]
    histogram = project.gain_histogram("a", bins=5)  # Δ from -0.5 to 2 in bins of 0.5
    assert histogram.counts.tolist() == [2, 0, 0, 1, 1]
    assert histogram.edges[0] == -0.5 and histogram.edges[-1] == 2.0
    assert (histogram.total, histogram.positive, histogram.mean) == (4, 2, 0.5)


def test_before_after_counts_answers_their_refinements_beat(project):
    points = project.plot_points("before_after", "a")
    assert sorted(zip(points.x, points.y, strict=True)) == [(1.0, 3.0), (2.0, 1.5)]  # r1 -> best 3; r2 -> best 1.5
    assert points.above_diagonal == 1


def test_scorer_pairs_length_bias_and_rounds(project):
    pair = project.plot_points("scorers", "a", other="b")
    assert (pair.total, pair.x.tolist(), pair.y.tolist()) == (1, [2.0], [5.0])  # only r2 has both
    correlations = project.length_correlations()
    assert correlations["b"] == (None, 1) and correlations["a"][1] == 6
    assert [row[:3] for row in project.rewards_by_round("a")] == [(0, 6, pytest.approx(10 / 6))]


def test_self_rating_against_the_mean_reward_of_the_criticisms_improvements(project):
    project.add_nodes([Node("c9", SODA.id, "criticism", "rated", parent_id="r1", self_rating=7, created_at=T0),
                       Node("i91", SODA.id, "improvement", "x", parent_id="c9", created_at=T0),
                       Node("i92", SODA.id, "improvement", "y", parent_id="c9", created_at=T0)])
    project.add_scores([Score("i91", "a", 1.0), Score("i92", "a", 4.0)])
    assert project.self_rating_means("a") == [(7, 1, 2.5)]


def test_disagreement_queue_sorted_by_margin(project):
    project.add_annotation(Annotation("i12", "accept"))  # 0.5 although its sibling i11 has 3: margin 2.5
    project.add_annotation(Annotation("c1", "accept"))  # r(c1) = 1.75 although r(c2) = 2: margin 0.25
    project.add_annotation(Annotation("i31", "reject"))  # no scored sibling: nothing to disagree with
    project.add_annotation(Annotation("i11", "accept"))  # the reward agrees
    queue = project.disagreements("a")
    assert [(d.node_id, d.verdict, d.reward, d.other) for d in queue] == [
        ("i12", "accept", 0.5, 3.0), ("c1", "accept", 1.75, 2.0)]
    assert queue[0].margin == 2.5 and queue[1].margin == pytest.approx(0.25)
    assert queue[0].text == "text of i12" and queue[0].prompt_text == SODA.text


def test_a_region_selects_the_prompts_of_every_point_inside(project):
    assert project.prompts_in_region("gains", "a", (0.5, 3.0)) == [SODA.id]
    assert project.prompts_in_region("gains", "a", (-1.0, 0.0)) == [SODA.id, HAIKU.id]
    assert project.prompts_in_region("before_after", "a", (0.0, 5.0), (2.0, 5.0)) == [SODA.id]


def test_the_cache_follows_new_scores(project):
    project.add_scores([Score("i22", "a", 0.0)])  # SODA's last improvement: Δ = -1
    assert project.plot_points("gains", "a").total == 5
    assert project.prompts_in_region("gains", "a", (-1.0, -1.0)) == [SODA.id]


def test_annotations_in_one_batch_refresh_the_stats_once(project):
    project.add_annotations([Annotation("i12", "accept", author="b"), Annotation("c1", "accept", author="b")])
    assert [d.node_id for d in project.disagreements("a")] == ["i12", "c1"]
    assert project.curation_progress() == (0, 2)
    with pytest.raises(Exception, match="name nodes this project does not have"):
        project.add_annotations([Annotation("nope", "accept")])

"""Refinement-aware rewards: criticism values, gains, the best refinement, the GUI's reward columns."""

import pytest

from backend.avr.rewards import NodeReward, best_refinement, criticism_value, gain, node_rewards
from tests.avr.avr_tree_factory import TreeFactory, baking_soda_tree


def test_criticism_value_is_the_mean_of_scored_improvements():
    [y] = baking_soda_tree(i12=None).roots()
    c1, c2 = y.children
    assert criticism_value(c1) == 1.92                    # i12 unscored: left out of the mean
    assert criticism_value(c2) == pytest.approx((-0.35 + 0.88) / 2)
    [bare] = TreeFactory().add("y", "response", "a").add("c", "criticism", "c", "y").roots()
    assert criticism_value(bare.children[0]) is None


def test_gain_and_best_refinement():
    [y] = baking_soda_tree().roots()
    c1, c2 = y.children
    assert gain(c1.children[0], y) == pytest.approx(1.92 + 0.12)
    assert gain(c2.children[0], y) == pytest.approx(-0.35 + 0.12)
    crit, improvement = best_refinement(y)
    assert (crit.id, improvement.id) == ("c1", "i11")
    [tied] = baking_soda_tree(i11=1.5, i22=1.5).roots()   # a tie goes to the later one, as in the authors' scorer
    assert [node.id for node in best_refinement(tied)] == ["c2", "i22"]


def test_no_best_refinement_without_a_strict_gain_or_scores():
    [y] = baking_soda_tree(y=1.92).roots()   # the best improvement only ties the answer: Δ = 0
    assert best_refinement(y) is None
    [y] = baking_soda_tree(y=None).roots()
    assert best_refinement(y) is None
    [y] = baking_soda_tree(i11=None, i12=None, i21=None, i22=None).roots()
    assert best_refinement(y) is None


def test_node_rewards_feed_the_reward_columns():
    [y] = baking_soda_tree().roots()
    rewards = node_rewards(y)
    assert rewards["y"] == NodeReward(-0.12, None, False)
    assert rewards["c1"] == NodeReward(pytest.approx(1.665), None, True)
    assert rewards["c2"] == NodeReward(pytest.approx(0.265), None, False)
    assert rewards["i11"] == NodeReward(1.92, pytest.approx(2.04), True)
    assert rewards["i12"] == NodeReward(1.41, pytest.approx(1.53), False)
    assert rewards["i21"].gain == pytest.approx(-0.23)
    assert set(rewards) == {"y", "c1", "c2", "i11", "i12", "i21", "i22"}


def test_node_rewards_of_a_stage_two_chain_compare_with_the_answer_criticised():
    f = (TreeFactory()
         .add("y", "response", "a", score=0.0)
         .add("c", "criticism", "c", "y")
         .add("i", "improvement", "b", "c", score=1.0)
         .add("c-r1", "criticism", "c", "i", round=1)
         .add("i-r1", "improvement", "d", "c-r1", round=1, score=1.5))
    rewards = node_rewards(f.roots()[0])
    assert rewards["i"].gain == 1.0 and rewards["i-r1"].gain == 0.5
    assert rewards["c-r1"] == NodeReward(1.5, None, True) and rewards["i-r1"].best

"""Before / after arithmetic against a hand-worked example."""

import pytest

from backend.training.evaluation import AnswerPair, compare, pairwise_agreement


def test_win_rate_means_and_rows_worked_by_hand():
    pairs = [
        AnswerPair("a", "x" * 10, "y" * 20, base_score=0.0, trained_score=1.0),   # win, +1.0
        AnswerPair("b", "x" * 30, "y" * 10, base_score=2.0, trained_score=2.0),   # tie
        AnswerPair("c", "x" * 20, "y" * 30, base_score=1.0, trained_score=-1.0),  # loss, -2.0
        AnswerPair("d", "x" * 40, "y" * 40, base_score=-1.0, trained_score=2.0),  # win, +3.0
    ]
    result = compare(pairs)
    # (2 wins + 1 tie / 2) / 4 = 0.625; base mean (0 + 2 + 1 - 1) / 4 = 0.5; trained (1 + 2 - 1 + 2) / 4 = 1.0
    assert (result.n, result.wins, result.ties, result.losses) == (4, 2, 1, 1)
    assert result.win_rate == 0.625
    assert (result.mean_reward_base, result.mean_reward_trained) == (0.5, 1.0)
    assert (result.mean_length_base, result.mean_length_trained) == (25.0, 25.0)
    assert [row.prompt_id for row in result.rows] == ["d", "a", "b", "c"]
    rows = result.to_dict()["rows"]
    assert [(r["difference"], r["outcome"]) for r in rows] == [(3.0, "win"), (1.0, "win"), (0.0, "tie"), (-2.0, "loss")]


def test_agreement_counts_ties_half():
    assert pairwise_agreement([1.0, 1.0, 0.0], [0.0, 1.0, 1.0]) == pytest.approx(0.5)


def test_nothing_to_compare_is_an_error():
    with pytest.raises(ValueError, match="nothing to compare"):
        compare([])

"""Stage II: the greedy chain's acceptance and closing rules, and the long-thought DPO pair choice."""

import pytest

from backend.avr.chain import (
    GreedyOutcome,
    accept_step,
    best_improvement,
    closing_criticism,
    greedy_outcome,
    greedy_path,
)
from backend.avr.stage2 import choose_long_thought_pair, long_thought_pair, long_thought_sample
from backend.domain import Pair, Prompt, SftSample

PROMPT = Prompt("p", "What is 15% of 80?")


@pytest.mark.parametrize(("current", "candidates", "expected"), [
    (1.0, [0.5, 1.5, 1.2, 0.9], 1),
    (1.0, [1.5, 1.5], 0),                 # a tie among candidates: the earlier one
    (1.0, [1.0, 0.2], None),              # tying the current answer is not an improvement: stop
    (1.0, [0.9, None], None),
    (1.0, [None, 1.01], 1),               # unscored candidates are skipped
    (1.0, [], None),
    (-2.0, [None, None], None),
])
def test_accept_step(current, candidates, expected):
    assert accept_step(current, candidates) == expected


# Three rounds of a chain with y0 scored 0.1: round 1 accepts c1's second improvement (0.6), round 2 its
# c2b's first (0.8, c2a did not parse), round 3 fails (0.7 < 0.8) and closes with c3b (0.7 > 0.3).
ROUND_SCORES = [[[0.2, 0.6], [0.5, None]], [None, [0.8, 0.4]], [[0.3, 0.1], [0.7]]]
ROUND_NODES = [[("c1a", ["y1a", "y1b"]), ("c1b", ["y1c", None])], [None, ("c2b", ["y2a", "y2b"])],
               [("c3a", ["y3a", "y3b"]), ("c3b", ["y3c"])]]


def test_greedy_path_records_each_accepted_round_and_the_closing_criticism():
    outcome = greedy_outcome(0.1, ROUND_SCORES)
    assert outcome == GreedyOutcome(((0, 1), (1, 0)), 1, None)
    path = greedy_path("y0", outcome, ROUND_NODES)
    assert path.node_ids == ("y0", "c1a", "y1b", "c2b", "y2a", "c3b")
    assert (path.answer_ids, path.criticism_ids, path.best_id) == (("y0", "y1b", "y2a"), ("c1a", "c2b", "c3b"), "y2a")


def test_greedy_path_of_chains_the_paper_drops():
    no_gain = greedy_path("y0", greedy_outcome(0.9, ROUND_SCORES[:1]), ROUND_NODES[:1])
    assert no_gain.node_ids == ("y0", "c1a") and no_gain.best_id == "y0"      # closes with round 1's best criticism
    last_round = greedy_path("y0", greedy_outcome(0.1, ROUND_SCORES[:2]), ROUND_NODES[:2])
    assert last_round.node_ids == ("y0", "c1a", "y1b", "c2b", "y2a")          # improved in the last round run: no c_final
    assert greedy_path("y0", greedy_outcome(0.1, []), []).node_ids == ("y0",)


@pytest.mark.parametrize(("round_scores", "best", "closing"), [
    ([[0.1, 0.3], [0.7, None]], (1, 0), 1),           # the criticism whose improvement scored highest
    ([[0.5, 0.2], [0.5, 0.4]], (0, 0), 0),            # a tie: the first in (criticism, improvement) order
    ([None, [-1.0, -0.5]], (1, 1), 1),                # a criticism that did not parse (None) is skipped
    ([[None, None], None], None, None),               # nothing scored: no closing criticism
    ([], None, None),
])
def test_closing_criticism_is_the_failed_rounds_best_scored(round_scores, best, closing):
    assert best_improvement(round_scores) == best
    assert closing_criticism(round_scores) == closing


@pytest.mark.parametrize(("start", "rounds", "degenerate", "expected"), [
    # round 1 improves (0.9 > 0.1), round 2 fails (0.8 ≤ 0.9): c_final from round 2's best, criticism 1
    (0.1, [[[0.9, 0.2], [0.3]], [[0.1, 0.5], [0.8]]], False, GreedyOutcome(((0, 0),), 1, None)),
    # a failed round's best may tie the current score: still a failure
    (0.1, [[[0.9]], [[0.9], [0.2]]], False, GreedyOutcome(((0, 0),), 0, None)),
    (0.1, [[[0.1, 0.0]]], False, GreedyOutcome((), 0, "no round improved the answer")),
    (0.1, [[[0.5]], [[0.7]]], False,
     GreedyOutcome(((0, 0), (0, 0)), None,
                   "the best answer came in the last round run, so no failed round closes the thought")),
    (0.1, [[[0.5]], [None, [None]]], False,
     GreedyOutcome(((0, 0),), None,
                   "the round after the best answer has no scored improvement to pick the closing criticism")),
    (0.1, [[[0.5]], [[0.2]]], True, GreedyOutcome(((0, 0),), 0, "the first answer y0 is degenerate")),
    (0.1, [], False, GreedyOutcome((), None, "no round was run")),
])
def test_greedy_outcome(start, rounds, degenerate, expected):
    assert greedy_outcome(start, rounds, degenerate) == expected


def test_long_thought_pair_choice():
    samples = [
        ("thought 0", "12", 1.0),
        ("thought 1", "It is 12.", 2.5),                 # best
        ("thought 2", None, 9.0),                        # no final answer: ignored
        ("thought 3", "The answer is twelve.", -0.5),    # worst
        ("thought 4", "x", None),                        # unscored: ignored
    ]
    assert choose_long_thought_pair(samples, reference_score=0.0) == (1, 3)
    # The best must beat the reference answer strictly.
    assert choose_long_thought_pair(samples, reference_score=2.5) is None
    assert choose_long_thought_pair(samples, reference_score=2.4) == (1, 3)
    # best: the first of the highest; worst: the first of the lowest.
    tied = [("t0", "ab", 0.0), ("t1", "cd", 2.0), ("t2", "ef", 2.0), ("t3", "gh", 0.0)]
    assert choose_long_thought_pair(tied, reference_score=1.0) == (1, 0)
    # The chosen final answer may not be longer than the rejected one.
    assert choose_long_thought_pair([("t0", "a much longer final answer", 2.0), ("t1", "short", 0.0)], None) is None
    assert choose_long_thought_pair([("t0", "same", 2.0), ("t1", "four", 0.0)], None) == (0, 1)   # equal length
    assert choose_long_thought_pair([("t0", "a", 1.0), ("t1", "b", 1.0)], None) is None    # worst not below best
    assert choose_long_thought_pair([("t0", "a", 1.0), ("t1", None, 0.0)], None) is None   # a single candidate


def test_long_thought_pair_and_sample():
    samples = [("full thought A", "It is 12.", 2.5), ("full thought B", "The answer is twelve.", -0.5)]
    assert long_thought_pair(PROMPT, samples, 1.0, ["n0", "n1"]) == Pair(
        "long_thought", "p", [{"role": "user", "content": PROMPT.text}], "full thought A", "full thought B",
        "reward", "n0", "n1", 2.5, -0.5)
    assert long_thought_pair(PROMPT, samples, 3.0) is None
    assert long_thought_pair(PROMPT, samples[:1], None) is None
    assert long_thought_sample(PROMPT, "full thought A", ("y0", "c1")) == SftSample(
        "long_thought", "p", [{"role": "user", "content": PROMPT.text},
                              {"role": "assistant", "content": "full thought A"}], ("y0", "c1"))

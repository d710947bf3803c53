"""Stage II: the greedy chain's acceptance and closing rules, and the long-thought DPO pair choice."""

import pytest

from backend.avr.chain import (
    ChainOutcome,
    ChainStep,
    GreedyOutcome,
    accept_step,
    best_improvement,
    chain_long_thought,
    closing_criticism,
    closing_criticism_index,
    finalize_chain,
    greedy_outcome,
)
from backend.avr.long_thought import LongThought
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


def test_finalize_chain_keeps_improved_and_closed_chains():
    steps = [ChainStep("c1", "y1", 0.5), ChainStep("c2", "y2", 0.9)]
    outcome = finalize_chain("y0", 0.1, steps, "c3", rounds=5)
    assert outcome == ChainOutcome(("y0", "c1", "y1", "c2", "y2", "c3"), "y2", (0.1, 0.5, 0.9))
    assert outcome.answer_ids == ("y0", "y1", "y2")
    assert outcome.criticism_ids == ("c1", "c2", "c3")


def test_finalize_chain_drops_chains_without_improvement_or_closing_criticism():
    assert finalize_chain("y0", 0.1, [], "c1", rounds=5) is None
    steps = [ChainStep(f"c{i}", f"y{i}", float(i)) for i in range(1, 6)]
    assert finalize_chain("y0", 0.0, steps, "c6", rounds=5) is None      # best came in the last allowed round
    assert finalize_chain("y0", 0.0, steps[:4], "c5", rounds=5) is not None
    assert finalize_chain("y0", 0.0, steps[:1], None, rounds=5) is None


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


def test_closing_criticism_and_long_thought_parts():
    assert closing_criticism_index([3, 8, 8, None]) == 1   # deprecated, until the chain job moves over
    assert closing_criticism_index([None, None]) == 0
    assert closing_criticism_index([]) is None
    outcome = finalize_chain("y0", 0.1, [ChainStep("c1", "y1", 0.5)], "c2", rounds=5)
    texts = {"y0": "A0", "c1": "C1", "y1": "A1", "c2": "C2"}
    assert chain_long_thought(outcome, texts) == LongThought(["A0", "A1"], ["C1", "C2"], "A1")


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

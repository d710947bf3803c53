"""The Stage II greedy refinement chain (DESIGN.md §1.4 step 1): accept a round's best improvement
only if it strictly beats the current answer; stop at the first round that does not.

The runner expands a 2×2 tree under the current answer each round, calls `accept_step`, and at the
end `finalize_chain`, which keeps only chains that improved and that closed with a criticism.
`closing_criticism` picks c_final; `greedy_outcome` replays a whole recorded chain (the authors'
greedy records) with the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from backend.avr.long_thought import LongThought


def accept_step(current_score: float, candidate_scores: Sequence[float | None]) -> int | None:
    """Index of the best-scored candidate if it strictly beats the current answer, else None (stop).

    Unscored candidates are skipped; ties among candidates go to the earlier one.

    >>> accept_step(1.0, [0.5, 1.5, None, 1.2])
    1
    >>> accept_step(1.0, [1.0, None]) is None    # a tie is not an improvement
    True
    """
    best_index = None
    for index, score in enumerate(candidate_scores):
        if score is not None and (best_index is None or score > candidate_scores[best_index]):  # type: ignore[operator]
            best_index = index
    if best_index is None or not candidate_scores[best_index] > current_score:  # type: ignore[operator]
        return None
    return best_index


@dataclass(frozen=True)
class ChainStep:
    """One accepted round: the criticism that led to the accepted answer, and the answer's score."""

    criticism_id: str
    answer_id: str
    score: float


@dataclass(frozen=True)
class ChainOutcome:
    """A kept chain: node_ids = y0, c1, y1, ..., yn, c_final (as domain.Chain stores them)."""

    node_ids: tuple[str, ...]
    best_node_id: str
    scores: tuple[float, ...]  # R of y0..yn

    @property
    def answer_ids(self) -> tuple[str, ...]:
        return self.node_ids[0:-1:2]

    @property
    def criticism_ids(self) -> tuple[str, ...]:
        return self.node_ids[1::2]


def finalize_chain(start_id: str, start_score: float, steps: Sequence[ChainStep],
                   closing_criticism_id: str | None, rounds: int) -> ChainOutcome | None:
    """The chain to keep, or None: dropped with no accepted round, or when the last accepted
    answer came in the last allowed round (no round was left to produce its closing criticism),
    or when no closing criticism is given.

    >>> finalize_chain("y0", 0.1, [ChainStep("c1", "y1", 0.9)], "c2", rounds=5).node_ids
    ('y0', 'c1', 'y1', 'c2')
    >>> finalize_chain("y0", 0.1, [], "c1", rounds=5) is None
    True
    """
    if not steps or len(steps) >= rounds or closing_criticism_id is None:
        return None
    node_ids = [start_id]
    for step in steps:
        node_ids += [step.criticism_id, step.answer_id]
    node_ids.append(closing_criticism_id)
    return ChainOutcome(tuple(node_ids), steps[-1].answer_id, (start_score, *(s.score for s in steps)))


# One round of a chain: per criticism (None where no criticism parsed), the rewards of its
# improvements (None where an improvement has no text or no score).
RoundScores = Sequence[Sequence[float | None] | None]


def best_improvement(round_scores: RoundScores) -> tuple[int, int] | None:
    """(criticism, improvement) index of a round's highest-scored improvement, the first on a tie;
    None if nothing in the round is scored.

    >>> best_improvement([[0.2, 0.9], None, [0.9, 0.1]]), best_improvement([None, [None]]) is None
    ((0, 1), True)
    """
    best, best_score = None, None
    for i, scores in enumerate(round_scores):
        for j, score in enumerate(scores or ()):
            if score is not None and (best_score is None or score > best_score):
                best, best_score = (i, j), score
    return best


def closing_criticism(round_scores: RoundScores) -> int | None:
    """c_final (DESIGN.md §1.4.2): the index of the criticism, in the round that failed to improve,
    whose improvement scored highest (the first on a tie); None if none of its improvements is scored.

    >>> closing_criticism([[0.1, 0.3], [0.7, None]]), closing_criticism([None, []]) is None
    (1, True)
    """
    best = best_improvement(round_scores)
    return None if best is None else best[0]


def closing_criticism_index(self_ratings: Sequence[int | None]) -> int | None:
    """Deprecated: the closing criticism by self-rating. The paper's rule is `closing_criticism`
    (by the failed round's rewards); the chain job still calls this until it is moved over.

    >>> closing_criticism_index([3, 8, None]), closing_criticism_index([None, None])
    (1, 0)
    """
    if not self_ratings:
        return None
    rated = [(rating, -index) for index, rating in enumerate(self_ratings) if rating is not None]
    return -max(rated)[1] if rated else 0


@dataclass(frozen=True)
class GreedyOutcome:
    """What the paper takes from a greedy chain's rounds (DESIGN.md §1.4 steps 1–2).

    accepted: per accepted round, the (criticism, improvement) index of its accepted improvement;
    closing: the closing criticism's index in the failed round; dropped: why no long thought is made
    (None when one is).
    """

    accepted: tuple[tuple[int, int], ...]
    closing: int | None
    dropped: str | None

    @property
    def failed_round(self) -> int:
        """Index of the round that did not improve (the one after the accepted rounds)."""
        return len(self.accepted)


def greedy_outcome(start_score: float, rounds: Sequence[RoundScores], start_degenerate: bool = False) -> GreedyOutcome:
    """Replay a chain's rounds: a round's best improvement is accepted if it strictly beats the
    current answer; the first round that does not ends the chain. The long thought is dropped if
    y0 is degenerate, if no round improved, if the last round run improved (nothing failed after
    it to close the thought), or if the failed round has no scored improvement.

    >>> greedy_outcome(0.0, [[[0.5, 0.2], [0.1]], [[0.4], [0.3, 0.45]]])
    GreedyOutcome(accepted=((0, 0),), closing=1, dropped=None)
    >>> greedy_outcome(0.0, [[[0.5]]]).dropped
    'the best answer came in the last round run, so no failed round closes the thought'
    """
    accepted: list[tuple[int, int]] = []
    current, failed = start_score, None
    for round_scores in rounds:
        best = best_improvement(round_scores)
        score = None if best is None else round_scores[best[0]][best[1]]  # type: ignore[index]
        if best is None or not score > current:  # type: ignore[operator]
            failed = round_scores
            break
        accepted.append(best)
        current = score  # type: ignore[assignment]
    closing = None if failed is None else closing_criticism(failed)
    if not rounds:
        reason = "no round was run"
    elif start_degenerate:
        reason = "the first answer y0 is degenerate"
    elif not accepted:
        reason = "no round improved the answer"
    elif failed is None:
        reason = "the best answer came in the last round run, so no failed round closes the thought"
    elif closing is None:
        reason = "the round after the best answer has no scored improvement to pick the closing criticism"
    else:
        reason = None
    return GreedyOutcome(tuple(accepted), closing, reason)


def chain_long_thought(outcome: ChainOutcome, texts: Mapping[str, str]) -> LongThought:
    """The long-thought parts of a kept chain, given the text of each node (edits applied by the caller)."""
    answers = [texts[node_id] for node_id in outcome.answer_ids]
    criticisms = [texts[node_id] for node_id in outcome.criticism_ids]
    return LongThought(answers, criticisms, texts[outcome.best_node_id])

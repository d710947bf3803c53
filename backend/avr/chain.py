"""The Stage II greedy refinement chain (DESIGN.md §1.4 step 1): accept a round's best improvement
only if it strictly beats the current answer; stop at the first round that does not.

The runner expands a 2×2 tree under the current answer each round, calls `accept_step`, and at the
end `finalize_chain`, which keeps only chains that improved and that closed with a criticism.
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


def closing_criticism_index(self_ratings: Sequence[int | None]) -> int | None:
    """Which criticism of the final, non-improving round closes the thought: the one with the highest
    self-rating (it judged the answer closest to done, which suits "now it’s almost done"); the
    first if none is rated; None if there are none.

    >>> closing_criticism_index([3, 8, None]), closing_criticism_index([None, None])
    (1, 0)
    """
    if not self_ratings:
        return None
    rated = [(rating, -index) for index, rating in enumerate(self_ratings) if rating is not None]
    return -max(rated)[1] if rated else 0


def chain_long_thought(outcome: ChainOutcome, texts: Mapping[str, str]) -> LongThought:
    """The long-thought parts of a kept chain, given the text of each node (edits applied by the caller)."""
    answers = [texts[node_id] for node_id in outcome.answer_ids]
    criticisms = [texts[node_id] for node_id in outcome.criticism_ids]
    return LongThought(answers, criticisms, texts[outcome.best_node_id])

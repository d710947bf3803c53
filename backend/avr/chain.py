"""The Stage II greedy refinement chain (DESIGN.md §1.4 step 1): accept a round's best improvement
only if it strictly beats the current answer; stop at the first round that does not.

`greedy_outcome` applies the rules to a chain's rounds (the chain job round by round as it grows
one, the authors' greedy records all at once): which improvement each round accepts, the closing
criticism c_final (`closing_criticism`) and whether the long thought is kept; `greedy_path` names the
nodes the chain records. `accept_step` is the same acceptance test for one list of candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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


# One round's nodes, parallel to its RoundScores: per criticism (None where none parsed), its id and
# the ids of its improvements (None where an improvement has no text).
RoundNodes = Sequence[tuple[str, Sequence[str | None]] | None]


@dataclass(frozen=True)
class GreedyPath:
    """The nodes a greedy chain records (`domain.Chain.node_ids`): y0, c1, y1, ..., yn, then c_final
    when the chain has one."""

    node_ids: tuple[str, ...]
    answer_ids: tuple[str, ...]  # y0..yn: the start and each accepted improvement
    criticism_ids: tuple[str, ...]  # c1..cn, then c_final

    @property
    def best_id(self) -> str:
        return self.answer_ids[-1]


def greedy_path(start_id: str, outcome: GreedyOutcome, rounds: Sequence[RoundNodes]) -> GreedyPath:
    """The chain's nodes: y0, then per accepted round its criticism and accepted improvement, then the
    closing criticism of the failed round (when there is one). The chain job and the greedy-record
    importer record chains this way, so both look the same in a project.

    >>> rounds = [[("c1", ["y1a", "y1b"]), ("c2", ["y2a"])], [("c3", ["y3a"]), None, ("c4", ["y4a"])]]
    >>> greedy_path("y0", GreedyOutcome(((0, 1),), 2, None), rounds).node_ids
    ('y0', 'c1', 'y1b', 'c4')
    >>> greedy_path("y0", GreedyOutcome((), 1, "no round improved the answer"), rounds).node_ids
    ('y0', 'c2')
    """
    answers, criticisms = [start_id], []
    for round_index, (i, j) in enumerate(outcome.accepted):
        criticism, improvements = rounds[round_index][i]  # type: ignore[misc]
        criticisms.append(criticism)
        answers.append(improvements[j])  # type: ignore[arg-type]
    if outcome.closing is not None:
        criticisms.append(rounds[outcome.failed_round][outcome.closing][0])  # type: ignore[index]
    node_ids = [start_id]
    for criticism, answer in zip(criticisms, answers[1:], strict=False):
        node_ids += [criticism, answer]
    if len(criticisms) == len(answers):
        node_ids.append(criticisms[-1])  # c_final
    return GreedyPath(tuple(node_ids), tuple(answers), tuple(criticisms))

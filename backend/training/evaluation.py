"""Before / after arithmetic (pure, stdlib only): given each held-out prompt's answer from two models and
their scores, the win rate of the second model with ties counted half, the mean reward and mean length of
each side, and the per-prompt rows the app sorts by reward difference.

>>> result = compare([
...     AnswerPair("p1", base_answer="ok", trained_answer="better", base_score=1.0, trained_score=2.0),
...     AnswerPair("p2", base_answer="fine", trained_answer="same", base_score=0.5, trained_score=0.5),
...     AnswerPair("p3", base_answer="good one", trained_answer="bad", base_score=3.0, trained_score=1.0),
... ])
>>> (result.n, result.wins, result.ties, result.losses, result.win_rate)
(3, 1, 1, 1, 0.5)
>>> (result.mean_reward_base, result.mean_reward_trained, result.mean_length_base, result.mean_length_trained)
(1.5, 1.1666666666666667, 4.666666666666667, 4.333333333333333)
>>> [row.prompt_id for row in result.rows]   # largest gain first
['p1', 'p2', 'p3']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class AnswerPair:
    """One held-out prompt: the base model's answer and the trained model's, each with its score.
    (For Stage II, the answers are the texts after `Final answer:`.)"""

    prompt_id: str
    base_answer: str
    trained_answer: str
    base_score: float
    trained_score: float

    @property
    def difference(self) -> float:
        return self.trained_score - self.base_score

    @property
    def outcome(self) -> str:
        """'win', 'tie' or 'loss' of the trained answer."""
        if self.trained_score > self.base_score:
            return "win"
        return "tie" if self.trained_score == self.base_score else "loss"


@dataclass(frozen=True)
class Comparison:
    n: int
    wins: int
    ties: int
    losses: int
    win_rate: float  # (wins + ties / 2) / n: the trained model against the base
    mean_reward_base: float
    mean_reward_trained: float
    mean_length_base: float  # characters
    mean_length_trained: float
    rows: tuple[AnswerPair, ...]  # by reward difference, largest gain first (ties keep the input order)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rows"] = [asdict(row) | {"difference": row.difference, "outcome": row.outcome} for row in self.rows]
        return data


def compare(pairs: Sequence[AnswerPair]) -> Comparison:
    """Win rate with ties counted half, mean reward and mean length per side, and the rows sorted by gain."""
    if not pairs:
        raise ValueError("nothing to compare: no held-out prompt has an answer from both models")
    n = len(pairs)
    wins = sum(pair.outcome == "win" for pair in pairs)
    ties = sum(pair.outcome == "tie" for pair in pairs)
    return Comparison(
        n=n, wins=wins, ties=ties, losses=n - wins - ties, win_rate=(wins + ties / 2) / n,
        mean_reward_base=sum(p.base_score for p in pairs) / n,
        mean_reward_trained=sum(p.trained_score for p in pairs) / n,
        mean_length_base=sum(len(p.base_answer) for p in pairs) / n,
        mean_length_trained=sum(len(p.trained_answer) for p in pairs) / n,
        rows=tuple(sorted(pairs, key=lambda pair: -pair.difference)),
    )


def pairwise_agreement(chosen_scores: Sequence[float], rejected_scores: Sequence[float]) -> float:
    """Share of pairs whose chosen side scores higher, ties counted half (a reward model's agreement with
    the verdicts that picked the chosen sides).

    >>> pairwise_agreement([2.0, 1.0, 0.0, 5.0], [1.0, 1.0, 3.0, 4.0])
    0.625
    """
    if len(chosen_scores) != len(rejected_scores):
        raise ValueError("chosen and rejected scores must pair up")
    if not chosen_scores:
        raise ValueError("no pairs to measure agreement on")
    points = sum(1.0 if c > r else 0.5 if c == r else 0.0 for c, r in zip(chosen_scores, rejected_scores, strict=True))
    return points / len(chosen_scores)

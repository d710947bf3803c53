"""How siblings are ordered when a person has spoken on some of them (DESIGN.md §1.5).

Verdict first — accept > no opinion (none or skip) > reject — then the reward value. So a person's
accept lets a node win even without scores, and a reject makes it lose whatever its score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backend.avr.tree import TreeNode

VERDICT_RANK = {"accept": 2, "skip": 1, None: 1, "reject": 0}
ACCEPTED, NO_OPINION, REJECTED = 2, 1, 0


def verdict_rank(tree_node: TreeNode) -> int:
    return VERDICT_RANK.get(tree_node.verdict, NO_OPINION)


def rank_key(tree_node: TreeNode, value: float | None) -> tuple[int, bool, float]:
    """Sort key, best last: verdict rank, then scored before unscored, then the value.

    >>> from backend.domain import Node, NodeState
    >>> a = TreeNode(Node("a", "p", "improvement", "A"), None, NodeState("accept"))
    >>> rank_key(a, None) > rank_key(TreeNode(Node("b", "p", "improvement", "B")), 9.0)
    True
    """
    return (verdict_rank(tree_node), value is not None, value if value is not None else 0.0)


@dataclass(frozen=True)
class PairChoice:
    chosen: TreeNode
    rejected: TreeNode
    chosen_value: float | None
    rejected_value: float | None
    decided_by: str  # "human" when verdicts ordered the two, "reward" when the values did


def choose_pair(candidates: Sequence[tuple[TreeNode, float | None]]) -> PairChoice | str:
    """Chosen and rejected among siblings, or a short reason why there is no pair.

    If the siblings' verdicts differ, the person decides: chosen = the best-valued node of the
    highest verdict, rejected = the lowest-valued node of the lowest verdict (scored nodes before
    unscored ones). If all share one verdict, only "no opinion" siblings pair, by reward: the highest
    vs the lowest value, which must both exist and differ. Ties go to the earlier sibling.
    """
    if len(candidates) < 2:
        return "fewer than two candidates"
    ranks = [verdict_rank(node) for node, _ in candidates]
    high, low = max(ranks), min(ranks)
    if high != low:
        top = [c for c, r in zip(candidates, ranks, strict=True) if r == high]
        bottom = [c for c, r in zip(candidates, ranks, strict=True) if r == low]
        chosen = max(top, key=lambda c: (c[1] is not None, c[1] or 0.0))
        rejected = min(bottom, key=lambda c: (c[1] is None, c[1] or 0.0))
        return PairChoice(chosen[0], rejected[0], chosen[1], rejected[1], "human")
    if high == ACCEPTED:
        return "every candidate is accepted (an accepted node is never the rejected side)"
    if high == REJECTED:
        return "every candidate is rejected (a rejected node is never the chosen side)"
    scored = [c for c in candidates if c[1] is not None]
    if len(scored) < 2:
        return "fewer than two scored candidates"
    chosen = max(scored, key=lambda c: c[1])  # type: ignore[arg-type,return-value]
    rejected = min(scored, key=lambda c: c[1])  # type: ignore[arg-type,return-value]
    if chosen[1] == rejected[1]:
        return "the best and worst values are tied"
    return PairChoice(chosen[0], rejected[0], chosen[1], rejected[1], "reward")


def best_of(candidates: Sequence[tuple[TreeNode, float | None]]) -> tuple[TreeNode, float | None] | None:
    """The top candidate by rank_key (first on ties), or None if there are none."""
    if not candidates:
        return None
    return max(candidates, key=lambda c: rank_key(c[0], c[1]))

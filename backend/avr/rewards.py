"""Refinement-aware rewards of a tree (DESIGN.md §1.2): R of answers, value of criticisms, gain Δ.

Pure reward: a person's verdicts do not change these numbers (pairs.py weighs verdicts).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.avr.tree import TreeNode, order_key


@dataclass(frozen=True)
class NodeReward:
    """What the GUI's reward columns show for one node.

    reward: R(x, y) for an answer; the mean R of its improvements for a criticism.
    gain: Δ = R(y') − R(y) for an improvement against the answer its criticism judged.
    best: the improvement is its grand-parent answer's best refinement (largest R, Δ > 0), or the
    criticism is the one that led to it.
    """

    reward: float | None
    gain: float | None = None
    best: bool = False


def criticism_value(crit: TreeNode) -> float | None:
    """r(c): the mean R of the criticism's scored improvements, None if none is scored.

    A Monte-Carlo value of the criticism: how good are the answers it leads to.
    """
    values = [c.score for c in crit.children if c.node.kind == "improvement" and c.score is not None]
    return sum(values) / len(values) if values else None


def gain(improvement: TreeNode, answer: TreeNode) -> float | None:
    """Δ(y') = R(x, y') − R(x, y); None unless both are scored.

    >>> from backend.domain import Node
    >>> y = TreeNode(Node("y", "p", "response", "a"), 0.5)
    >>> y2 = TreeNode(Node("y2", "p", "improvement", "b"), 2.0)
    >>> gain(y2, y)
    1.5
    """
    if improvement.score is None or answer.score is None:
        return None
    return improvement.score - answer.score


def best_refinement(answer: TreeNode) -> tuple[TreeNode, TreeNode] | None:
    """(criticism, improvement) with the largest R among the answer's scored grandchildren (y'*).

    It counts only if it beats the answer (Δ > 0); otherwise, or when the answer or every
    improvement is unscored, None. Ties go to the later node in creation order, as in the
    authors' scorer (and `paper_rules.best_refinement`).
    """
    if answer.score is None:
        return None
    candidates = [(crit, improvement) for crit in answer.children if crit.node.kind == "criticism"
                  for improvement in crit.children
                  if improvement.node.kind == "improvement" and improvement.score is not None]
    best: tuple[TreeNode, TreeNode] | None = None
    for crit, improvement in sorted(candidates, key=lambda pair: order_key(pair[1])):
        if best is None or improvement.score >= best[1].score:  # type: ignore[operator]
            best = (crit, improvement)
    if best is None or best[1].score <= answer.score:  # type: ignore[operator]
        return None
    return best


def node_rewards(root: TreeNode) -> dict[str, NodeReward]:
    """NodeReward for every node under (and including) root, by node id."""
    rewards: dict[str, NodeReward] = {}
    best_ids: set[str] = set()
    # Each entry carries the node's parent, so an improvement knows the answer its criticism judged.
    stack: list[tuple[TreeNode, TreeNode | None, TreeNode | None]] = [(root, None, None)]
    while stack:
        current, parent, grand_parent = stack.pop()
        if current.node.kind == "criticism":
            rewards[current.id] = NodeReward(criticism_value(current))
        else:
            is_refinement = current.node.kind == "improvement" and grand_parent is not None
            rewards[current.id] = NodeReward(current.score, gain(current, grand_parent) if is_refinement else None)
            if current.is_answer:
                found = best_refinement(current)
                if found is not None:
                    best_ids.update((found[0].id, found[1].id))
        stack.extend((child, current, parent) for child in current.children)
    for node_id in best_ids:
        rewards[node_id] = NodeReward(rewards[node_id].reward, rewards[node_id].gain, True)
    return rewards

"""The person's verdicts on top of the paper's rules (DESIGN.md §1.5), for trees where someone
accepted or rejected a node. Each pair kind, and the RSFT sample, is decided separately:

- where the verdicts of the siblings it compares differ, the person decides (decided_by "human"),
  whatever the scores and the paper's stops and filters: the best-scored node of the highest verdict
  over the worst-scored node of the lowest (accept > no opinion or skip > reject);
- where they all agree on "no opinion", the paper's choice stands (decided_by "reward");
- an accepted node is never the rejected side and a rejected node never the chosen side, so all
  accepted or all rejected siblings give no pair;
- y'* (the response pair and the RSFT target) is chosen by the paper's rule among the improvements
  the person did not reject, unless they accepted one: then it is the best accepted one;
- a rejected node is never part of the RSFT sample; an accepted improvement is its target
  (vouched for by the person, so the length filter does not apply).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from backend.avr.filters import passes_length_filter
from backend.avr.paper_rules import CriticismGroup, PaperChoices, best_refinement, improvement_candidate
from backend.avr.ranking import ACCEPTED, NO_OPINION, REJECTED, verdict_rank
from backend.avr.tree import TreeNode, order_key
from backend.config import PairConfig


class PairSink(Protocol):
    """What these rules need from the Stage I pair builder (backend.avr.pairs): its options, its
    degeneration check, and somewhere to put each pair, RSFT sample and note."""

    config: PairConfig

    def degenerate(self, text: str) -> bool: ...
    def note(self, message: str) -> None: ...
    def response_pair(self, y: TreeNode, best: TreeNode, decided_by: str) -> None: ...
    def criticism_pair(self, y: TreeNode, plus: TreeNode, minus: TreeNode, decided_by: str,
                       values: tuple[float | None, float | None]) -> None: ...
    def improvement_pair(self, y: TreeNode, group: CriticismGroup, high: TreeNode, low: TreeNode,
                         decided_by: str) -> None: ...
    def rsft(self, y: TreeNode, crit: TreeNode, best: TreeNode) -> None: ...


def apply(builder: PairSink, y: TreeNode, groups: list[CriticismGroup], paper: PaperChoices) -> None:
    improvements = sorted((imp for group in groups for imp in group.improvements),
                          key=order_key)
    group_of = {imp.id: group for group in groups for imp in group.improvements}
    accepted = [imp for imp in improvements if verdict_rank(imp) == ACCEPTED]
    # y'* by the paper's rule among the improvements the person did not reject.
    unrejected = best_refinement(y, groups, lambda imp: verdict_rank(imp) != REJECTED)
    if unrejected is not None and builder.config.next_best_refinement and builder.degenerate(unrejected[1].text):
        unrejected = best_refinement(y, groups, lambda imp: verdict_rank(imp) != REJECTED
                                     and not builder.degenerate(imp.text))
    best = unrejected[1] if unrejected is not None else None
    _response(builder, y, improvements, accepted, best)
    _rsft(builder, y, accepted, group_of, best)
    target = _criticism(builder, y, groups, paper)
    if target is not None:
        _improvement(builder, y, target, paper)


def best_node(nodes: Sequence[TreeNode]) -> TreeNode | None:
    """The highest-scored node (scored before unscored), the later one on a tie, like y'*.

    >>> from backend.domain import Node
    >>> a, b, c = (TreeNode(Node(i, "p", "improvement", i), s) for i, s in (("a", 1.0), ("b", 2.0), ("c", 2.0)))
    >>> best_node([a, b, c]).id, best_node([]) is None
    ('c', True)
    """
    best = None
    for node in nodes:
        if best is None or _score_key(node) >= _score_key(best):
            best = node
    return best


def _score_key(node: TreeNode) -> tuple[bool, float]:
    return (node.score is not None, node.score if node.score is not None else 0.0)


def _response(builder: PairSink, y: TreeNode, improvements: list[TreeNode], accepted: list[TreeNode],
              best: TreeNode | None) -> None:
    y_rank = verdict_rank(y)
    if y_rank == ACCEPTED:
        builder.note("response pair: the person accepted the answer (an accepted node is never the rejected side)")
    elif accepted:
        builder.response_pair(y, best_node(accepted), "human")  # type: ignore[arg-type]
    elif y_rank == REJECTED:
        chosen = best or best_node([imp for imp in improvements if verdict_rank(imp) != REJECTED])
        if chosen is None:
            builder.note("response pair: the answer is rejected and so is every improvement")
        else:
            builder.response_pair(y, chosen, "human")
    elif best is not None and not builder.degenerate(y.text) and not builder.degenerate(best.text) \
            and best.score > y.score:  # type: ignore[operator]
        builder.response_pair(y, best, "reward")  # the paper's step 1 and 2 among the unrejected
    else:
        builder.note("response pair: no unrejected refinement passes the paper's first step")


def _rsft(builder: PairSink, y: TreeNode, accepted: list[TreeNode], group_of: dict[str, CriticismGroup],
          best: TreeNode | None) -> None:
    if accepted:
        target = best_node(accepted)
    elif best is not None and best.score > y.score:  # type: ignore[operator]
        if not passes_length_filter(y.text, best.text, builder.config.max_growth_chars,
                                    builder.config.max_growth_ratio):
            builder.note(f"RSFT: the best refinement grows too much ({len(y.text)} → {len(best.text)} chars)")
            return
        target = best
    else:
        return
    crit = group_of[target.id].criticism_of(target)  # type: ignore[union-attr]
    if REJECTED in (verdict_rank(y), verdict_rank(crit)):
        builder.note("RSFT: the person rejected the answer or the criticism of the sample")
        return
    builder.rsft(y, crit, target)  # type: ignore[arg-type]


def _criticism(builder: PairSink, y: TreeNode, groups: list[CriticismGroup],
               paper: PaperChoices) -> CriticismGroup | None:
    """Adds the criticism pair; returns the criticism group whose improvements are paired next."""
    criticisms = [crit for group in groups for crit in group.criticisms]
    ranks = {verdict_rank(crit) for crit in criticisms}
    paper_plus = paper.extremes[0] if paper.extremes is not None else None
    if len(ranks) > 1:
        top, bottom = max(ranks), min(ranks)
        values = {crit.id: _value(crit) for crit in criticisms}
        chosen = _first_extreme([c for c in criticisms if verdict_rank(c) == top], values, highest=True)
        rejected = _first_extreme([c for c in criticisms if verdict_rank(c) == bottom], values, highest=False)
        builder.criticism_pair(y, chosen, rejected, "human", (values[chosen.id], values[rejected.id]))
        return next(group for group in groups if chosen in group.criticisms)
    if ranks == {REJECTED}:
        builder.note("criticism pair: every criticism is rejected (a rejected node is never the chosen side)")
        return None
    if ranks == {ACCEPTED}:
        builder.note("criticism pair: every criticism is accepted (an accepted node is never the rejected side)")
    elif paper.criticism_pair and paper.extremes is not None:
        plus, minus = paper.extremes
        builder.criticism_pair(y, plus.first, minus.first, "reward", (plus.value, minus.value))
    return paper_plus


def _improvement(builder: PairSink, y: TreeNode, target: CriticismGroup, paper: PaperChoices) -> None:
    improvements = target.improvements
    ranks = {verdict_rank(imp) for imp in improvements}
    if len(ranks) > 1:
        top, bottom = max(ranks), min(ranks)
        # Like the paper's hi and lo: the first of the highest, the last of the lowest.
        chosen = max((imp for imp in improvements if verdict_rank(imp) == top), key=_score_key)
        rejected = min(reversed([imp for imp in improvements if verdict_rank(imp) == bottom]), key=_score_key)
        builder.improvement_pair(y, target, chosen, rejected, "human")
        return
    if ranks != {NO_OPINION}:
        builder.note("improvement pair: every improvement under the best criticism has the same verdict")
        return
    if paper.extremes is not None and target is paper.extremes[0]:
        if paper.improvement_pair and paper.candidate is not None:
            builder.improvement_pair(y, target, *paper.candidate, "reward")
        return
    # The person chose another best criticism: the paper's rules for its improvements, without the
    # tree's stops (those judged the paper's best criticism, not this one).
    candidate = improvement_candidate(target)
    if candidate is None:
        builder.note("improvement pair: the improvements under the chosen criticism are tied or fewer than two")
    elif candidate[1].score == y.score:
        builder.note("improvement pair: the worse improvement is an unchanged copy of the answer")
    elif builder.degenerate(candidate[0].text) or builder.degenerate(candidate[1].text):
        builder.note("improvement pair: an improvement is degenerate")
    else:
        builder.improvement_pair(y, target, *candidate, "reward")


def _value(crit: TreeNode) -> float | None:
    """r(c) of one criticism node: the mean R of its scored improvements."""
    scores = [child.score for child in crit.children if child.kind == "improvement" and child.score is not None]
    return sum(scores) / len(scores) if scores else None


def _first_extreme(nodes: list[TreeNode], values: dict[str, float | None], highest: bool) -> TreeNode:
    """The first node with the highest (or lowest) value; valued nodes beat unvalued ones for the
    highest, unvalued ones come first for the lowest."""
    def key(node: TreeNode) -> tuple[bool, float]:
        value = values[node.id]
        return (value is not None, value if value is not None else 0.0)

    return max(nodes, key=key) if highest else min(nodes, key=key)

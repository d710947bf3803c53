"""The AvR authors' Stage I rules over one tree, exactly as DESIGN.md §1.3 states them: which answer,
criticisms and improvements make the response / criticism / improvement pairs and the RSFT sample.

Choices only (no Pair objects): `pairs.py` turns them into data and lays the person's verdicts on
top (§1.5). What the authors' scorer sees is what is used here: improvements with a score, grouped
under their criticism's text, in the order they were made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from backend.avr.filters import passes_length_filter
from backend.avr.tree import TreeNode, order_key, stage1_children
from backend.config import PairConfig


@dataclass(eq=False)
class CriticismGroup:
    """The criticisms of an answer that share one text (the authors' scorer groups refinements by
    their criticism's text, so two identical criticisms are one), with all their improvements."""

    criticisms: list[TreeNode]
    improvements: list[TreeNode]  # every Stage I improvement of the members, in creation order
    scored: list[TreeNode] = field(init=False)  # the improvements with a score
    value: float | None = field(init=False)  # r(c): their mean R (summed in creation order, as the authors do)

    def __post_init__(self) -> None:
        self.scored = [imp for imp in self.improvements if imp.score is not None]
        scores = [imp.score for imp in self.scored]
        self.value = sum(scores) / len(scores) if scores else None  # type: ignore[arg-type]

    @property
    def first(self) -> TreeNode:
        """The group's first criticism: the node its pairs name."""
        return self.criticisms[0]

    @property
    def text(self) -> str:
        return self.first.text

    def criticism_of(self, improvement: TreeNode) -> TreeNode:
        """The member the improvement hangs under (they share the text, maybe not the template)."""
        if len(self.criticisms) > 1:
            for crit in self.criticisms:
                if any(child is improvement for child in crit.children):
                    return crit
        return self.first


def criticism_groups(answer: TreeNode) -> list[CriticismGroup]:
    """The answer's Stage I criticisms grouped by text.

    Groups are ordered as the authors' scorer meets them: by their first scored improvement, then
    (for groups without one) by their first criticism.

    >>> from backend.domain import Node
    >>> from backend.avr.tree import build_trees
    >>> nodes = [Node("y", "p", "response", "y"), Node("c1", "p", "criticism", "same", parent_id="y"),
    ...          Node("c2", "p", "criticism", "same", parent_id="y"),
    ...          Node("i1", "p", "improvement", "a", parent_id="c2"), Node("i2", "p", "improvement", "b", parent_id="c1")]
    >>> [(len(g.criticisms), [i.id for i in g.improvements]) for g in criticism_groups(build_trees(nodes, {}, {})[0])]
    [(2, ['i1', 'i2'])]
    """
    members: dict[str, list[TreeNode]] = {}
    for crit in stage1_children(answer, "criticism"):
        members.setdefault(crit.text, []).append(crit)
    groups = []
    for criticisms in members.values():
        improvements = stage1_children(criticisms[0], "improvement")
        if len(criticisms) > 1:
            improvements = sorted([imp for crit in criticisms for imp in stage1_children(crit, "improvement")],
                                  key=order_key)
        groups.append(CriticismGroup(criticisms, improvements))
    if len(groups) > 1:
        groups.sort(key=lambda g: (0, order_key(g.scored[0])) if g.scored else (1, order_key(g.first)))
    return groups


def best_refinement(answer: TreeNode, groups: Sequence[CriticismGroup],
                    acceptable: Callable[[TreeNode], bool] | None = None) -> tuple[CriticismGroup, TreeNode] | None:
    """y'*: the scored improvement with the largest R among those with R ≥ R(x, y), the later one
    on a tie (the authors' scorer keeps the last `>=`); None if the answer is unscored or none qualifies.
    `acceptable` narrows the candidates (the next-best option skips degenerate ones).
    """
    if answer.score is None:
        return None
    flat = sorted(((group, imp) for group in groups for imp in group.scored), key=lambda gi: order_key(gi[1]))
    top, best = answer.score, None
    for group, imp in flat:
        if imp.score >= top and (acceptable is None or acceptable(imp)):  # type: ignore[operator]
            top, best = imp.score, (group, imp)
    return best


def extremes(groups: Sequence[CriticismGroup]) -> tuple[CriticismGroup, CriticismGroup] | None:
    """(c+, c−): the groups with the highest and the lowest r(c), the first one on ties; only groups
    with a scored improvement count (the authors' scorer never sees the others)."""
    valued = [g for g in groups if g.value is not None]
    if not valued:
        return None
    plus = minus = valued[0]
    for group in valued[1:]:
        if group.value > plus.value:  # type: ignore[operator]
            plus = group
        if group.value < minus.value:  # type: ignore[operator]
            minus = group
    return plus, minus


def improvement_candidate(group: CriticismGroup) -> tuple[TreeNode, TreeNode] | None:
    """(hi, lo) under a criticism: its scored improvements sorted by R, highest first and stable, take
    the first and the last; a candidate only if R(hi) > R(lo).

    So among tied highest scores the earliest is hi, among tied lowest the latest is lo.
    """
    ranked = sorted(group.scored, key=lambda imp: -imp.score)  # type: ignore[operator]
    if len(ranked) < 2 or not ranked[0].score > ranked[-1].score:  # type: ignore[operator]
        return None
    return ranked[0], ranked[-1]


@dataclass
class PaperChoices:
    """What the paper's rules take from one tree; the nodes are those of the tree."""

    best: tuple[CriticismGroup, TreeNode] | None = None  # (c*, y'*)
    rsft: bool = False
    response_pair: bool = False
    extremes: tuple[CriticismGroup, CriticismGroup] | None = None  # (c+, c−)
    criticism_pair: bool = False
    candidate: tuple[TreeNode, TreeNode] | None = None  # (hi, lo) under c+
    improvement_pair: bool = False
    notes: list[str] = field(default_factory=list)


def paper_choices(answer: TreeNode, groups: Sequence[CriticismGroup], degenerate: Callable[[str], bool],
                  config: PairConfig) -> PaperChoices:
    """The authors' rules, in their order (DESIGN.md §1.3); a "stop" ends the tree.

    Within one step the conditions are tested cheapest first (the loop detector last): they all
    stop the tree alike, so only the note can differ from the authors' order.
    """
    out = PaperChoices()
    out.best = best_refinement(answer, groups)
    if out.best is not None and config.next_best_refinement and degenerate(out.best[1].text):
        out.best = best_refinement(answer, groups, lambda imp: not degenerate(imp.text))
    _rsft(answer, out, config)
    if out.best is None:
        return _stop(out, "no scored refinement reaches the answer's reward")
    best = out.best[1]
    delta = best.score - answer.score  # type: ignore[operator]
    if delta <= 0:
        return _stop(out, f"the best refinement does not improve on the answer (Δ = {delta:.4g})")
    if degenerate(answer.text):
        return _stop(out, "the answer is degenerate")
    if degenerate(best.text):
        return _stop(out, "the best refinement is degenerate")
    out.response_pair = True

    out.extremes = extremes(groups)
    plus, minus = out.extremes  # type: ignore[misc]  # y'* exists, so some group has a scored improvement
    out.candidate = improvement_candidate(plus)
    if out.candidate is not None and out.candidate[0].score < answer.score:  # type: ignore[operator]
        return _stop(out, "the best improvement under the best criticism scores below the answer")
    if plus is minus or plus.text == minus.text:
        return _stop(out, "no second criticism to compare the best one with")
    if plus.value <= minus.value:  # type: ignore[operator]
        return _stop(out, "the criticisms' values are tied")
    if max(imp.score for imp in plus.scored) < answer.score:  # type: ignore[type-var,operator]
        return _stop(out, "no improvement under the best criticism scores at least the answer")
    if degenerate(plus.text):
        return _stop(out, "the best criticism is degenerate")
    if degenerate(minus.text):
        out.notes.append("criticism pair: the worst criticism is degenerate")
    else:
        out.criticism_pair = True

    if out.candidate is None:
        out.notes.append("improvement pair: the improvements under the best criticism are tied or fewer than two")
    elif out.candidate[1].score == answer.score:
        out.notes.append("improvement pair: the worse improvement is an unchanged copy of the answer")
    elif degenerate(out.candidate[0].text) or degenerate(out.candidate[1].text):
        out.notes.append("improvement pair: an improvement is degenerate")
    else:
        out.improvement_pair = True
    return out


def _rsft(answer: TreeNode, out: PaperChoices, config: PairConfig) -> None:
    """RSFT (§1.3.1): y'* with Δ > 0 that does not grow too much; no degeneration check."""
    if out.best is None:
        return
    best = out.best[1]
    if not best.score > answer.score:  # type: ignore[operator]
        return
    if not passes_length_filter(answer.text, best.text, config.max_growth_chars, config.max_growth_ratio):
        out.notes.append(f"RSFT: the best refinement grows too much ({len(answer.text)} → {len(best.text)} chars)")
        return
    out.rsft = True


def _stop(out: PaperChoices, reason: str) -> PaperChoices:
    out.notes.append(f"stop: {reason}")
    return out

"""What is still to be generated for a prompt's Stage I tree, so generation can resume (DESIGN.md §1.2).

A plan lists only the steps that can be dispatched now: the improvements of a criticism that does
not exist yet are planned on the next call (or by the dispatcher as soon as the criticism arrives).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.avr.tree import TreeNode, first_response, stage1_children
from backend.config import TreeConfig


@dataclass(frozen=True)
class PlannedStep:
    """Generate `count` children of `parent_id` with `action` (respond has no parent)."""

    action: str  # "respond" | "criticize" | "improve"
    prompt_id: str
    parent_id: str | None
    count: int


def missing_steps(prompt_id: str, roots: list[TreeNode], config: TreeConfig) -> list[PlannedStep]:
    """The steps that complete the prompt's round-0 tree (1 response → k criticisms → m improvements).

    Every existing node counts, whatever its verdict: a rejected criticism was still generated, and
    the person asks for more explicitly. Only the first response tree is looked at.

    >>> from backend.domain import Node
    >>> from backend.avr.tree import build_trees
    >>> roots = build_trees([Node("r", "p", "response", "y")], {}, {})
    >>> missing_steps("p", roots, TreeConfig(criticisms=2, improvements=2))
    [PlannedStep(action='criticize', prompt_id='p', parent_id='r', count=2)]
    """
    response = first_response(prompt_id, roots)
    if response is None:
        return [PlannedStep("respond", prompt_id, None, 1)]
    steps = []
    criticisms = stage1_children(response, "criticism")
    if len(criticisms) < config.criticisms:
        steps.append(PlannedStep("criticize", prompt_id, response.id, config.criticisms - len(criticisms)))
    for crit in criticisms:
        have = len(stage1_children(crit, "improvement"))
        if have < config.improvements:
            steps.append(PlannedStep("improve", prompt_id, crit.id, config.improvements - have))
    return steps

"""Stage I training data from a prompt's round-0 tree: the RSFT sample and the DPO pairs.

With no verdict in the tree they are exactly the authors' (DESIGN.md §1.3, `paper_rules.py`). Where a
person accepted or rejected a node, their verdict decides the choices it touches (§1.5,
`person_rules.py`); edits replace texts everywhere and add "edit" pairs. Every pair and sample records
the rule set (`PairConfig.rule_set`), and every pair whether the reward or a person decided it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from backend.avr import person_rules
from backend.avr.filters import degeneration_check
from backend.avr.paper_rules import CriticismGroup, PaperChoices, criticism_groups, paper_choices
from backend.avr.ranking import NO_OPINION, VERDICT_RANK, verdict_rank
from backend.avr.templates import respond_messages
from backend.avr.tree import TreeNode, first_response
from backend.config import PairConfig
from backend.domain import Message, Pair, Prompt, SftSample, Templates


@dataclass
class Stage1Data:
    pairs: list[Pair] = field(default_factory=list)
    rsft: list[SftSample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why a pair kind or the sample was not produced


def build_stage1(
    prompt: Prompt,
    roots: list[TreeNode],
    templates_for: Callable[[str | None], Templates],
    config: PairConfig,
) -> Stage1Data:
    """The RSFT sample and the response / criticism / improvement / edit pairs of one prompt.

    Where the project adds to the paper (only where the paper is silent):
    - texts are the person's edits where there are any, and a blank text counts as degenerate;
    - verdicts (person_rules.py) choose between siblings before the reward and may override the
      paper's filters: such pairs are decided_by "human";
    - two sides with the same text never make a pair;
    - the options of `PairConfig` (all off in the paper rules) are named in `rule_set`.
    """
    return _Stage1Builder(prompt, templates_for, config).build(roots)


class _Stage1Builder:
    def __init__(self, prompt: Prompt, templates_for: Callable[[str | None], Templates],
                 config: PairConfig) -> None:
        self.prompt, self.config, self._templates_for = prompt, config, templates_for
        self.rules = config.rule_set
        self._check = degeneration_check(config.degeneration)
        self._templates: dict[str | None, Templates] = {}
        self._degenerate: dict[str, bool] = {}
        self._opening = respond_messages(prompt.text, prompt.system)
        self.data = Stage1Data()

    # -- helpers ---------------------------------------------------------------------------------
    def templates(self, version: str | None) -> Templates:
        found = self._templates.get(version)
        if found is None:
            found = self._templates[version] = self._templates_for(version)
        return found

    def degenerate(self, text: str) -> bool:
        """Blank, or looping by the configured detector (memoised: a text is checked once per prompt)."""
        found = self._degenerate.get(text)
        if found is None:
            found = self._degenerate[text] = _blank(text) or self._check(text, self.config.degeneration_repeats)
        return found

    def note(self, message: str) -> None:
        self.data.notes.append(message)

    def opening(self) -> list[Message]:
        """[system?, user x]: a new list each time (pairs may extend it), the same message dicts."""
        return list(self._opening)

    def judge_context(self, y: TreeNode, crit: TreeNode) -> list[Message]:
        return [*self.opening(), {"role": "assistant", "content": y.text},
                {"role": "user", "content": self.templates(crit.node.template_version).judge}]

    def revise_context(self, y: TreeNode, crit: TreeNode, improvement: TreeNode) -> list[Message]:
        return [*self.judge_context(y, crit), {"role": "assistant", "content": crit.text},
                {"role": "user", "content": self.templates(improvement.node.template_version).revise}]

    def add_pair(self, kind: str, context: list[Message], chosen: TreeNode, rejected: TreeNode,
                 decided_by: str, chosen_value: float | None, rejected_value: float | None) -> None:
        if chosen.text == rejected.text:
            self.note(f"{kind} pair: chosen and rejected have the same text")
            return
        if self.config.template_guard and kind in ("criticism", "improvement"):
            mine, theirs = self.templates(chosen.node.template_version), self.templates(rejected.node.template_version)
            if (mine.judge, mine.revise) != (theirs.judge, theirs.revise):
                self.note(f"{kind} pair: the two sides were generated with different templates (template guard)")
                return
        self.data.pairs.append(Pair(
            kind=kind, prompt_id=self.prompt.id, context=context, chosen=chosen.text, rejected=rejected.text,
            decided_by=decided_by, chosen_node_id=chosen.id, rejected_node_id=rejected.id,
            chosen_score=chosen_value, rejected_score=rejected_value, rules=self.rules))

    def response_pair(self, y: TreeNode, best: TreeNode, decided_by: str) -> None:
        self.add_pair("response", self.opening(), best, y, decided_by, best.score, y.score)

    def criticism_pair(self, y: TreeNode, plus: TreeNode, minus: TreeNode, decided_by: str,
                       values: tuple[float | None, float | None]) -> None:
        self.add_pair("criticism", self.judge_context(y, plus), plus, minus, decided_by, *values)

    def improvement_pair(self, y: TreeNode, group: CriticismGroup, high: TreeNode, low: TreeNode,
                         decided_by: str) -> None:
        context = self.revise_context(y, group.criticism_of(high), high)
        self.add_pair("improvement", context, high, low, decided_by, high.score, low.score)

    def rsft(self, y: TreeNode, crit: TreeNode, best: TreeNode) -> None:
        if any(_blank(text) for text in (y.text, crit.text, best.text)):
            self.note("RSFT: a text of the sample is blank")
            return
        messages = [*self.revise_context(y, crit, best), {"role": "assistant", "content": best.text}]
        self.data.rsft.append(SftSample("rsft", self.prompt.id, messages, (y.id, crit.id, best.id), self.rules))

    # -- the data --------------------------------------------------------------------------------
    def build(self, roots: list[TreeNode]) -> Stage1Data:
        y = first_response(self.prompt.id, roots)
        if y is None:
            self.note("no response yet: generate the tree first")
            return self.data
        groups = criticism_groups(y)
        paper = paper_choices(y, groups, self.degenerate, self.config)
        self.data.notes.extend(paper.notes)
        if _person_spoke(y, groups):
            person_rules.apply(self, y, groups, paper)
        else:
            self.paper_data(y, paper)
        self.edit_pairs(y, groups)
        return self.data

    def paper_data(self, y: TreeNode, paper: PaperChoices) -> None:
        if paper.best is not None:
            group, best = paper.best
            if paper.response_pair:
                self.response_pair(y, best, "reward")
            if paper.rsft:
                self.rsft(y, group.criticism_of(best), best)
        if paper.extremes is not None:
            plus, minus = paper.extremes
            if paper.criticism_pair:
                self.criticism_pair(y, plus.first, minus.first, "reward", (plus.value, minus.value))
            if paper.improvement_pair and paper.candidate is not None:
                self.improvement_pair(y, plus, *paper.candidate, "reward")

    def edit_pairs(self, y: TreeNode, groups: list[CriticismGroup]) -> None:
        """One "edit" pair per edited node: the person's version over the model's, in its context."""
        edited: list[tuple[TreeNode, list[Message]]] = []
        if y.is_edited:
            edited.append((y, self.opening()))
        for group in groups:
            for crit in group.criticisms:
                if crit.is_edited:
                    edited.append((crit, self.judge_context(y, crit)))
            for imp in group.improvements:
                if imp.is_edited:
                    crit = group.criticism_of(imp)
                    edited.append((imp, self.revise_context(y, crit, imp)))
        for tree_node, context in edited:
            texts = [tree_node.text, tree_node.node.text, *(m["content"] for m in context)]
            if any(_blank(text) for text in texts):
                self.note(f"edit pair of {tree_node.id}: a version or its context is blank")
                continue
            self.data.pairs.append(Pair(
                kind="edit", prompt_id=self.prompt.id, context=context, chosen=tree_node.text,
                rejected=tree_node.node.text, decided_by="human", chosen_node_id=tree_node.id,
                rejected_node_id=tree_node.id, rules=self.rules))


def _blank(text: str) -> bool:
    return not text or text.isspace()  # as `not text.strip()`, without copying the text


def _person_spoke(y: TreeNode, groups: list[CriticismGroup]) -> bool:
    """Whether any node of the tree has a verdict other than "no opinion" (none or skip)."""
    if verdict_rank(y) != NO_OPINION:
        return True
    return any(node.state.verdict in _OPINIONS for group in groups for node in (*group.criticisms, *group.improvements))


_OPINIONS = frozenset(verdict for verdict, rank in VERDICT_RANK.items() if rank != NO_OPINION)

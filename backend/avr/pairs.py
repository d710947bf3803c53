"""Stage I training data from a prompt's round-0 tree: the RSFT sample and the DPO pairs
(DESIGN.md §1.3), following the person's verdicts and edits where they gave them (§1.5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from backend.avr.filters import is_degenerate, passes_length_filter
from backend.avr.ranking import ACCEPTED, NO_OPINION, REJECTED, PairChoice, best_of, choose_pair, verdict_rank
from backend.avr.templates import respond_messages
from backend.avr.tree import TreeNode, first_response, stage1_children
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

    Rules beyond the paper's, where it is silent:
    - Texts are the person's edits where there are any. A blank or degenerate text (or prompt) is
      treated as missing: it never enters a pair or sample, and no pair is built around it.
    - Siblings are ranked verdict first, then reward (ranking.py); a pair the verdicts ordered is
      decided_by "human" and needs no scores.
    - The best refinement y'* is the top-ranked non-rejected improvement of the tree. It beats the
      answer y if its verdict ranks higher, or both have no opinion and Δ > 0. The response pair
      needs that (so never an accepted y as the rejected side). The RSFT target must be vouched
      for: y'* accepted, or Δ > 0 while y is not accepted; c* must not be rejected; the length
      filter applies to the RSFT sample only, never to the response pair.
    - The best criticism (improvement pair's parent) is the top-ranked criticism by verdict, then
      value r(c), even when the criticism pair was not built (values tied: the earlier one).
    - Siblings whose templates differ do not share a context, so they are not paired.
    """
    return _Stage1Builder(prompt, templates_for, config).build(roots)


class _Stage1Builder:
    def __init__(self, prompt: Prompt, templates_for: Callable[[str | None], Templates],
                 config: PairConfig) -> None:
        self.prompt, self.config, self._templates_for = prompt, config, templates_for
        self._templates: dict[str | None, Templates] = {}
        self._usable: dict[str, bool] = {}
        self.data = Stage1Data()
        self.criticisms: list[TreeNode] = []
        self.improvements: dict[str, list[TreeNode]] = {}
        self._usable_improvements: dict[str, list[TreeNode]] = {}

    # -- helpers ---------------------------------------------------------------------------------
    def templates(self, version: str | None) -> Templates:
        found = self._templates.get(version)
        if found is None:
            found = self._templates[version] = self._templates_for(version)
        return found

    def usable(self, text: str) -> bool:
        """Not blank and not degenerate (memoised: a text is checked once per prompt)."""
        ok = self._usable.get(text)
        if ok is None:
            ok = self._usable[text] = bool(text.strip()) and not is_degenerate(
                text, self.config.degeneration_repeats)
        return ok

    def note(self, message: str) -> None:
        self.data.notes.append(message)

    def judge_context(self, y: TreeNode, crit: TreeNode) -> list[Message]:
        return [{"role": "user", "content": self.prompt.text}, {"role": "assistant", "content": y.text},
                {"role": "user", "content": self.templates(crit.node.template_version).judge}]

    def revise_context(self, y: TreeNode, crit: TreeNode, improvement: TreeNode) -> list[Message]:
        return [*self.judge_context(y, crit), {"role": "assistant", "content": crit.text},
                {"role": "user", "content": self.templates(improvement.node.template_version).revise}]

    def add_pair(self, kind: str, context: list[Message], choice: PairChoice) -> None:
        chosen, rejected = choice.chosen, choice.rejected
        if chosen.text == rejected.text:
            self.note(f"{kind} pair: chosen and rejected have the same text")
            return
        self.data.pairs.append(Pair(
            kind=kind, prompt_id=self.prompt.id, context=context, chosen=chosen.text,
            rejected=rejected.text, decided_by=choice.decided_by, chosen_node_id=chosen.id,
            rejected_node_id=rejected.id, chosen_score=choice.chosen_value,
            rejected_score=choice.rejected_value))

    # -- the data --------------------------------------------------------------------------------
    def build(self, roots: list[TreeNode]) -> Stage1Data:
        y = first_response(self.prompt.id, roots)
        if y is None:
            self.note("no response yet: generate the tree first")
            return self.data
        if not self.usable(self.prompt.text) or not self.usable(y.text):
            self.note("the prompt or the answer is blank or degenerate: no Stage I data")
            return self.data
        # The round-0 children, listed once: every rule below walks them.
        self.criticisms = stage1_children(y, "criticism")
        self.improvements = {c.id: stage1_children(c, "improvement") for c in self.criticisms}
        crits = [c for c in self.criticisms if self.usable(c.text)]
        self.response_pair_and_rsft(y)
        best_crit = self.criticism_pair(y, crits)
        if best_crit is not None:
            self.improvement_pair(y, best_crit)
        else:
            self.note("improvement pair: no criticism that is usable and not rejected")
        self.edit_pairs(y)
        return self.data

    def response_pair_and_rsft(self, y: TreeNode) -> None:
        parent_of: dict[str, TreeNode] = {}
        candidates = []
        for crit in self.criticisms:
            for imp in self.improvements[crit.id]:
                if verdict_rank(imp) != REJECTED and self.usable(imp.text):
                    parent_of[imp.id] = crit
                    candidates.append((imp, imp.score))
        top = best_of(candidates)
        if top is None:
            self.note("response pair and RSFT: no usable improvement")
            return
        best = top[0]
        best_rank, y_rank = verdict_rank(best), verdict_rank(y)
        delta = None if best.score is None or y.score is None else best.score - y.score
        if best_rank != y_rank:
            beats, decided_by = best_rank > y_rank, "human"
        else:  # both accepted: neither may be the rejected side; both no opinion: the reward decides
            beats, decided_by = best_rank == NO_OPINION and delta is not None and delta > 0, "reward"
        if beats:
            self.add_pair("response", respond_messages(self.prompt.text),
                          PairChoice(best, y, best.score, y.score, decided_by))
        elif best_rank == ACCEPTED == y_rank:
            self.note("response pair: the answer and its best refinement are both accepted")
        elif y_rank > best_rank:
            self.note("response pair: the answer is accepted and its best refinement is not")
        elif delta is None:
            self.note("response pair: the answer or its best refinement is unscored")
        else:
            self.note(f"response pair: the best refinement does not improve on the answer (Δ = {delta:.4g})")
        # The SFT target must be vouched for: accepted by the person, or better by the reward
        # (and not against the person's accept of the answer).
        if best_rank == ACCEPTED or (y_rank != ACCEPTED and delta is not None and delta > 0):
            self.rsft(y, parent_of[best.id], best)
        else:
            self.note("RSFT: the best refinement is neither accepted nor better than the answer by the reward")

    def rsft(self, y: TreeNode, crit: TreeNode, best: TreeNode) -> None:
        if verdict_rank(crit) == REJECTED or not self.usable(crit.text):
            self.note("RSFT: the criticism behind the best refinement is rejected, blank or degenerate")
        elif not passes_length_filter(y.text, best.text, self.config.max_growth_chars,
                                      self.config.max_growth_ratio):
            self.note(f"RSFT: the best refinement grows too much ({len(y.text)} → {len(best.text)} chars)")
        else:
            messages = [*self.revise_context(y, crit, best), {"role": "assistant", "content": best.text}]
            self.data.rsft.append(SftSample("rsft", self.prompt.id, messages, (y.id, crit.id, best.id)))

    def usable_improvements(self, crit: TreeNode) -> list[TreeNode]:
        """A criticism's usable improvements (listed once: three rules ask for them)."""
        found = self._usable_improvements.get(crit.id)
        if found is None:
            found = self._usable_improvements[crit.id] = [
                imp for imp in self.improvements[crit.id] if self.usable(imp.text)]
        return found

    def criticism_pair(self, y: TreeNode, crits: list[TreeNode]) -> TreeNode | None:
        """Adds the criticism pair if it holds; returns the best criticism (None if all rejected).

        r(c) here averages the usable improvements only, so a degenerate text that games the
        reward cannot lift its criticism.
        """
        candidates = [(c, self.value(c)) for c in crits]
        choice = choose_pair(candidates)
        if isinstance(choice, str):
            self.note(f"criticism pair: {choice}")
        elif choice.decided_by == "reward" and not self.leads_to_no_worse(y, choice.chosen):
            self.note("criticism pair: no improvement under the best criticism scores at least the answer")
        elif self.templates(choice.chosen.node.template_version).judge != self.templates(
                choice.rejected.node.template_version).judge:
            self.note("criticism pair: the two criticisms were generated with different JUDGE templates")
        else:
            self.add_pair("criticism", self.judge_context(y, choice.chosen), choice)
        top = best_of([c for c in candidates if verdict_rank(c[0]) != REJECTED])
        return None if top is None else top[0]

    def value(self, crit: TreeNode) -> float | None:
        scores = [imp.score for imp in self.usable_improvements(crit) if imp.score is not None]
        return sum(scores) / len(scores) if scores else None

    def leads_to_no_worse(self, y: TreeNode, crit: TreeNode) -> bool:
        return y.score is not None and any(
            imp.score is not None and imp.score >= y.score for imp in self.usable_improvements(crit))

    def improvement_pair(self, y: TreeNode, crit: TreeNode) -> None:
        candidates = [(imp, imp.score) for imp in self.usable_improvements(crit)]
        choice = choose_pair(candidates)
        if isinstance(choice, str):
            self.note(f"improvement pair: {choice}")
        elif self.templates(choice.chosen.node.template_version).revise != self.templates(
                choice.rejected.node.template_version).revise:
            self.note("improvement pair: the two improvements were generated with different REVISE templates")
        else:
            self.add_pair("improvement", self.revise_context(y, crit, choice.chosen), choice)

    def edit_pairs(self, y: TreeNode) -> None:
        """One "edit" pair per edited node: the person's version over the model's, in its context."""
        edited: list[tuple[TreeNode, list[Message]]] = []
        if y.is_edited:
            edited.append((y, respond_messages(self.prompt.text)))
        for crit in self.criticisms:
            if crit.is_edited:
                edited.append((crit, self.judge_context(y, crit)))
            for imp in self.improvements[crit.id]:
                if imp.is_edited:
                    edited.append((imp, self.revise_context(y, crit, imp)))
        for tree_node, context in edited:
            texts = [tree_node.text, tree_node.node.text,
                     *(m["content"] for m in context if m["role"] == "assistant")]
            if not all(self.usable(text) for text in texts):
                self.note(f"edit pair of {tree_node.id}: a version or its context is blank or degenerate")
                continue
            self.data.pairs.append(Pair(
                kind="edit", prompt_id=self.prompt.id, context=context, chosen=tree_node.text,
                rejected=tree_node.node.text, decided_by="human", chosen_node_id=tree_node.id,
                rejected_node_id=tree_node.id))

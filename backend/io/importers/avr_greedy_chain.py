"""The AvR authors' Stage II greedy-chain records (their chain generator's output), rebuilt into a chain.

One line per prompt: `messages` = [user x, assistant y0], `origin_score` = R(x, y0), `iterations` =
one record per round run (`initial_response`, `judges` (null where no criticism parsed),
`refine_list`, `scores_list`, ...), `final_best`, `best_path`. Every round's criticisms, improvements
and scores become nodes and scores, nested as the chain job nests them: round r's criticisms hang
under the answer that round criticised, with `round = r`, their improvements under them. The chain
is stored in any case; when the paper keeps it (`backend.avr.chain.greedy_outcome`), its long
thought too, as a long_thought node and SFT sample (byte-exact with the authors' Stage II data).
The authors' generator starts every chain from the data set's chosen answer, so y0 is also kept as
the prompt's reference answer (with R(x, y0) in its meta) unless the prompt has one already.
`best_refine_index`, `best_refine`, `best_score` and `final_best` are not read: they follow from
the scores.
"""

from __future__ import annotations

from typing import Any

from backend.avr.chain import greedy_outcome
from backend.avr.filters import is_degenerate
from backend.avr.long_thought import format_long_thought
from backend.avr.ratings import parse_rating
from backend.avr.stage2 import long_thought_sample
from backend.domain import Chain, Node, ReferenceAnswer, content_id
from backend.io.importers.common import (
    ImportContext,
    ImportItems,
    RecordError,
    finite_number,
    first_user_text,
    ignored_fields,
    imported_node,
    imported_score,
    last_assistant_text,
    messages_field,
    optional_number,
    record_prompt,
    scalar_extras,
)

SCORER = "imported"
USED_FIELDS = frozenset({"messages", "origin_score", "iterations", "final_best", "best_path"})


def looks_like(record: dict[str, Any]) -> bool:
    return isinstance(record.get("iterations"), list) and "origin_score" in record


def convert(record: dict[str, Any], context: ImportContext) -> ImportItems:
    messages = messages_field(record, "messages")
    prompt = record_prompt(context, first_user_text(messages, "messages"), messages,
                           scalar_extras(record, USED_FIELDS))
    origin_score = optional_number(record, "origin_score")
    if origin_score is None:
        raise RecordError("missing field 'origin_score' (the reward of the first answer)")
    iterations = record.get("iterations")
    if not isinstance(iterations, list):
        raise RecordError("field 'iterations' must be a list of round records")

    builder = _ChainBuilder(context, prompt.id)
    start = builder.node("response", last_assistant_text(messages, "messages"), None, 0)
    builder.score(start, origin_score)
    current, current_score = start, origin_score
    for round_number, iteration in enumerate(iterations, start=1):
        if current is None:
            raise RecordError(f"iteration {round_number} follows a round that did not improve the answer")
        try:
            accepted = builder.round(iteration, current, round_number, current_score)
        except RecordError as exc:
            raise RecordError(f"iteration {round_number}: {exc}") from None
        current, current_score = accepted if accepted is not None else (None, current_score)

    outcome = greedy_outcome(origin_score, builder.round_scores, is_degenerate(start.text))
    answers, criticisms = [start], []
    for round_index, (i, j) in enumerate(outcome.accepted):
        crit = builder.criticisms[round_index][i]
        criticisms.append(crit)
        answers.append(builder.improvements[crit.id][j])  # type: ignore[index]
    if outcome.closing is not None:
        criticisms.append(builder.criticisms[outcome.failed_round][outcome.closing])
    path = [start.id]
    for crit, answer in zip(criticisms, answers[1:], strict=False):
        path += [crit.id, answer.id]
    if len(criticisms) == len(answers):
        path.append(criticisms[-1].id)  # c_final
    chain_scores = tuple(builder.scores[a.id] for a in answers)
    items = builder.items
    items.prompts.append(prompt)
    items.references.append(ReferenceAnswer(prompt.id, start.text, context.source,
                                            {"score": origin_score, "scorer": SCORER}, context.created_at))
    items.ignored = ignored_fields(record, USED_FIELDS)
    thought_id = None
    if outcome.dropped is None:
        text = format_long_thought([a.text for a in answers], [c.text for c in criticisms], answers[-1].text)
        thought = imported_node(context, prompt.id, "long_thought", text, position=builder.next_position())
        items.nodes.append(thought)
        items.sft_samples.append(long_thought_sample(prompt, text, (thought.id,)))
        thought_id = thought.id
    else:
        items.dropped.append(outcome.dropped)
    items.chains.append(Chain(id=content_id("chain", prompt.id, *path), prompt_id=prompt.id, node_ids=tuple(path),
                              best_node_id=answers[-1].id, scores=chain_scores, long_thought_node_id=thought_id,
                              created_at=context.created_at))
    return items


class _ChainBuilder:
    """The nodes and scores of one record, numbered in file order (ids and created_at follow it)."""

    def __init__(self, context: ImportContext, prompt_id: str) -> None:
        self.context, self.prompt_id = context, prompt_id
        self.items = ImportItems()
        self.scores: dict[str, float] = {}
        self.criticisms: list[list[Node | None]] = []  # per round, per judge slot
        self.improvements: dict[str, list[Node | None]] = {}  # per criticism id, per refine slot
        self.round_scores: list[list[list[float | None] | None]] = []
        self._position = 0

    def next_position(self) -> int:
        self._position += 1
        return self._position

    def node(self, kind: str, text: str, parent: Node | None, round_number: int, **fields: Any) -> Node:
        made = imported_node(self.context, self.prompt_id, kind, text, parent_id=parent.id if parent else None,
                             round=round_number, position=self._position, **fields)
        self._position += 1
        self.items.nodes.append(made)
        return made

    def score(self, node: Node, value: float) -> None:
        self.scores[node.id] = value
        self.items.scores.append(imported_score(self.context, node.id, SCORER, value))

    def round(self, iteration: Any, current: Node, round_number: int,
              current_score: float) -> tuple[Node, float] | None:
        """Add one round under `current`; return the accepted (improvement, score), or None."""
        if not isinstance(iteration, dict):
            raise RecordError("must be an object")
        criticised = iteration.get("initial_response")
        if criticised is not None and criticised != current.text:
            raise RecordError("'initial_response' is not the answer the previous rounds arrived at")
        judges = _slots(iteration, "judges")
        refines = _slots(iteration, "refine_list", len(judges))
        scores = _slots(iteration, "scores_list", len(judges))
        round_criticisms: list[Node | None] = []
        round_scores: list[list[float | None] | None] = []
        for slot, judge in enumerate(judges):
            if judge is None:
                round_criticisms.append(None)
                round_scores.append(None)
                continue
            if not isinstance(judge, str):
                raise RecordError(f"judge {slot + 1} must be a string or null")
            crit = self.node("criticism", judge, current, round_number, self_rating=parse_rating(judge))
            round_criticisms.append(crit)
            texts = refines[slot] or []
            values = scores[slot] or []
            if not isinstance(texts, list) or not isinstance(values, list) or len(values) != len(texts):
                raise RecordError(f"refine_list and scores_list of judge {slot + 1} must be lists of one length")
            children: list[Node | None] = []
            child_scores: list[float | None] = []
            for text, value in zip(texts, values, strict=True):
                if text is None:
                    children.append(None)
                    child_scores.append(None)
                    continue
                if not isinstance(text, str) or (value is not None and not isinstance(value, int | float)):
                    raise RecordError(f"judge {slot + 1}: improvements must be strings and scores numbers")
                child = self.node("improvement", text, crit, round_number)
                value = None if value is None else finite_number(value, f"judge {slot + 1}: a score")
                if value is not None:
                    self.score(child, value)
                children.append(child)
                child_scores.append(value)
            self.improvements[crit.id] = children
            round_scores.append(child_scores)
        self.criticisms.append(round_criticisms)
        self.round_scores.append(round_scores)
        best = greedy_outcome(current_score, [round_scores]).accepted
        if not best:
            return None
        i, j = best[0]
        accepted = self.improvements[round_criticisms[i].id][j]  # type: ignore[union-attr]
        return accepted, round_scores[i][j]  # type: ignore[index,return-value]


def _slots(iteration: dict[str, Any], key: str, length: int | None = None) -> list[Any]:
    value = iteration.get(key)
    if value is None:
        value = [] if length is None else [None] * length
    if not isinstance(value, list) or (length is not None and len(value) != length):
        expected = "a list" if length is None else f"a list with one entry per judge ({length})"
        raise RecordError(f"field {key!r} must be {expected}")
    return value

"""Stage II training data (DESIGN.md §1.4): the long-thought SFT samples a project has, and the long-thought
DPO pair of one prompt from thoughts sampled with the Stage II SFT model.

The pair choice itself (reference gate, best vs worst, length control) is the method's
(`backend.avr.stage2`); this module feeds it: it re-samples thoughts that have no parseable final answer,
and scores the final answers and the reference answer in one batch. Sampling and scoring come in as plain
callables, so a worker job can pass an engine and a scorer, and the logic stays free of models.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend.avr.long_thought import extract_final_answer
from backend.avr.stage2 import long_thought_pair, long_thought_sample
from backend.domain import Pair, Prompt, SftSample

if TYPE_CHECKING:
    from backend.store import Store

SAMPLES_PER_PROMPT = 5  # DESIGN §1.4.3
TRIES_PER_SAMPLE = 2  # a thought without a parseable "Final answer:" is sampled again, 2 tries in all

SampleThoughts = Callable[[int], list[str]]  # n -> n sampled long thoughts for the prompt
SampleMany = Callable[[dict[Hashable, int]], dict[Hashable, list[str]]]  # {prompt: n} -> {prompt: n thoughts}
ScoreAnswers = Callable[[list[tuple[str, str]]], list[float]]  # [(prompt, answer)] -> rewards


@dataclass(frozen=True)
class SampledThought:
    text: str
    final_answer: str | None
    score: float | None


def long_thought_samples(store: Store) -> list[SftSample]:
    """Every long-thought SFT sample: those stored (imported ones) and one per chain whose long thought was
    made (DESIGN §1.4.2), without duplicates; ordered by prompt then id."""
    found = {sample.id: sample for sample in store.sft_samples(kind="long_thought")}
    chains = [chain for chain in store.chains() if chain.long_thought_node_id]
    prompts = store.prompts_by_id({chain.prompt_id for chain in chains})
    for chain in chains:
        node = store.get_node(chain.long_thought_node_id)
        prompt = prompts.get(chain.prompt_id)
        if node is None or prompt is None:
            continue
        sample = long_thought_sample(prompt, node.text, (node.id,))
        found.setdefault(sample.id, sample)
    return sorted(found.values(), key=lambda sample: (sample.prompt_id, sample.id))


def sample_with_final_answers(sample: SampleThoughts, count: int = SAMPLES_PER_PROMPT,
                              tries: int = TRIES_PER_SAMPLE) -> list[str]:
    """`count` thoughts, each re-sampled (up to `tries` in all) while it has no parseable final answer; a
    slot whose every try failed keeps its last thought (the pair choice then leaves it out)."""
    return sample_many_with_final_answers(lambda wanted: {0: sample(wanted[0])}, [0], count, tries)[0]


def sample_many_with_final_answers(sample: SampleMany, keys: Sequence[Hashable], count: int = SAMPLES_PER_PROMPT,
                                   tries: int = TRIES_PER_SAMPLE) -> dict[Hashable, list[str]]:
    """`sample_with_final_answers` for many prompts at once (one call of `sample` per try, so an engine can
    batch every prompt's samples together): `sample({key: n, ...})` returns n thoughts per key.

    >>> answered, rambling = "x\\nFinal answer:\\n\\n12", "no answer yet"
    >>> replies = iter([{"a": [answered, rambling], "b": [rambling, rambling]}, {"a": [answered], "b": [rambling, answered]}])
    >>> asked = []
    >>> got = sample_many_with_final_answers(lambda wanted: asked.append(wanted) or next(replies), ["a", "b"], 2, 2)
    >>> asked
    [{'a': 2, 'b': 2}, {'a': 1, 'b': 2}]
    >>> got["a"] == [answered, answered], got["b"] == [rambling, answered]
    (True, True)
    """
    thoughts = {key: list(texts) for key, texts in sample({key: count for key in keys}).items()}
    for _ in range(tries - 1):
        missing = {key: [i for i, text in enumerate(texts) if extract_final_answer(text) is None]
                   for key, texts in thoughts.items()}
        missing = {key: indexes for key, indexes in missing.items() if indexes}
        if not missing:
            break
        again = sample({key: len(indexes) for key, indexes in missing.items()})
        for key, indexes in missing.items():
            for index, text in zip(indexes, again[key], strict=True):
                thoughts[key][index] = text
    return thoughts


def long_thought_dpo_pair(prompt: Prompt, thoughts: Sequence[str], score: ScoreAnswers, reference: str | None,
                          node_ids: Sequence[str | None] | None = None) -> tuple[Pair | None, list[SampledThought]]:
    """Score each thought's final answer and the reference answer (one batch), then choose the prompt's
    long-thought pair with the method's rule. Returns (pair or None, the scored thoughts)."""
    finals = [extract_final_answer(text) for text in thoughts]
    items = [(prompt.text, final) for final in finals if final is not None]
    if reference is not None:
        items.append((prompt.text, reference))
    values = score(items) if items else []
    reference_score = values.pop() if reference is not None and values else None
    scored, taken = [], iter(values)
    for text, final in zip(thoughts, finals, strict=True):
        scored.append(SampledThought(text, final, next(taken) if final is not None else None))
    pair = long_thought_pair(prompt, [(t.text, t.final_answer, t.score) for t in scored], reference_score,
                             node_ids)
    return pair, scored

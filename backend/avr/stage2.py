"""Stage II data after SFT: the long-thought SFT sample, and the DPO pair among a prompt's sampled
long thoughts, judged by the reward of their final answers (DESIGN.md §1.4 step 3).
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.avr.templates import respond_messages
from backend.domain import Pair, Prompt, SftSample

# Sampling (5 thoughts per prompt, 2 tries each for a parseable final answer) happens in training;
# these functions only choose.
# One sampled long thought: (full thought, extracted final answer or None, reward of that answer or None).
ThoughtSample = tuple[str, str | None, float | None]


def choose_long_thought_pair(samples: Sequence[ThoughtSample], reference_score: float | None) -> tuple[int, int] | None:
    """(chosen, rejected) sample indexes for a prompt's Stage II DPO pair (DESIGN.md §1.4.3), or None.

    Samples without a final answer or a score are left out. best: the first sample with the
    strictly highest score, and it must beat the reference answer's score strictly; worst: the first
    with the lowest score, strictly below the best. The pair is dropped when the best final answer
    is longer than the worst's (length control). `reference_score` None (no reference answer) skips
    the reference gate only.

    >>> samples = [("t0", "12", 1.0), ("t1", "It is 12.", 2.5), ("t2", None, 9.0), ("t3", "Twelve, I think.", -0.5)]
    >>> choose_long_thought_pair(samples, reference_score=2.0)
    (1, 3)
    >>> choose_long_thought_pair(samples, reference_score=2.5) is None     # the best must beat the reference
    True
    >>> choose_long_thought_pair([("t0", "a longer answer", 1.0), ("t1", "short", 0.2)], None) is None
    True
    """
    best = worst = None
    for index, (_, final, score) in enumerate(samples):
        if final is None or score is None:
            continue
        if best is None or score > samples[best][2]:  # type: ignore[operator]
            best = index
        if worst is None or score < samples[worst][2]:  # type: ignore[operator]
            worst = index
    if best is None or worst is None:
        return None
    best_score, worst_score = samples[best][2], samples[worst][2]
    if reference_score is not None and not best_score > reference_score:  # type: ignore[operator]
        return None
    if not worst_score < best_score:  # type: ignore[operator]
        return None
    if len(samples[best][1]) > len(samples[worst][1]):  # type: ignore[arg-type]
        return None
    return best, worst


def long_thought_pair(prompt: Prompt, samples: Sequence[ThoughtSample], reference_score: float | None,
                      node_ids: Sequence[str | None] | None = None) -> Pair | None:
    """The long_thought DPO pair of a prompt (context [user x]; full thoughts compared), or None."""
    choice = choose_long_thought_pair(samples, reference_score)
    if choice is None:
        return None
    chosen, rejected = choice
    ids = list(node_ids) if node_ids is not None else [None] * len(samples)
    return Pair(kind="long_thought", prompt_id=prompt.id, context=respond_messages(prompt.text, prompt.system),
                chosen=samples[chosen][0], rejected=samples[rejected][0], decided_by="reward",
                chosen_node_id=ids[chosen], rejected_node_id=ids[rejected],
                chosen_score=samples[chosen][2], rejected_score=samples[rejected][2])


def long_thought_sample(prompt: Prompt, text: str, node_ids: Sequence[str] = ()) -> SftSample:
    """The Stage II SFT sample: [user x, assistant long thought] (after the prompt's system message)."""
    messages = [*respond_messages(prompt.text, prompt.system), {"role": "assistant", "content": text}]
    return SftSample("long_thought", prompt.id, messages, tuple(node_ids))

"""Stage II data after SFT: the long-thought SFT sample, and the DPO pair among a prompt's sampled
long thoughts, judged by the reward of their final answers (DESIGN.md §1.4 step 3).
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.domain import Pair, Prompt, SftSample

# One sampled long thought: (full thought, extracted final answer or None, reward of that answer or None).
ThoughtSample = tuple[str, str | None, float | None]


def choose_long_thought_pair(samples: Sequence[ThoughtSample]) -> tuple[int, int] | None:
    """(chosen index, rejected index): best vs worst final-answer score, or None.

    Samples without a final answer or a score are ignored. The pair is kept only if the scores
    differ strictly and the chosen final answer is not longer than the rejected one (so DPO does
    not learn "longer is better"). Ties go to the earlier sample.

    >>> choose_long_thought_pair([("t0", "short", 1.0), ("t1", "a bit longer", 0.2), ("t2", None, 9.0)])
    (0, 1)
    >>> choose_long_thought_pair([("t0", "a longer answer", 1.0), ("t1", "short", 0.2)]) is None
    True
    """
    valid = [(index, final, score) for index, (_, final, score) in enumerate(samples)
             if final is not None and score is not None]
    if len(valid) < 2:
        return None
    chosen = max(valid, key=lambda v: v[2])  # type: ignore[arg-type,return-value]
    rejected = min(valid, key=lambda v: v[2])  # type: ignore[arg-type,return-value]
    if chosen[2] == rejected[2] or len(chosen[1]) > len(rejected[1]):  # type: ignore[arg-type]
        return None
    return chosen[0], rejected[0]


def long_thought_pair(prompt: Prompt, samples: Sequence[ThoughtSample],
                      node_ids: Sequence[str | None] | None = None) -> Pair | None:
    """The long_thought DPO pair of a prompt (context [user x]; full thoughts compared), or None."""
    choice = choose_long_thought_pair(samples)
    if choice is None:
        return None
    chosen, rejected = choice
    ids = list(node_ids) if node_ids is not None else [None] * len(samples)
    return Pair(kind="long_thought", prompt_id=prompt.id, context=[{"role": "user", "content": prompt.text}],
                chosen=samples[chosen][0], rejected=samples[rejected][0], decided_by="reward",
                chosen_node_id=ids[chosen], rejected_node_id=ids[rejected],
                chosen_score=samples[chosen][2], rejected_score=samples[rejected][2])


def long_thought_sample(prompt: Prompt, text: str, node_ids: Sequence[str] = ()) -> SftSample:
    """The Stage II SFT sample: [user x, assistant long thought]."""
    messages = [{"role": "user", "content": prompt.text}, {"role": "assistant", "content": text}]
    return SftSample("long_thought", prompt.id, messages, tuple(node_ids))

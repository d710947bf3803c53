"""A small project for training tests: prompts, multi-turn RSFT samples and pairs of every kind, with
both deciders, built in code (no model needed to make them)."""

from __future__ import annotations

from backend.domain import Node, Pair, Prompt, SftSample
from backend.training.config import TrainingConfig

JUDGE = "What is wrong with the answer above? Rate it."
REVISE = "Revise the answer to fix that."


def prompts(n: int = 12) -> list[Prompt]:
    return [Prompt.from_text(f"Question {i}: name a use of baking soda number {i}.", source="test") for i in range(n)]


def rsft_sample(prompt: Prompt, i: int) -> SftSample:
    messages = [
        {"role": "user", "content": prompt.text},
        {"role": "assistant", "content": f"Baking soda cleans pans {i}."},
        {"role": "user", "content": JUDGE},
        {"role": "assistant", "content": f"It is too short {i}. Rating: [[4]]"},
        {"role": "user", "content": REVISE},
        {"role": "assistant", "content": f"Baking soda cleans pans and leavens cakes {i}."},
    ]
    return SftSample("rsft", prompt.id, messages)


def pairs_for(prompt: Prompt, i: int) -> list[Pair]:
    user = [{"role": "user", "content": prompt.text}]
    judge = [*user, {"role": "assistant", "content": f"answer {i}"}, {"role": "user", "content": JUDGE}]
    revise = [*judge, {"role": "assistant", "content": f"critique {i}"}, {"role": "user", "content": REVISE}]
    decided = "human" if i % 3 == 0 else "reward"
    return [
        Pair("response", prompt.id, user, chosen=f"Good answer {i}.", rejected=f"Bad {i}.", decided_by=decided,
             chosen_node_id=f"imp{i}", rejected_node_id=f"resp{i}", chosen_score=2.0, rejected_score=1.0),
        Pair("criticism", prompt.id, judge, chosen=f"Useful critique {i}.", rejected=f"Vague {i}.",
             decided_by=decided, chosen_node_id=f"c+{i}", rejected_node_id=f"c-{i}"),
        Pair("improvement", prompt.id, revise, chosen=f"Improved answer {i}.", rejected=f"Worse answer {i}.",
             decided_by=decided, chosen_node_id=f"hi{i}", rejected_node_id=f"lo{i}"),
    ]


def fill(store, n: int = 12, with_edits: bool = True) -> list[Prompt]:
    """n prompts, each with one RSFT sample and a response, criticism and improvement pair (a third of them
    decided by a person); with_edits adds a person's edit of an answer (usable by the reward model) and of a
    criticism (not usable: a reward model scores answers only)."""
    made = prompts(n)
    store.add_prompts(made)
    store.add_sft_samples([rsft_sample(p, i) for i, p in enumerate(made)])
    store.add_pairs([pair for i, p in enumerate(made) for pair in pairs_for(p, i)])
    if with_edits:
        p = made[1]
        store.add_nodes([Node("edited-answer", p.id, "response", "model answer"),
                         Node("edited-crit", p.id, "criticism", "model critique", parent_id="edited-answer")])
        user = [{"role": "user", "content": p.text}]
        store.add_pairs([
            Pair("edit", p.id, user, chosen="person's answer", rejected="model answer", decided_by="human",
                 chosen_node_id="edited-answer", rejected_node_id="edited-answer"),
            Pair("edit", p.id, [*user, {"role": "assistant", "content": "model answer"},
                                {"role": "user", "content": JUDGE}],
                 chosen="person's critique", rejected="model critique", decided_by="human",
                 chosen_node_id="edited-crit", rejected_node_id="edited-crit"),
        ])
    return made


def tiny_config(stage: str, base: str, **overrides) -> TrainingConfig:
    """Settings for a tiny model that train in about a second."""
    values = dict(stage=stage, base=base, preset="cpu-small", max_steps=2, batch_size=2, gradient_accumulation=1,
                  max_length=128, checkpoint_steps=1, lora_r=4, lora_alpha=8, learning_rate=1e-2,
                  heldout_fraction=0.25)
    values.update(overrides)
    return TrainingConfig(**values)

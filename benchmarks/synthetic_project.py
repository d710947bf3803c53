"""Synthetic projects for the benchmarks: N prompts, each with one scored 1 + 2 + 4 refinement tree."""

from __future__ import annotations

import random
from datetime import timedelta

from backend.domain import Node, Prompt, Score, now

SCORER = "bench:random"
WORDS = ("the answer explains baking soda rain haiku model reward criticism improvement clear short "
         "detail accurate helpful relevant example step because therefore however").split()


def _text(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def _add_node(nodes, scores, rng, prompt, kind, parent, suffix, words, start, clock) -> Node:
    made = Node(id=f"{prompt.id}-{suffix}", prompt_id=prompt.id, kind=kind, parent_id=parent,
                text=_text(rng, words), model="bench",
                self_rating=rng.randint(1, 10) if kind == "criticism" else None,
                created_at=start + timedelta(microseconds=next(clock)))
    nodes.append(made)
    if kind != "criticism":
        scores.append(Score(made.id, SCORER, rng.uniform(-2, 2), created_at=start))
    return made


def scored_trees(n_prompts: int, seed: int = 0) -> tuple[list[Prompt], list[Node], list[Score]]:
    """Prompts with a full Stage I tree each (1 response, 2 criticisms, 4 improvements), random scores."""
    rng = random.Random(seed)
    start = now()
    prompts, nodes, scores = [], [], []
    for i in range(n_prompts):
        prompt = Prompt.from_text(f"Question {i}: {_text(rng, 12)}", source="bench")
        prompts.append(prompt)
        clock = iter(range(10))
        response = _add_node(nodes, scores, rng, prompt, "response", None, "r", 60, start, clock)
        for c in range(2):
            crit = _add_node(nodes, scores, rng, prompt, "criticism", response.id, f"c{c}", 40, start, clock)
            for m in range(2):
                _add_node(nodes, scores, rng, prompt, "improvement", crit.id, f"c{c}i{m}", 70, start, clock)
    return prompts, nodes, scores


def fill(store, n_prompts: int, seed: int = 0) -> None:
    prompts, nodes, scores = scored_trees(n_prompts, seed)
    with store.transaction():
        store.add_prompts(prompts)
        store.add_nodes(nodes)
        store.add_scores(scores)

"""Quick check that Stage I data building stays fast: 10,000 synthetic scored 2×2 trees through
build_trees + build_stage1. Run: .venv/bin/python benchmarks/bench_avr_pairs.py [trees]
"""

from __future__ import annotations

import random
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from backend.avr import DEFAULT_TEMPLATES, build_stage1, build_trees
from backend.config import PairConfig
from backend.domain import Node, Prompt

WORDS = "the answer names two uses of baking soda and explains why each one works in practice".split()


def synthetic_trees(count: int, seed: int = 0) -> tuple[list[Prompt], list[Node], dict[str, float]]:
    """`count` prompts, each with one response, 2 criticisms and 2 improvements per criticism."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    prompts, nodes, scores = [], [], {}

    def text(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    for p in range(count):
        prompt = Prompt(f"p{p}", f"Question {p}: " + text(12))
        prompts.append(prompt)
        tick = iter(range(10))

        def add(node_id: str, kind: str, parent: str | None, words: int,
                prompt_id: str = prompt.id, tick=tick) -> None:
            nodes.append(Node(node_id, prompt_id, kind, text(words), parent_id=parent,
                              created_at=start + timedelta(seconds=next(tick))))
            scores[node_id] = rng.gauss(0.0, 1.0)

        add(f"p{p}y", "response", None, 60)
        for c in range(2):
            add(f"p{p}c{c}", "criticism", f"p{p}y", 40)
            for i in range(2):
                add(f"p{p}c{c}i{i}", "improvement", f"p{p}c{c}", 70)
    return prompts, nodes, scores


def build_all(prompts: list[Prompt], nodes: list[Node], scores: dict[str, float]) -> tuple[int, int]:
    config = PairConfig()
    roots = build_trees(nodes, scores, {})
    roots_by_prompt = defaultdict(list)
    for root in roots:
        roots_by_prompt[root.node.prompt_id].append(root)
    pairs = samples = 0
    for prompt in prompts:
        data = build_stage1(prompt, roots_by_prompt[prompt.id], lambda _version: DEFAULT_TEMPLATES, config)
        pairs += len(data.pairs)
        samples += len(data.rsft)
    return pairs, samples


def main(count: int = 10_000, repeats: int = 3) -> None:
    prompts, nodes, scores = synthetic_trees(count)
    timings, cpu_timings = [], []
    for _ in range(repeats):  # best of a few runs: the machine is shared (CPU time says less about load)
        started, cpu_started = time.perf_counter(), time.process_time()
        pairs, samples = build_all(prompts, nodes, scores)
        timings.append(time.perf_counter() - started)
        cpu_timings.append(time.process_time() - cpu_started)
    seconds = min(timings)
    print(f"build_trees + build_stage1, {count} trees ({len(nodes)} nodes): best {seconds:.3f} s wall "
          f"({min(cpu_timings):.3f} s CPU) of {repeats} runs, {count / seconds:,.0f} trees/s; "
          f"{pairs} pairs, {samples} RSFT samples")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)

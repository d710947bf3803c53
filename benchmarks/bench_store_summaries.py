"""Time the GUI's prompt-list queries on 100,000 prompts / 700,000 nodes.

Run: .venv/bin/python benchmarks/bench_store_summaries.py [N_PROMPTS]   (goals: page < 50 ms, filter < 200 ms)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from synthetic_project import fill  # noqa: E402

from backend.store import PromptFilter, Store  # noqa: E402


def timed_ms(call, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    n_prompts = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp, Store.create(Path(tmp) / "bench") as store:
        started = time.perf_counter()
        fill(store, n_prompts)
        store.checkpoint()  # as when the GUI opens a saved project
        print(f"made {n_prompts} prompts / {7 * n_prompts} nodes in {time.perf_counter() - started:.1f} s")
        everything = PromptFilter()
        cases = {
            "page 1 (added)": lambda: store.list_prompt_summaries(everything),
            "page 300 (added)": lambda: store.list_prompt_summaries(everything, offset=60_000),
            "page 1 (best_gain desc)": lambda: store.list_prompt_summaries(everything, "best_gain", True),
            "page 1 (text)": lambda: store.list_prompt_summaries(everything, "text"),
            "count all": lambda: store.count_prompt_summaries(everything),
            "filter text 'baking' count": lambda: store.count_prompt_summaries(PromptFilter(text="baking")),
            "filter text page": lambda: store.list_prompt_summaries(PromptFilter(text="baking"), "best_reward"),
            "filter min_gain+improving count": lambda: store.count_prompt_summaries(
                PromptFilter(min_gain=1.0, has_improving=True)),
        }
        for name, call in cases.items():
            ms = timed_ms(call)
            goal = 200 if "filter" in name or "count" in name else 50
            print(f"{name:<34}{ms:8.1f} ms  (goal {goal} ms{'' if ms < goal else ' MISSED'})")


if __name__ == "__main__":
    main()

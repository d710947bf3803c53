"""Import speed: 60,000 UltraFeedback-style rows into a fresh project (goal < 10 s), then again (0 new).

Run: .venv/bin/python benchmarks/bench_import.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.io import import_file  # noqa: E402
from backend.store import Store  # noqa: E402

GOAL_SECONDS = 10.0
_WORDS = ("walk morning light coffee river city garden quiet write plan read answer kind clear brief "
          "reason example detail helpful title story simple").split()


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def write_rows(path: Path, rows: int, seed: int = 0) -> None:
    """Rows shaped like samples/ultrafeedback-style.jsonl, with answers of a realistic length."""
    rng = random.Random(seed)
    answers = [_sentence(rng, rng.randint(40, 120)) for _ in range(5000)]  # a pool: writing stays quick
    with path.open("w", encoding="utf-8") as handle:
        for index in range(rows):
            prompt = f"{_sentence(rng, 12)} (#{index})"
            responses = rng.sample(answers, 4)
            scores = [round(rng.uniform(-1, 1), 3) for _ in responses]
            best, worst = scores.index(max(scores)), scores.index(min(scores))
            record = {
                "prompt_id": f"{index:08x}", "prompt": prompt, "all_generated_responses": responses,
                "all_rm_scores": scores,
                "chosen": [{"role": "user", "content": prompt}, {"role": "assistant", "content": responses[best]}],
                "rejected": [{"role": "user", "content": prompt}, {"role": "assistant", "content": responses[worst]}],
            }
            handle.write(json.dumps(record) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=60_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="avr-bench-import-") as tmp:
        data = Path(tmp) / "ultrafeedback.jsonl"
        write_rows(data, args.rows)
        print(f"{args.rows} rows, {data.stat().st_size / 1e6:.1f} MB")
        store = Store.create(Path(tmp) / "project")
        times = []
        try:
            for label in ("first import", "re-import"):
                started, cpu_started = time.perf_counter(), time.process_time()
                report = import_file(store, data)
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
                times.append(seconds)
                # CPU time too: on a busy machine the wall time says more about the neighbours.
                print(f"{label}: {seconds:.2f} s wall ({cpu:.2f} s CPU), {report.records / seconds:,.0f} rows/s; "
                      f"new: {report.new_prompts} prompts, {report.new_nodes} nodes, {report.new_scores} scores")
        finally:
            getattr(store, "close", lambda: None)()
    within = max(times) < GOAL_SECONDS
    print(f"goal: < {GOAL_SECONDS:.0f} s per import: {'met' if within else 'MISSED'}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())

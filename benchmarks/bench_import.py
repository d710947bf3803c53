"""Import speed: 60,000 UltraFeedback-style rows into a fresh project (goal < 10 s), then again (0 new);
and peak memory: each size of --memory-rows imported by a fresh process, which reports its peak RSS
(the import reads in bounded chunks, so the peak should not grow with the file).

Run: .venv/bin/python benchmarks/bench_import.py [--rows N] [--memory-rows 60000,300000] [--skip-speed]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
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


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def import_in_this_process(data: Path, project: Path) -> None:
    """The --child mode: import `data` into a new project at `project`, print peak RSS before and after."""
    store = Store.create(project)
    before = _peak_rss_mb()
    started = time.perf_counter()
    report = import_file(store, data)
    store.close()
    print(json.dumps({"before_mb": before, "peak_mb": _peak_rss_mb(), "seconds": time.perf_counter() - started,
                      "records": report.records}))


def measure_memory(sizes: list[int]) -> None:
    for rows in sizes:
        with tempfile.TemporaryDirectory(prefix="avr-bench-import-mem-") as tmp:
            data = Path(tmp) / "ultrafeedback.jsonl"
            write_rows(data, rows)
            child = subprocess.run([sys.executable, __file__, "--child", str(data), str(Path(tmp) / "project")],
                                   capture_output=True, text=True, check=True)
            found = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"peak RSS importing {rows:,} rows ({data.stat().st_size / 1e6:.0f} MB file): "
                  f"{found['peak_mb']:.0f} MB (the process held {found['before_mb']:.0f} MB before the import; "
                  f"{found['seconds']:.1f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--memory-rows", default="60000,300000",
                        help="comma-separated sizes for the peak-memory runs ('' for none)")
    parser.add_argument("--skip-speed", action="store_true", help="only the peak-memory runs")
    parser.add_argument("--child", nargs=2, metavar=("FILE", "PROJECT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import_in_this_process(Path(args.child[0]), Path(args.child[1]))
        return 0
    if args.memory_rows:
        measure_memory([int(n) for n in args.memory_rows.split(",")])
    if args.skip_speed:
        return 0
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

"""Time `rebuild_stage1` end to end (load from DuckDB, build pairs by the paper's rules, write them) on
10,000 scored trees: a first build (no pairs stored yet) and a rebuild (the same pairs written again).

Run: .venv/bin/python benchmarks/bench_pairs.py [N_TREES] [RUNS]   (goal: under 2 s for 10,000)
The machine is shared: each figure is the best of RUNS, with the CPU time of this process and the
load average beside it (a busy machine inflates wall time, not CPU time).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from synthetic_project import fill  # noqa: E402

from backend.config import PairConfig  # noqa: E402
from backend.curation.rebuild import rebuild_stage1  # noqa: E402
from backend.store import Store  # noqa: E402


def _timed(function) -> tuple[float, float, object]:
    started, cpu_started = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - started, time.process_time() - cpu_started, result


def main() -> None:
    n_trees = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp, Store.create(Path(tmp) / "bench") as store:
        seconds, _, _ = _timed(lambda: fill(store, n_trees))
        print(f"made {n_trees} scored trees in {seconds:.2f} s")
        ids = store.prompt_ids_with_nodes()
        for attempt in ("first build", "rebuild"):
            best = None
            for _ in range(runs):
                if attempt == "first build":
                    store.replace_stage1_data(ids, [], [])  # no pairs stored: every row is new
                    store.checkpoint()
                wall, cpu, counts = _timed(lambda: rebuild_stage1(store, PairConfig()))
                best = min(best or (wall, cpu), (wall, cpu))
            wall, cpu = best  # type: ignore[misc]
            load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
            print(f"{attempt}: best {wall:.2f} s wall ({cpu:.2f} s CPU) of {runs}, {n_trees / wall:,.0f} trees/s, "
                  f"load average {load} -> {counts}")


if __name__ == "__main__":
    main()

"""Time `rebuild_stage1` end to end (load from DuckDB, build pairs, write them) on 10,000 scored trees.

Run: .venv/bin/python benchmarks/bench_pairs.py [N_TREES]   (goal: under 2 s for 10,000)
"""

from __future__ import annotations

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


def main() -> None:
    n_trees = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp, Store.create(Path(tmp) / "bench") as store:
        started = time.perf_counter()
        fill(store, n_trees)
        print(f"made {n_trees} scored trees in {time.perf_counter() - started:.2f} s")
        for attempt in ("first build", "rebuild"):
            started = time.perf_counter()
            counts = rebuild_stage1(store, PairConfig())
            seconds = time.perf_counter() - started
            print(f"{attempt}: {seconds:.2f} s, {n_trees / seconds:,.0f} trees/s -> {counts}")


if __name__ == "__main__":
    main()

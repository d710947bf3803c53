"""Agreement with the AvR authors' own output on `shared/conformance/`, through the project's real path.

Stage I: import their scoring detail into a fresh project, rebuild pairs (paper rules), compare.
Stage II: import their greedy-chain records, export the long thoughts, compare byte for byte.
Run: .venv/bin/python benchmarks/conformance.py [CONFORMANCE_DIR]   (ends with one line per stage)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.config import PairConfig  # noqa: E402
from backend.curation.rebuild import rebuild_stage1  # noqa: E402
from backend.io import export, import_file  # noqa: E402
from backend.io.conformance import read_jsonl, stage1_agreement, stage2_agreement  # noqa: E402
from backend.store import Store  # noqa: E402


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "conformance"
    if not folder.is_dir():
        print(f"no conformance data at {folder}")
        return 2
    with tempfile.TemporaryDirectory() as tmp, Store.create(Path(tmp) / "conformance") as store:
        started = time.perf_counter()
        first = import_file(store, folder / "stage1-scoring-detail.jsonl")
        counts = rebuild_stage1(store, PairConfig())
        stage1 = stage1_agreement(read_jsonl(folder / "stage1-expected.jsonl"), store.pairs(),
                                  store.sft_samples("rsft"))
        print(f"stage I: {first.records} trees imported, built {counts} in {time.perf_counter() - started:.2f} s")

        started = time.perf_counter()
        second = import_file(store, folder / "stage2-greedy-records.jsonl")
        out = Path(tmp) / "long-thoughts.jsonl"
        exported = export(store, "long-thought", "avr", out)
        stage2 = stage2_agreement(read_jsonl(folder / "stage2-expected.jsonl"), store.sft_samples("long_thought"))
        print(f"stage II: {second.records} chains imported, {exported.rows} long thoughts exported in "
              f"{time.perf_counter() - started:.2f} s; dropped by the paper: {dict(second.dropped_chains)}")
    for agreement in (stage1, stage2):
        for example in agreement.missing_examples:
            print(f"  {agreement.stage} missing: {example}")
        for example in agreement.extra_examples:
            print(f"  {agreement.stage} extra: {example}")
    print(stage1.line())
    print(stage2.line())
    return 0 if stage1.exact and stage2.exact else 1


if __name__ == "__main__":
    sys.exit(main())

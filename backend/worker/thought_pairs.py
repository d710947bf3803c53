"""Stage II's long-thought pairs into the store: the `thought_pair` records of a `sample_thoughts` job, read
from its journal by the process that owns the database (after `backend.worker.ingest` stored the thoughts
and their scores). Idempotent: a pair's id is its content, so reading a journal again adds nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from backend.training.records import THOUGHT_PAIR, pair_of
from backend.worker.journal import read_records

if TYPE_CHECKING:
    from backend.store import Store


def store_thought_pairs(store: Store, job_dir: Path | str) -> tuple[int, int]:
    """Add the job's long-thought pairs; returns (prompts the job finished, pairs among them)."""
    prompts, pairs = 0, []
    for _, record in read_records(job_dir):
        if record.get("type") != THOUGHT_PAIR:
            continue
        prompts += 1
        pair = pair_of(record)
        if pair is not None:
            pairs.append(pair)
    if pairs:
        store.add_pairs(pairs)
    return prompts, len(pairs)

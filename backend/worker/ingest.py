"""Import a job's journal into the project database: the records the store has not seen yet.

Idempotent (nodes are keyed by id, scores are upserts, chains keyed by id) and resumable: the store
remembers the byte offset it has imported up to. A torn last line (a crash mid-write) is left for later.
The prompts whose trees changed get their pairs rebuilt with the records (`backend.curation.derived`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from backend import protocol
from backend.curation.derived import refresh_pairs
from backend.domain import Chain, Node, Score
from backend.worker.journal import journal_path, read_records

BATCH_RECORDS = 2000  # records per transaction: one commit per batch, not per record


@dataclass
class StoredRecords:
    objects: int = 0  # stored objects the records held
    nodes_added: int = 0  # nodes that were new to the store
    prompt_ids: set[str] = field(default_factory=set)  # prompts whose trees the records touched


def store_records(store, records: Iterable[dict]) -> StoredRecords:
    """Write journal records to the store: nodes first (scores and chains refer to them), then scores,
    then chains; then rebuild the touched prompts' pairs. The caller owns the transaction."""
    nodes: list[Node] = []
    scores: list[Score] = []
    chains: list[Chain] = []
    for record in records:
        obj = protocol.record_to_object(record)
        if isinstance(obj, Node):
            nodes.append(obj)
        elif isinstance(obj, Score):
            scores.append(obj)
        elif isinstance(obj, Chain):
            chains.append(obj)
    added = store.add_nodes(nodes)
    store.add_scores(scores)
    for chain in chains:
        store.add_chain(chain)
    prompt_ids = {node.prompt_id for node in nodes}
    node_ids = {node.id for node in nodes}
    scored_elsewhere = sorted({s.node_id for s in scores} - node_ids)  # scores of nodes stored before
    if scored_elsewhere:
        prompt_ids.update(store.prompt_ids_of_nodes(scored_elsewhere))
    refresh_pairs(store, prompt_ids)
    return StoredRecords(len(nodes) + len(scores) + len(chains), added, prompt_ids)


def ingest_journal(store, job_dir: str | Path, job_id: str) -> int:
    """Import new journal records of `job_id` from `job_dir`; return how many stored objects they held."""
    imported = 0
    batch: list[dict] = []

    def flush(end: int) -> None:
        nonlocal imported
        with store.transaction():  # the records and the offset they reach commit together
            imported += store_records(store, batch).objects
            store.set_journal_offset(job_id, end)
        batch.clear()

    end = store.journal_offset(job_id)
    for end, record in read_records(job_dir, store.journal_offset(job_id)):  # noqa: B007 - last end is flushed
        batch.append(record)
        if len(batch) >= BATCH_RECORDS:
            flush(end)
    if batch:
        flush(end)
    return imported


def ingest_pending_journals(store) -> int:
    """Import every job folder's journal that has records the store has not seen (run at start)."""
    imported = 0
    jobs_dir = Path(store.jobs_dir)
    if not jobs_dir.is_dir():
        return 0
    for job_dir in sorted(p for p in jobs_dir.iterdir() if p.is_dir()):
        path = journal_path(job_dir)
        if path.is_file() and path.stat().st_size > store.journal_offset(job_dir.name):
            imported += ingest_journal(store, job_dir, job_dir.name)
    return imported

"""Import a job's journal into the project database: the records the store has not seen yet.

Idempotent (nodes are keyed by id, scores are upserts, chains keyed by id) and resumable: the store
remembers the byte offset it has imported up to. A torn last line (a crash mid-write) is left for later;
a whole line that holds no record is skipped with a note naming the job, the line and its byte offset,
and the records after it are imported. The prompts whose trees changed get their pairs rebuilt with
the records (`backend.curation.derived`).

A Stage I job's nodes must fit the tree its request asked for (one answer, k criticisms, m improvements
each): a node for a slot that is already full, e.g. journalled by a killed job's orphaned worker after
a new run grew the same slot, is refused and kept as a slot conflict (`backend.store.slot_conflicts`),
never added as an extra child.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend import protocol
from backend.curation.derived import refresh_pairs
from backend.domain import Chain, Node, Score
from backend.worker.journal import REQUEST_NAME, BadJournalLine, journal_path, line_number_at, read_records

BATCH_RECORDS = 2000  # records per transaction: one commit per batch, not per record

Warn = Callable[[str], None]


@dataclass(frozen=True)
class SlotLimits:
    """How many criticisms an answer and improvements a criticism may have in a Stage I tree."""

    criticisms: int
    improvements: int


@dataclass
class StoredRecords:
    objects: int = 0  # stored objects the records held
    nodes_added: int = 0  # nodes that were new to the store
    prompt_ids: set[str] = field(default_factory=set)  # prompts whose trees the records touched
    refused: list[tuple[Node, str]] = field(default_factory=list)  # (node, why) kept as slot conflicts


def store_records(store, records: Iterable[dict], limits: SlotLimits | None = None) -> StoredRecords:
    """Write journal records to the store: nodes first (scores and chains refer to them), then scores,
    then chains; then rebuild the touched prompts' pairs. The caller owns the transaction. With
    `limits`, Stage I nodes that do not fit their tree are refused (see the module docstring)."""
    return _store_objects(store, [(record, protocol.record_to_object(record)) for record in records], limits)


def _store_objects(store, items: list[tuple[dict, Any]], limits: SlotLimits | None) -> StoredRecords:
    nodes: list[Node] = []
    node_records: dict[str, dict] = {}
    scores: list[Score] = []
    chains: list[Chain] = []
    for record, obj in items:
        if isinstance(obj, Node):
            nodes.append(obj)
            node_records[obj.id] = record
        elif isinstance(obj, Score):
            scores.append(obj)
        elif isinstance(obj, Chain):
            chains.append(obj)
    refused: list[tuple[Node, str, list[str]]] = []
    if limits is not None:
        nodes, refused = _fit_slots(store, nodes, limits)
        store.add_slot_conflicts((node, why, occupants, node_records[node.id]) for node, why, occupants in refused)
        scores = _keep_refused_scores(store, scores, {node.id for node, _, _ in refused})
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
    return StoredRecords(len(nodes) + len(scores) + len(chains), added, prompt_ids,
                         [(node, why) for node, why, _ in refused])


def _fit_slots(store, nodes: list[Node], limits: SlotLimits) -> tuple[list[Node], list[tuple[Node, str, list[str]]]]:
    """Split a Stage I job's nodes into those that fit their tree and those refused (with why and the
    ids of the nodes that hold the slot). Nodes already stored keep their place (a journal read again)."""
    tree_nodes = [n for n in nodes if n.round == 0 and n.kind in ("response", "criticism", "improvement")]
    if not tree_nodes:
        return nodes, []
    stored = store.stored_node_ids([n.id for n in tree_nodes])
    roots = store.stage1_roots([n.prompt_id for n in tree_nodes if n.kind == "response" and n.parent_id is None])
    parents = sorted({n.parent_id for n in tree_nodes if n.parent_id})
    children = store.round0_children(parents)
    refused_ids = store.refused_node_ids(parents)
    capacity = {"criticism": limits.criticisms, "improvement": limits.improvements}
    accepted: list[Node] = []
    refused: list[tuple[Node, str, list[str]]] = []
    checked = {id(n) for n in tree_nodes}
    for node in nodes:
        if id(node) not in checked or node.id in stored:
            accepted.append(node)
            continue
        if node.parent_id is not None and node.parent_id in refused_ids:
            why, occupants = "the node it answers was refused", [node.parent_id]
        elif node.kind == "response":
            occupants = roots.setdefault(node.prompt_id, [])
            why = "the prompt already has its Stage I answer" if occupants and node.parent_id is None else ""
        else:
            occupants = children.setdefault((node.parent_id, node.kind), [])
            cap = capacity[node.kind]
            why = (f"its {'answer' if node.kind == 'criticism' else 'criticism'} already has {cap} "
                   f"{node.kind}{'s' if cap != 1 else ''}") if len(occupants) >= cap else ""
        if why:
            refused.append((node, why, list(occupants)))
            refused_ids.add(node.id)
        else:
            occupants.append(node.id)
            accepted.append(node)
    return accepted, refused


def _keep_refused_scores(store, scores: list[Score], refused_now: set[str]) -> list[Score]:
    """Scores of refused nodes go with them to the conflict; the rest are returned to be stored."""
    others = sorted({s.node_id for s in scores} - refused_now)
    refused = refused_now | store.refused_node_ids(others)
    for score in scores:
        if score.node_id in refused:
            store.add_conflict_score(score.node_id, score.scorer, score.value)
    return [s for s in scores if s.node_id not in refused]


def slot_limits(job_dir: str | Path) -> SlotLimits | None:
    """The tree a Stage I job was asked to grow, from its request.json; None for other jobs (a
    regenerate job adds improvements on purpose) and for a folder without a readable request."""
    try:
        request = json.loads((Path(job_dir) / REQUEST_NAME).read_text(encoding="utf-8"))
        if request.get("kind") != "stage1":
            return None
        tree = request["tree"]
        return SlotLimits(int(tree["criticisms"]), int(tree["improvements"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def ingest_journal(store, job_dir: str | Path, job_id: str, on_warning: Warn | None = None) -> int:
    """Import new journal records of `job_id` from `job_dir`; return how many stored objects they held.

    What a person should hear of (a skipped line, refused results) becomes a note of the job
    (`store.job_notes`), written with the records, and is also passed to `on_warning`."""
    path = journal_path(job_dir)
    limits = slot_limits(job_dir)
    imported = 0
    batch: list[tuple[dict, Any]] = []
    notes: list[str] = []
    refused: list[tuple[Node, str]] = []
    start = end = previous_end = store.journal_offset(job_id)

    def bad_line(bad: BadJournalLine) -> None:
        nonlocal end, previous_end
        notes.append(f"Job {job_id}: journal line {bad.line} (byte {bad.offset}) was skipped: {bad.reason}. "
                     "The records after it were imported.")
        end = previous_end = max(end, bad.end)

    def flush() -> None:
        nonlocal imported
        with store.transaction():  # the records, their notes and the offset they reach commit together
            stored = _store_objects(store, batch, limits)
            imported += stored.objects
            refused.extend(stored.refused)
            for text in notes:
                store.add_job_note(job_id, "warning", text)
            store.set_journal_offset(job_id, end)
        for text in notes:
            if on_warning is not None:
                on_warning(text)
        batch.clear()
        notes.clear()

    for record_end, record in read_records(job_dir, start, on_bad=bad_line):
        try:
            batch.append((record, protocol.record_to_object(record)))
        except (TypeError, ValueError) as exc:  # valid JSON, but not a record this version can store
            bad_line(BadJournalLine(line_number_at(path, previous_end), previous_end,
                                    f"not a readable {record.get('type', 'untyped')!r} record ({exc})", record_end))
        previous_end = end = record_end
        if len(batch) >= BATCH_RECORDS:
            flush()
    if batch or notes or end > store.journal_offset(job_id):
        flush()
    if refused:
        _note_refused(store, job_id, refused, on_warning)
    return imported


def _note_refused(store, job_id: str, refused: list[tuple[Node, str]], on_warning: Warn | None) -> None:
    node, why = refused[0]
    more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
    text = (f"Job {job_id}: {len(refused)} result(s) were refused because their place in the tree was taken: "
            f"a {node.kind} of prompt {node.prompt_id}: {why}{more}. Both texts are kept; "
            "`avr-studio conflicts DIR` lists them.")
    store.add_job_note(job_id, "warning", text)
    if on_warning is not None:
        on_warning(text)


def ingest_pending_journals(store, on_warning: Warn | None = None) -> int:
    """Import every job folder's journal that has records the store has not seen (run at start)."""
    imported = 0
    jobs_dir = Path(store.jobs_dir)
    if not jobs_dir.is_dir():
        return 0
    for job_dir in sorted(p for p in jobs_dir.iterdir() if p.is_dir()):
        path = journal_path(job_dir)
        if path.is_file() and path.stat().st_size > store.journal_offset(job_dir.name):
            imported += ingest_journal(store, job_dir, job_dir.name, on_warning)
    return imported

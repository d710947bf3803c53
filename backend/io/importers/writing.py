"""Hand one chunk of converted records to the store in large batches, in the caller's transaction, and
rebuild the pairs of the prompts whose trees it touched (`backend.curation.derived`), so the app and the
CLI see derived pairs right after an import."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from backend.io.importers.common import ImportItems

BATCH_SIZE = 50_000  # large enough for the store's bulk inserts, small enough to bound one statement


@dataclass(frozen=True)
class NewCounts:
    """How many of each were new to the project (scores and chains are counted by the caller)."""

    prompts: int = 0
    nodes: int = 0
    sft_samples: int = 0
    references: int = 0

    def __add__(self, other: NewCounts) -> NewCounts:
        return NewCounts(self.prompts + other.prompts, self.nodes + other.nodes,
                         self.sft_samples + other.sft_samples, self.references + other.references)


def write_items(store: Any, items: ImportItems, refresh_derived: bool = True) -> NewCounts:
    """Write one chunk (parents before children: prompts, nodes, then what refers to nodes) and rebuild
    the Stage I data of the prompts whose trees it touched, inside the caller's transaction when there
    is one. `refresh_derived=False` for a staging store (the project rebuilds after publishing)."""
    from backend.curation.derived import refresh_pairs

    with store.transaction():
        prompts = sum(store.add_prompts(batch) for batch in batched(items.prompts, BATCH_SIZE))
        nodes = sum(store.add_nodes(batch) for batch in batched(items.nodes, BATCH_SIZE))
        for batch in batched(items.scores, BATCH_SIZE):
            store.add_scores(batch)
        for chain in items.chains:
            store.add_chain(chain)
        sft_samples = sum(store.add_sft_samples(batch) for batch in batched(items.sft_samples, BATCH_SIZE))
        references = sum(store.add_reference_answers(batch) for batch in batched(items.references, BATCH_SIZE))
        if refresh_derived:
            refresh_pairs(store, touched_prompt_ids(store, items))
    return NewCounts(prompts, nodes, sft_samples, references)


def touched_prompt_ids(store: Any, items: ImportItems) -> set[str]:
    """Prompts whose trees the chunk changed: those of its nodes and of the nodes its scores rate. (New
    reference answers change only the RSFT reference mix, which `avr-studio pairs` and the app's
    rebuild add; rebuilding every imported UltraFeedback prompt here would triple an import's time.)"""
    touched = {node.prompt_id for node in items.nodes}
    node_ids = {node.id for node in items.nodes}
    scored_elsewhere = sorted({score.node_id for score in items.scores} - node_ids)
    if scored_elsewhere:
        touched.update(store.prompt_ids_of_nodes(scored_elsewhere))
    return touched


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch

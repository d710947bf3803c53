"""Hand converted records to the store in large batches inside one transaction (all or nothing)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from backend.io.importers.common import ImportItems

BATCH_SIZE = 50_000  # large enough for the store's bulk inserts, small enough to bound one statement


@dataclass(frozen=True)
class NewCounts:
    prompts: int
    nodes: int
    scores: int
    chains: int
    sft_samples: int
    references: int = 0


def write_items(store: Any, items: ImportItems) -> NewCounts:
    """Write everything in one transaction; returns how many of each were new to the project."""
    with store.transaction():
        # add_scores counts rows written (an upsert) and add_chain returns nothing, so "new" for
        # those two is measured as the growth of their tables.
        scores_before, chains_before = _score_and_chain_totals(store)
        # Parents before children: prompts, then nodes, then what refers to nodes.
        prompts = sum(store.add_prompts(batch) for batch in batched(items.prompts, BATCH_SIZE))
        nodes = sum(store.add_nodes(batch) for batch in batched(items.nodes, BATCH_SIZE))
        for batch in batched(items.scores, BATCH_SIZE):
            store.add_scores(batch)
        for chain in items.chains:
            store.add_chain(chain)
        sft_samples = sum(store.add_sft_samples(batch) for batch in batched(items.sft_samples, BATCH_SIZE))
        references = sum(store.add_reference_answers(batch) for batch in batched(items.references, BATCH_SIZE))
        scores_after, chains_after = _score_and_chain_totals(store)
    return NewCounts(prompts, nodes, scores_after - scores_before, chains_after - chains_before, sft_samples,
                     references)


def _score_and_chain_totals(store: Any) -> tuple[int, int]:
    stats = store.stats()
    return sum(stats["scores"].values()), int(stats["chains"])


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch

"""Rebuild Stage I training data (DPO pairs + RSFT samples) from the stored, scored, curated trees.

Used by `avr-studio pairs` and the GUI. Loads trees in chunks, builds with `backend.avr.pairs`, and
replaces the old Stage I data of the same prompts in one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from backend.avr.pairs import build_stage1
from backend.avr.tree import build_trees
from backend.collector import collector_paused
from backend.config import PairConfig
from backend.domain import Pair, SftSample, Templates
from backend.errors import UserError

if TYPE_CHECKING:
    from backend.store import Store

Progress = Callable[[int, int], None]  # (prompts done, prompts in all)


def rebuild_stage1(store: Store, config: PairConfig, prompt_ids: Sequence[str] | None = None,
                   progress: Progress | None = None) -> dict[str, int]:
    """Rebuild the pairs and RSFT samples of `prompt_ids` (all prompts when None).

    Returns counts by kind: one entry per pair kind built plus 'rsft' and 'prompts' (trees looked at).
    """
    scorer = config.scorer or store.default_scorer()
    if config.scorer and config.scorer not in store.scorers():
        known = ", ".join(store.scorers()) or "none yet"
        raise UserError(f"no scores from scorer {config.scorer!r} in this project (scorers: {known}); "
                        "score the trees first or pick another scorer.")
    with collector_paused():  # the trees and pairs of a rebuild are many small objects
        return _rebuild(store, config, scorer, prompt_ids, progress)


def _rebuild(store: Store, config: PairConfig, scorer: str | None, prompt_ids: Sequence[str] | None,
             progress: Progress | None) -> dict[str, int]:
    ids = list(prompt_ids) if prompt_ids is not None else store.prompt_ids_with_nodes()
    templates_cache: dict[str | None, Templates] = {}

    def templates_for(version: str | None) -> Templates:
        if version not in templates_cache:
            templates_cache[version] = store.templates(version)
        return templates_cache[version]

    pairs: list[Pair] = []
    rsft: list[SftSample] = []
    done = 0
    for prompt, nodes, scores, states in store.tree_inputs(ids, scorer=scorer):
        data = build_stage1(prompt, build_trees(nodes, scores, states), templates_for, config)
        pairs.extend(data.pairs)
        rsft.extend(data.rsft)
        done += 1
        if progress is not None and (done % 500 == 0 or done == len(ids)):
            progress(done, len(ids))
    # Prompts outside `ids` keep their data; with ids=None every prompt with nodes is rebuilt, and a
    # prompt without nodes cannot have Stage I data.
    store.replace_stage1_data(ids, pairs, rsft)
    counts = Counter(pair.kind for pair in pairs)
    counts["rsft"] = len(rsft)
    counts["prompts"] = done
    return dict(counts)

"""Rebuild Stage I training data (DPO pairs + RSFT samples) from the stored, scored, curated trees.

Used by `avr-studio pairs` and the GUI. Loads trees in chunks, builds with `backend.avr.pairs`, adds
the RSFT reference mix (DESIGN.md §1.3.1: the reference answer of every prompt whose tree gave no
RSFT sample, when `PairConfig.rsft_reference_mix`), and replaces the old Stage I data of the same
prompts in one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from backend.avr.pairs import build_stage1
from backend.avr.templates import respond_messages
from backend.avr.tree import build_trees
from backend.collector import collector_paused
from backend.config import PairConfig
from backend.domain import Pair, Prompt, ReferenceAnswer, SftSample, Templates
from backend.errors import UserError

if TYPE_CHECKING:
    from backend.store import Store

Progress = Callable[[int, int], None]  # (prompts done, prompts in all)


def rebuild_stage1(store: Store, config: PairConfig, prompt_ids: Sequence[str] | None = None,
                   progress: Progress | None = None) -> dict[str, int]:
    """Rebuild the pairs and RSFT samples of `prompt_ids` (all prompts when None).

    Returns counts by kind: one entry per pair kind built plus 'rsft', 'reference' (reference
    answers mixed in) and 'prompts' (prompts looked at). With `prompt_ids` None, every prompt with
    nodes or a reference answer is rebuilt.
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
    if prompt_ids is not None:
        ids = list(prompt_ids)
    else:
        ids = store.prompt_ids_with_nodes()
        with_nodes = set(ids)
        ids += [prompt_id for prompt_id in store.prompt_ids_with_reference() if prompt_id not in with_nodes]
    references = store.reference_answers(ids) if config.rsft_reference_mix else {}
    rules = config.rule_set
    templates_cache: dict[str | None, Templates] = {}

    def templates_for(version: str | None) -> Templates:
        if version not in templates_cache:
            templates_cache[version] = store.templates(version)
        return templates_cache[version]

    pairs: list[Pair] = []
    rsft: list[SftSample] = []
    done = 0
    for prompt, nodes, scores, states in store.tree_inputs(ids, scorer=scorer, tree_fields_only=True):
        roots = build_trees(nodes, scores, states, in_creation_order=True) if nodes else None
        data = build_stage1(prompt, roots, templates_for, config) if roots is not None else None
        if data is not None:
            pairs.extend(data.pairs)
            rsft.extend(data.rsft)
        reference = references.get(prompt.id)
        if reference is not None and (data is None or not data.rsft):
            rsft.append(reference_sample(prompt, reference, rules))
        done += 1
        if progress is not None and (done % 500 == 0 or done == len(ids)):
            progress(done, len(ids))
    # Prompts outside `ids` keep their data; with ids=None every prompt with nodes or a reference answer
    # is rebuilt, and any other prompt cannot have Stage I data.
    store.replace_stage1_data(ids, pairs, rsft)
    counts = Counter(pair.kind for pair in pairs)
    counts.update(sample.kind for sample in rsft)
    counts.setdefault("rsft", 0)  # always reported, even when zero
    counts["prompts"] = done
    return dict(counts)


def reference_sample(prompt: Prompt, reference: ReferenceAnswer, rules: str) -> SftSample:
    """A single-turn SFT sample of the prompt's reference answer (the RSFT reference mix)."""
    messages = [*respond_messages(prompt.text, prompt.system), {"role": "assistant", "content": reference.text}]
    return SftSample("reference", prompt.id, messages, (), rules)

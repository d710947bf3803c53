"""The prompts a "Grow Trees" job should take: half-grown trees first (a job that was interrupted, a
slot whose request failed), then prompts with no tree, each in the order they were added. The job
itself generates only the missing slots (`backend.avr.plan.missing_steps`), never a second root."""

from __future__ import annotations

from backend.avr.plan import missing_steps
from backend.avr.tree import build_trees
from backend.config import TreeConfig
from backend.store.tree_growth import count_growth_candidates, growth_candidates

_PAGE = 2000


def prompts_to_grow(store, limit: int, tree: TreeConfig | None = None) -> list[str]:
    """Up to `limit` prompt ids whose round-0 tree is missing or unfinished under `tree`."""
    tree = tree or TreeConfig()
    chosen: list[str] = []
    offset = 0
    while len(chosen) < limit:
        page = growth_candidates(store, tree.criticisms, tree.improvements, _PAGE, offset)
        if not page:
            break
        offset += len(page)
        started = [prompt_id for prompt_id, has_tree in page if has_tree]
        unfinished = set(_unfinished(store, started, tree))
        chosen += [prompt_id for prompt_id, has_tree in page if not has_tree or prompt_id in unfinished]
    return chosen[:limit]


def count_prompts_to_grow(store, tree: TreeConfig | None = None) -> int:
    """About how many prompts `prompts_to_grow` could return (at most that many; exact unless a prompt
    has two roots)."""
    tree = tree or TreeConfig()
    return count_growth_candidates(store, tree.criticisms, tree.improvements)


def _unfinished(store, prompt_ids: list[str], tree: TreeConfig) -> list[str]:
    found = []
    for prompt, nodes, _scores, _states in store.tree_inputs(prompt_ids, tree_fields_only=True):
        if missing_steps(prompt.id, build_trees(nodes, {}, {}, in_creation_order=True), tree):
            found.append(prompt.id)
    return found

"""Deterministic prompt splits: the project's held-out prompts, and the reward model's agreement set.

A prompt's place depends only on (seed, prompt id), never on the order prompts were added, so the same
seed always gives the same split and a prompt added later does not move the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.store import Store

HELDOUT_SALT = "heldout"


def _unit(salt: str, seed: int, prompt_id: str) -> float:
    """A number in [0, 1) fixed by (salt, seed, prompt id).

    >>> _unit("heldout", 42, "abc") == _unit("heldout", 42, "abc") != _unit("heldout", 43, "abc")
    True
    """
    digest = hashlib.sha256(f"{salt}\x1f{seed}\x1f{prompt_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose_heldout(prompt_ids: Sequence[str], seed: int, fraction: float) -> list[str]:
    """The `fraction` of prompts (rounded, at least one when there are two or more) that rank lowest under the
    seeded hash; sorted by id. Nothing is held out when `fraction` is 0 or there is a single prompt.

    >>> choose_heldout(["a", "b", "c", "d"], seed=1, fraction=0.5) == choose_heldout(["d", "c", "b", "a"], 1, 0.5)
    True
    >>> len(choose_heldout([f"p{i}" for i in range(40)], seed=7, fraction=0.1))
    4
    >>> choose_heldout(["only"], seed=1, fraction=0.5)
    []
    """
    ids = sorted(set(prompt_ids))
    count = heldout_count(len(ids), fraction)
    ranked = sorted(ids, key=lambda prompt_id: (_unit(HELDOUT_SALT, seed, prompt_id), prompt_id))
    return sorted(ranked[:count])


def heldout_count(n_prompts: int, fraction: float) -> int:
    """How many of `n_prompts` distinct prompts choose_heldout holds out.

    >>> heldout_count(40, 0.1), heldout_count(1, 0.5), heldout_count(2, 0.9), heldout_count(10, 0)
    (4, 0, 1, 0)
    """
    if fraction <= 0 or n_prompts < 2:
        return 0
    return min(n_prompts - 1, max(1, round(fraction * n_prompts)))


def choose_heldout_in_store(store: Store, seed: int, fraction: float) -> list[str]:
    """choose_heldout over every prompt of the project, ranked by the store (the same hash in SQL):
    hashing 100,000 ids in Python took 0.3-0.6 s, and the training tab plans on every project open."""
    return store.prompt_ids_by_hash(HELDOUT_SALT, seed, heldout_count(store.count_prompts(), fraction))


def in_reward_eval(prompt_id: str, seed: int, fraction: float) -> bool:
    """Whether a prompt's person-decided pairs measure the reward model instead of training it.

    >>> sum(in_reward_eval(f"p{i}", seed=3, fraction=0.25) for i in range(1000)) in range(200, 300)
    True
    """
    return fraction > 0 and _unit("reward-eval", seed, prompt_id) < fraction

"""The store's hash ranking of prompt ids gives the same held-out set as backend.training.splits."""

import pytest

from backend.domain import Prompt
from backend.training.splits import HELDOUT_SALT, choose_heldout, choose_heldout_in_store, heldout_count


@pytest.mark.parametrize("seed, fraction", [(42, 0.05), (1, 0.25), (7, 0.5), (3, 0.999), (5, 0.0)])
def test_heldout_in_the_store_equals_choose_heldout(store, seed, fraction):
    texts = [f"prompt {i}" for i in range(300)] + ["naïve café ☕", "Zebra", "ünïcode"]
    prompts = [Prompt.from_text(t) for t in texts] + [Prompt(id=i, text=f"own id {i}") for i in ("B", "a", "é", "a2")]
    store.add_prompts(prompts)
    ids = [p.id for p in prompts]
    expected = choose_heldout(ids, seed, fraction)
    assert choose_heldout_in_store(store, seed, fraction) == expected
    assert len(expected) == heldout_count(len(ids), fraction)


def test_ranking_by_hash_in_sql_matches_python_for_every_count(store):
    prompts = [Prompt.from_text(f"question {i}") for i in range(60)]
    store.add_prompts(prompts)
    ids = [p.id for p in prompts]
    for count in (1, 2, 17, 59):
        assert store.prompt_ids_by_hash(HELDOUT_SALT, 9, count) == choose_heldout(ids, 9, count / len(ids))
    assert store.prompt_ids_by_hash(HELDOUT_SALT, 9, 0) == []

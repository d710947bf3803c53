"""The one writer of derived data. Whenever primary data changes (a verdict or an edit and their
undo, a job's results, imported trees), the Stage I pairs and RSFT samples of the prompts it touched
are rebuilt here, in the caller's transaction, so the stored pairs always follow the stored trees.
Views only display them; the app and a headless session get the same pairs for the same annotations.
"""

from __future__ import annotations

from collections.abc import Iterable

from backend.config import PairConfig, ScorerSpec
from backend.curation.ranking import RankingSwitch, choose_ranking_scorer, pin_ranking_scorer, ranking_scorer
from backend.curation.rebuild import rebuild_stage1
from backend.errors import UserError


def pair_config(store) -> PairConfig:
    """The rules the project's pairs are built with: the authors' rules, nodes ranked by the
    project's ranking scorer (`backend.curation.ranking`; None while the project has no scores)."""
    scorer = pin_ranking_scorer(store)
    return PairConfig(scorer=scorer if scorer in store.scorers() else None)


def refresh_pairs(store, prompt_ids: Iterable[str]) -> dict[str, int]:
    """Rebuild the Stage I data of these prompts (counts by kind, as `rebuild_stage1` returns them)."""
    ids = sorted({prompt_id for prompt_id in prompt_ids if prompt_id})
    if not ids:
        return {}
    return rebuild_stage1(store, pair_config(store), ids, None)


def switch_ranking_scorer(store, scorer: str, spec: ScorerSpec | None = None) -> RankingSwitch:
    """Rank the project by `scorer` from now on and rebuild every prompt's pairs with it, in one
    transaction. The person's verdicts stay; the reward-decided choices follow the new scorer."""
    if scorer not in store.scorers():
        known = ", ".join(store.scorers()) or "none yet"
        raise UserError(f"No node has a score from {scorer!r} (scorers in this project: {known}); "
                        "score the trees with it first.")
    before = ranking_scorer(store)
    with store.transaction():
        old_pairs = store.pair_ids_decided_by("reward")
        choose_ranking_scorer(store, spec if spec is not None and spec.label == scorer else scorer)
        prompt_ids = store.prompt_ids_with_nodes()
        refresh_pairs(store, prompt_ids)
        new_pairs = store.pair_ids_decided_by("reward")
    return RankingSwitch(before, scorer, len(prompt_ids), len(new_pairs), len(old_pairs ^ new_pairs))

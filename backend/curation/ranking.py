"""The project's one ranking scorer: the scorer whose scores rank nodes in every view, decide the
reward-decided pairs, and that every job the app submits scores with.

It is a project setting (`Store.set_primary_scorer`), chosen explicitly. A project that has scores
but no choice yet gets one pinned the first time it is opened or its pairs are rebuilt: the scorer
it ranked by until then (the most recent one). From then on a job that brings another scorer adds
its scores beside it and never changes the ranking; only `backend.curation.derived.switch_ranking_scorer` does
(it rebuilds the pairs, so it lives with the one writer of derived data).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.config import SCORER_KINDS, ScorerSpec
from backend.errors import UserError
from backend.store.scores import PRIMARY_SCORER_SETTING

# The full spec of the ranking scorer when the app knows it (a label alone loses a model folder's path).
RANKING_SPEC_SETTING = "ranking_scorer_spec"
# A scorer model named after a reward-model run of the project (backend.training.models.REWARD_MODEL_PREFIX;
# not imported: that module is heavy).
REWARD_RUN_PREFIX = "rm:"


@dataclass(frozen=True)
class RankingSwitch:
    """What switching the ranking scorer did: before, after, prompts rebuilt, and the reward-decided
    pairs it changed (pairs no longer made plus pairs newly made)."""

    before: str | None
    after: str
    prompts: int
    reward_pairs: int  # reward-decided pairs stored after the switch
    changed_pairs: int


def ranking_scorer(store) -> str | None:
    """The scorer that ranks this project's nodes (None before any score exists)."""
    return store.default_scorer()


def pin_ranking_scorer(store) -> str | None:
    """Make the ranking an explicit setting if it is not one yet; returns the ranking scorer.

    Until pinned, `Store.default_scorer` follows the most recently written score, so a job with
    another scorer would silently re-rank the whole project (and its reward-decided pairs).
    """
    pinned = store.get_setting(PRIMARY_SCORER_SETTING)
    if pinned:
        return str(pinned)
    current = store.default_scorer()
    if current:
        store.set_primary_scorer(current)
    return current


def spec_from_label(label: str, known: list[ScorerSpec] | tuple[ScorerSpec, ...] = ()) -> ScorerSpec | None:
    """The ScorerSpec that writes scores named `label`: one of `known` with that label, else the
    spec a bare 'kind:model' label stands for when it needs no path or URL, else None.

    >>> spec_from_label("relevance:embedded").to_dict()["kind"]
    'relevance'
    >>> spec_from_label("classifier:my-rm") is None  # the folder's path is not in the label
    True
    >>> spec_from_label("classifier:rm:reward-20261202-101500-a1b2c3").model  # a reward-model run of the project
    'rm:reward-20261202-101500-a1b2c3'
    """
    for spec in known:
        if spec.label == label:
            return spec
    kind, _, model = label.partition(":")
    if kind in ("likelihood", "relevance") and model == "embedded":
        return ScorerSpec(kind=kind, model=model)
    if kind == "classifier" and model.startswith(REWARD_RUN_PREFIX) and model[len(REWARD_RUN_PREFIX):]:
        return ScorerSpec(kind=kind, model=model)  # the worker finds the run's folder in the project
    return None


def ranking_scorer_spec(store, known: list[ScorerSpec] | tuple[ScorerSpec, ...] = ()) -> ScorerSpec | None:
    """The spec of the ranking scorer: the one stored with it, one of `known`, or one its label names."""
    label = ranking_scorer(store)
    if label is None:
        return None
    stored = store.get_setting(RANKING_SPEC_SETTING)
    if isinstance(stored, dict):
        try:
            spec = ScorerSpec.from_dict(stored)
        except (TypeError, ValueError):
            spec = None
        if spec is not None and spec.label == label:
            return spec
    return spec_from_label(label, known)


def job_scorers(store, asked: list[ScorerSpec]) -> list[ScorerSpec]:
    """The scorers a job scores with: the ranking scorer first, then any other asked for.

    A project with no ranking scorer yet takes the first one asked for (pinned here, so the job's
    results rank the project the same way it shows them). Raises UserError when the ranking scorer
    cannot be run from this app (a model folder whose path the label does not keep).
    """
    ranking = pin_ranking_scorer(store)
    if ranking is None:
        if asked:
            choose_ranking_scorer(store, asked[0])
        return list(asked)
    spec = ranking_scorer_spec(store, asked)
    if spec is None:
        kinds = ", ".join(SCORER_KINDS)
        raise UserError(f"This project ranks by {ranking}, which the app cannot run (it does not know that "
                        f"scorer's model folder or server; kinds: {kinds}). Set it in File → Settings → Scorer, "
                        "or switch the project's ranking scorer (Curate → Ranking Scorer…).")
    return [spec, *(s for s in asked if s.label != spec.label)]


def choose_ranking_scorer(store, spec: ScorerSpec | str) -> None:
    """Set the ranking scorer (a spec keeps its folder or URL for later jobs); no pairs rebuilt."""
    label = spec if isinstance(spec, str) else spec.label
    store.set_primary_scorer(label)
    store.set_setting(RANKING_SPEC_SETTING, None if isinstance(spec, str) else spec.to_dict())

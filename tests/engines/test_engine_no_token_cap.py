"""`SamplingConfig.max_new_tokens=None` (the paper preset: no cap below the model's context) in every
engine: the transformers engine generates up to the model's positions, in its continuous-batching loop
and in its generate() path; the server engine leaves `max_tokens` out, so the server applies its own
limit (vLLM: the model's context); the vLLM engine passes None on, which vLLM reads the same way."""

import pytest

from backend.config import ModelSpec, SamplingConfig
from backend.engines.base import GenRequest
from backend.engines.loading import chat_prompt
from backend.engines.openai_engine import chat_payload
from backend.engines.transformers_engine import TransformersEngine
from tests.support.tiny_models import tiny_chat_model_dir

POSITIONS = 1024  # the tiny chat model's max_position_embeddings (tests/support/tiny_models.py)


def _long_question(tokenizer) -> tuple[list[dict], int]:
    """A user turn whose chat prompt leaves only a few positions of the model's context, and how many."""
    words = 0
    while True:
        words += 1
        messages = [{"role": "user", "content": "a " * words}]
        room = POSITIONS - len(tokenizer(chat_prompt(tokenizer, messages), add_special_tokens=False)["input_ids"])
        if room <= 12:
            return messages, room


@pytest.mark.parametrize("path", ["continuous", "generate"])
def test_no_cap_generates_up_to_the_models_context(path, monkeypatch):
    if path == "generate":  # the path of sliding-window models, which the tiny model is not
        monkeypatch.setattr(TransformersEngine, "continuous", property(lambda self: False))
    engine = TransformersEngine(ModelSpec(name=str(tiny_chat_model_dir()), dtype="float32", device="cpu"))
    try:
        messages, room = _long_question(engine.tokenizer)
        assert 6 <= room <= 12
        # Greedy decoding of the random tiny model repeats a newline and never ends by itself.
        [result] = engine.generate([GenRequest("k", messages, sampling=SamplingConfig(
            temperature=0.0, max_new_tokens=None, repetition_penalty=1.0))])
        assert result.error is None and result.tokens == room
        [capped] = engine.generate([GenRequest("k", messages, sampling=SamplingConfig(
            temperature=0.0, max_new_tokens=5, repetition_penalty=1.0))])
        assert capped.tokens == 5
    finally:
        engine.close()


def test_the_server_engine_leaves_max_tokens_to_the_server():
    messages = [{"role": "user", "content": "Hi"}]
    uncapped = chat_payload("m", GenRequest("k", messages, sampling=SamplingConfig(max_new_tokens=None)))
    capped = chat_payload("m", GenRequest("k", messages, sampling=SamplingConfig(max_new_tokens=64)))
    assert "max_tokens" not in uncapped and capped["max_tokens"] == 64

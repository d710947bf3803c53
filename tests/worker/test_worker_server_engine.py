"""Stage I and chains through the OpenAI-server engine (a real local HTTP server): children dispatched as
parents finish, constrained ratings filled while the engine's event loop is running. The paper's 5 samples per criticism
through a server are tested in test_worker_criticism_samples.py."""

from collections import Counter

import pytest

from backend import protocol
from backend.avr.templates import DEFAULT_TEMPLATES
from backend.config import ModelSpec, SamplingConfig
from backend.job_requests import Stage1Request
from tests.support.server_fixture import _shared_server, openai_server, rater_server  # noqa: F401 - fixtures
from tests.support.tiny_models import (
    reference_reward,
    tiny_rater_model_dir,
    tiny_reward_model_dir,
)
from tests.worker.worker_helpers import prepared, prompts, records, run_to_end


def test_stage1_over_an_openai_server_with_constrained_ratings(worker, rater_server, tmp_path,  # noqa: F811
                                                               tiny_scorer):
    # The rater model ranks rating digits among its likeliest tokens (the random tiny model never does,
    # so with it every expected rating would be None and the comparison below would prove little).
    model = ModelSpec(name=str(tiny_rater_model_dir()), engine="openai", base_urls=[rater_server.base_url],
                      rating_mode="constrained", max_concurrency=4)
    request = Stage1Request(prompts(2), DEFAULT_TEMPLATES, model, [tiny_scorer], SamplingConfig(max_new_tokens=6, seed=0))
    events = run_to_end(worker, prepared(request, tmp_path))
    assert isinstance(events[-1], protocol.JobFinished), events[-1]
    nodes = records(events, "node")
    assert Counter(n["prompt_id"] for n in nodes) == {"p0": 7, "p1": 7}
    assert len(records(events, "score")) == 10
    by_id = {n["id"]: n for n in nodes}
    criticisms = [n for n in nodes if n["kind"] == "criticism"]
    texts = {p.id: p.text for p in request.prompts}
    expected = [_rating_from_the_model(texts[c["prompt_id"]], by_id[c["parent_id"]]["text"], c["text"])
                for c in criticisms]
    assert [c["self_rating"] for c in criticisms] == expected  # the tiny model never writes one itself
    assert any(rating is not None for rating in expected)  # numbers were compared, not only "no rating"
    warnings = [e.text for e in events if isinstance(e, protocol.Log) and e.level == "warning"]
    filled = sum(rating is not None for rating in expected)
    assert f"{filled} ratings were filled by constrained digit completion" in warnings[0]
    # each answer's score is the reward model's own output for it (a direct call on the conversation)
    scores = {r["node_id"]: r["value"] for r in records(events, "score")}
    for node in (n for n in nodes if n["kind"] in ("response", "improvement")):
        assert scores[node["id"]] == pytest.approx(
            reference_reward(tiny_reward_model_dir(), texts[node["prompt_id"]], node["text"]), abs=1e-4)


def _rating_from_the_model(prompt: str, answer: str, criticism: str) -> int | None:
    """The constrained rating computed here by a direct forward of the rater model: of its 20 likeliest
    next tokens after the criticism and "Rating: [[", the likeliest that reads as 1..10 (what a server's
    top log-probabilities give the engine), or None when none of them does."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from backend.avr.templates import criticize_messages
    from backend.engines.base import RATING_PROMPT_SUFFIX
    from backend.engines.loading import chat_prompt

    folder = tiny_rater_model_dir()
    tokenizer, model = AutoTokenizer.from_pretrained(folder), AutoModelForCausalLM.from_pretrained(folder).eval()
    text = chat_prompt(tokenizer, criticize_messages(prompt, answer, DEFAULT_TEMPLATES)) + criticism.rstrip() \
        + RATING_PROMPT_SUFFIX
    with torch.no_grad():
        logits = model(**tokenizer(text, return_tensors="pt", add_special_tokens=False)).logits[0, -1]
    for token_id in logits.topk(20).indices.tolist():
        token = tokenizer.decode([token_id]).strip()
        if token.isdigit() and 1 <= int(token) <= 10:
            return int(token)
    return None

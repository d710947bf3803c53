"""Stage I through the OpenAI-server engine (a real local HTTP server): children dispatched as parents
finish, and constrained ratings filled while the engine's event loop is running."""

from collections import Counter

from backend import protocol
from backend.avr.templates import DEFAULT_TEMPLATES
from backend.config import ModelSpec, SamplingConfig
from backend.job_requests import Stage1Request
from tests.support.server_fixture import _shared_server, openai_server  # noqa: F401 - fixtures
from tests.support.tiny_models import tiny_chat_model_dir
from tests.worker.worker_helpers import prepared, prompts, records, run_to_end


def test_stage1_over_an_openai_server_with_constrained_ratings(worker, openai_server, tmp_path,  # noqa: F811
                                                               tiny_scorer):
    model = ModelSpec(name=str(tiny_chat_model_dir()), engine="openai", base_urls=[openai_server.base_url],
                      rating_mode="constrained", max_concurrency=4)
    request = Stage1Request(prompts(2), DEFAULT_TEMPLATES, model, [tiny_scorer], SamplingConfig(max_new_tokens=6, seed=0))
    events = run_to_end(worker, prepared(request, tmp_path))
    assert isinstance(events[-1], protocol.JobFinished), events[-1]
    nodes = records(events, "node")
    assert Counter(n["prompt_id"] for n in nodes) == {"p0": 7, "p1": 7}
    criticisms = [n for n in nodes if n["kind"] == "criticism"]
    assert all(n["self_rating"] is None or 1 <= n["self_rating"] <= 10 for n in criticisms)
    assert len(records(events, "score")) == 10
    warnings = [e.text for e in events if isinstance(e, protocol.Log) and e.level == "warning"]
    if any(n["self_rating"] is None for n in criticisms) or warnings:  # the constrained path ran in the loop
        assert "filled by constrained digit completion" in warnings[0]

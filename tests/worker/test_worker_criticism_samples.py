"""The paper's rule for a criticism's rating: 5 samples in all, a failed request counting as one, then
dropped. Counted by a real OpenAI-compatible server (tests/support/openai_server.py) on the tiny model,
which never writes "Rating: [[k]]": in drop mode every sample it answers is unrated."""

from backend import protocol
from backend.avr.templates import DEFAULT_TEMPLATES
from backend.config import ChainConfig, ModelSpec, SamplingConfig, TreeConfig
from backend.domain import Node
from backend.job_requests import ChainRequest, ChainStart, Stage1Request
from tests.support.server_fixture import _shared_server, openai_server  # noqa: F401 - fixtures
from tests.support.tiny_models import tiny_chat_model_dir
from tests.worker.worker_helpers import prepared, prompts, records, run_to_end

ANSWER = "Baking soda cleans and bakes."


def _drop_mode_model(openai_server):  # noqa: F811
    return ModelSpec(name=str(tiny_chat_model_dir()), engine="openai", base_urls=[openai_server.base_url],
                     rating_mode="drop", max_concurrency=4)


def _rating_warning(events) -> str:
    [text] = [e.text for e in events if isinstance(e, protocol.Log) and e.level == "warning"
              and "criticisms" in e.text]
    return text


def test_stage1_samples_each_criticism_five_times_in_all_a_failed_request_counting_as_one(
        worker, openai_server, tmp_path, tiny_scorer):  # noqa: F811
    answer = Node("y", "p0", "response", ANSWER, model="m")  # stored: the job only criticizes it
    request = Stage1Request(prompts(1), DEFAULT_TEMPLATES, _drop_mode_model(openai_server), [tiny_scorer],
                            SamplingConfig(max_new_tokens=6, seed=0), TreeConfig(), known_nodes=[answer])
    # The first request fails for good after the engine's 1 + 3 attempts; the 4 after it are unrated.
    openai_server.control(fail_first=4, reset_stats=True)
    events = run_to_end(worker, prepared(request, tmp_path))
    assert openai_server.stats()["requests"] == 4 + 4  # 5 samples of the answer's 2 criticisms, asked together
    assert records(events, "node") == []
    summary = events[-1].summary
    assert (summary["criticisms_dropped"], summary["ratings_unparsed"]) == (2, 4 * 2)
    warning = _rating_warning(events)
    assert warning.startswith("No criticism was kept.") and "1 criticism requests failed" in warning
    assert "dropped 2 criticisms after 5 samples each" in warning


def test_a_chain_round_samples_each_criticism_five_times_in_all(worker, openai_server, tmp_path,  # noqa: F811
                                                                 tiny_scorer):
    [prompt] = prompts(1)
    request = ChainRequest([prompt], DEFAULT_TEMPLATES, _drop_mode_model(openai_server), tiny_scorer,
                           SamplingConfig(max_new_tokens=6, seed=0), ChainConfig(rounds=2, start="best"),
                           starts={prompt.id: ChainStart("y", ANSWER)})
    openai_server.control(fail_first=4, reset_stats=True)
    events = run_to_end(worker, prepared(request, tmp_path))
    assert isinstance(events[-1], protocol.JobFinished), events[-1]
    assert openai_server.stats()["requests"] == 4 + 4  # round 1 only: nothing was kept, so the chain ends
    [chain] = records(events, "chain")
    assert chain["node_ids"] == ["y"] and chain["long_thought_node_id"] is None
    assert events[-1].summary["criticisms_dropped"] == 2
    assert "dropped 2 criticisms after 5 samples each" in _rating_warning(events)

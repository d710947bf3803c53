"""The OpenAI-server engine against a real test server process (tests/support/openai_server.py)."""

import pytest

from backend.config import ModelSpec, SamplingConfig
from backend.engines import GenRequest, ListSource, make_engine
from backend.engines.openai_engine import OpenAIEngine, ReplicaPool
from backend.engines.rating import parse_rating_text
from backend.engines.transformers_engine import TransformersEngine
from tests.support import server_fixture
from tests.support.single_thread import one_torch_thread  # noqa: F401 - autouse fixture
from tests.support.tiny_models import (
    RATER_EXAMPLES,
    reference_rating,
    tiny_chat_model_dir,
    tiny_rater_model_dir,
)

QUICK = SamplingConfig(max_new_tokens=6)
GREEDY = SamplingConfig(temperature=0.0, max_new_tokens=10, repetition_penalty=1.0)

_shared_server = server_fixture._shared_server  # pytest fixtures used below
openai_server = server_fixture.openai_server
rater_server = server_fixture.rater_server


def user(text):
    return [{"role": "user", "content": text}]


def server_engine(server, retries=3, **spec_fields) -> OpenAIEngine:
    spec = ModelSpec(**{"name": "", "engine": "openai", "base_urls": [server.base_url], **spec_fields})
    return OpenAIEngine(spec, retries=retries, backoff_s=0.02)


def test_n_samples_come_back_as_one_request_each(openai_server):
    engine = make_engine(ModelSpec(name="", engine="openai", base_urls=[openai_server.base_url]))
    results = engine.generate([GenRequest(f"r{i}", user(f"q{i}"), n=3, sampling=QUICK) for i in range(4)])
    assert [len(r.texts) for r in results] == [3, 3, 3, 3]
    assert all(r.error is None and r.tokens > 0 for r in results)
    assert openai_server.stats()["requests"] == 4  # siblings travel as one n= request
    assert engine.model_name == str(tiny_chat_model_dir())  # asked the server which model it serves


def test_greedy_siblings_are_asked_once_and_copied(openai_server):
    """vLLM refuses n > 1 at temperature 0 (HTTP 400); greedy samples are one text anyway."""
    engine = server_engine(openai_server)
    result = engine.generate([GenRequest("g", user("hi"), n=3, sampling=GREEDY)])[0]
    alone = engine.generate([GenRequest("a", user("hi"), sampling=GREEDY)])[0]
    assert result.error is None and result.texts == alone.texts * 3 and result.tokens == 3 * alone.tokens


def test_at_most_max_concurrency_requests_are_in_flight(openai_server):
    openai_server.control(delay_s=0.3)
    engine = server_engine(openai_server, max_concurrency=3)
    results = engine.generate([GenRequest(str(i), user(str(i)), sampling=QUICK) for i in range(9)])
    assert all(r.error is None for r in results)
    assert openai_server.stats()["max_in_flight"] == 3


def test_children_are_sent_while_other_requests_are_still_in_flight(openai_server):
    """A tree: each root's result makes two children ready; they must not wait for the other roots."""
    openai_server.control(delay_s=0.2)

    class TreeSource(ListSource):
        def __init__(self, roots):
            super().__init__(roots)
            self._expected = len(roots) * 3
            self.root_results = 0
            self.children_sent_early = 0

        def next_requests(self, limit):
            taken = super().next_requests(limit)
            roots_outstanding = self.root_results < 4
            self.children_sent_early += sum(1 for r in taken if "/" in r.key and roots_outstanding)
            return taken

        def on_result(self, result):
            super().on_result(result)
            if "/" not in result.key:
                self.root_results += 1
                # Children go first, as a job dispatches a node's children as soon as it exists.
                self._pending[:0] = [GenRequest(f"{result.key}/{c}", user(result.texts[0]), sampling=QUICK)
                                     for c in range(2)]

    source = TreeSource([GenRequest(f"root{i}", user(f"prompt {i}"), sampling=QUICK) for i in range(4)])
    server_engine(openai_server, max_concurrency=2).run(source)
    assert len(source.results) == 12 and all(r.error is None for r in source.results.values())
    assert source.children_sent_early > 0


def test_a_server_that_times_out_gives_an_error_after_retries(openai_server):
    openai_server.control(delay_s=1.5)
    engine = server_engine(openai_server, timeout_s=0.3, retries=1)
    result = engine.generate([GenRequest("slow", user("hi"), sampling=QUICK)])[0]
    assert result.texts == [] and "did not answer in time" in result.error and "2 attempt" in result.error


@pytest.mark.parametrize("mode, words", [("text", "not JSON"), ("no-choices", "no 'choices'"),
                                         ("wrong-count", "asked for n=2 samples, got 3")])
def test_garbage_replies_become_a_clear_per_request_error(openai_server, mode, words):
    openai_server.control(garbage=mode)
    result = server_engine(openai_server, retries=1).generate([GenRequest("g", user("hi"), n=2, sampling=QUICK)])[0]
    assert result.error is not None and words in result.error


def test_transient_server_errors_are_retried(openai_server):
    openai_server.control(fail_first=2)
    result = server_engine(openai_server, retries=3).generate([GenRequest("a", user("hi"), sampling=QUICK)])[0]
    assert result.error is None and len(result.texts) == 1


def test_a_dead_replica_is_routed_around(openai_server):
    dead = "http://127.0.0.1:9/v1"  # the discard port: nothing listens there
    spec = ModelSpec(name=str(tiny_chat_model_dir()), engine="openai", base_urls=[dead, openai_server.base_url],
                     max_concurrency=2, timeout_s=5)
    results = OpenAIEngine(spec, retries=3, backoff_s=0.01).generate(
        [GenRequest(str(i), user(str(i)), sampling=QUICK) for i in range(4)])
    assert all(r.error is None for r in results)


def test_the_assistant_prefix_is_continued_like_the_local_engine(openai_server):
    request = GenRequest("p", user("Name a city."), sampling=GREEDY, assistant_prefix="The city is")
    remote = server_engine(openai_server).generate([request])[0].texts[0]
    local = TransformersEngine.from_folder(tiny_chat_model_dir(), dtype="float32", device="cpu")
    assert remote == local.generate([request])[0].texts[0]


def test_server_ratings_are_the_models_most_likely_digit(rater_server):
    """Each rating equals a direct model call's most likely digit (the rater model writes different
    digits for different conversations, so a fixed or shifted answer fails)."""
    conversations = [user(question) for question, _, _ in RATER_EXAMPLES] + [user("What is 2+2?")]
    criticisms = [criticism for _, criticism, _ in RATER_EXAMPLES] + ["Poor."]
    ratings = server_engine(rater_server).rating_digits(conversations, criticisms)
    expected = [reference_rating(tiny_rater_model_dir(), conversation, criticism)
                for conversation, criticism in zip(conversations, criticisms, strict=True)]
    assert ratings == expected
    assert expected[:3] == [int(digit) for _, _, digit in RATER_EXAMPLES]  # what the rater was taught


def test_a_model_that_ranks_no_digit_gives_no_rating(openai_server):
    """The random tiny model ranks no digit among its 20 most likely tokens there: no rating."""
    assert reference_rating(tiny_chat_model_dir(), user("hi"), "Fine.") is None
    assert server_engine(openai_server).rating_digits([user("hi")], ["Fine."]) == [None]


def test_rating_text_parsing():
    assert [parse_rating_text(t) for t in ("7]]", " 10]]", "0]]", "11", "x]]")] == [7, 10, None, None, None]


def test_the_least_loaded_replica_is_picked():
    pool = ReplicaPool(["http://a/v1", "http://b/v1/"])
    first, second = pool.pick(), pool.pick()
    assert {first, second} == {"http://a/v1", "http://b/v1"}
    pool.release(first)
    assert pool.pick() == first


def test_cancel_abandons_requests_in_flight(openai_server):
    openai_server.control(delay_s=0.5)
    source = ListSource([GenRequest(str(i), user(str(i)), sampling=QUICK) for i in range(12)])
    source._cancelled = lambda: len(source.results) >= 2
    server_engine(openai_server, max_concurrency=2).run(source)
    assert 2 <= len(source.results) < 12


def test_server_rating_is_the_most_likely_digit_token_not_the_greedy_text():
    from backend.engines.openai_engine import best_rating_token

    def body(tokens):
        return {"choices": [{"logprobs": {"content": [{"top_logprobs": [
            {"token": t, "logprob": lp} for t, lp in tokens]}]}}]}

    # A small model copies the template's "[[k]]": the letter wins, the best digit is the rating.
    assert best_rating_token(body([("k", -0.2), ("3", -2.5), ("8", -1.9), ("10", -3.0)])) == 8
    assert best_rating_token(body([(" 10", -0.5), ("2", -0.9)])) == 10
    assert best_rating_token(body([("0", -0.1), ("11", -0.2), ("x", -0.3)])) is None
    assert best_rating_token({"choices": [{}]}) is None  # a server that sends no logprobs

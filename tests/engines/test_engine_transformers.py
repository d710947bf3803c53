"""The transformers engine on a tiny random model: batching, padding, seeds, prefixes, cancel, ratings."""

import time

import pytest

from backend.config import ModelSpec, SamplingConfig
from backend.engines import GenRequest, ListSource, make_engine
from backend.errors import ModelLoadError
from tests.support.single_thread import one_torch_thread  # noqa: F401 - autouse fixture
from tests.support.tiny_models import tiny_reward_model_dir, write_tiny_chat_model

GREEDY = SamplingConfig(temperature=0.0, max_new_tokens=12, repetition_penalty=1.0)


def user(text):
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    # A wider weight init than the shared tiny model, so greedy outputs differ between prompts.
    folder = write_tiny_chat_model(tmp_path_factory.mktemp("chat") / "m", seed=3, initializer_range=0.3)
    with make_engine(ModelSpec(name=str(folder), dtype="float32", device="cpu", batch_size=8)) as engine:
        yield engine


def test_batched_requests_return_n_texts_each_with_token_counts(engine):
    sampling = SamplingConfig(max_new_tokens=6, seed=0)
    requests = [GenRequest(f"r{i}", user(f"question {i}"), n=2, sampling=sampling) for i in range(5)]
    results = engine.generate(requests)
    assert [r.key for r in results] == [f"r{i}" for i in range(5)]
    assert all(len(r.texts) == 2 and 0 < r.tokens <= 12 and r.error is None for r in results)


def test_left_padding_does_not_change_a_greedy_answer(engine):
    short = GenRequest("short", user("hi"), sampling=GREEDY)
    alone = engine.generate([short])[0].texts[0]
    long = GenRequest("long", user("a much longer question about baking soda and Paris, the capital"), sampling=GREEDY)
    batched = engine.generate([long, short])[1].texts[0]
    assert alone and batched == alone


def test_the_same_seed_gives_the_same_samples(engine):
    sampling = SamplingConfig(temperature=1.0, top_p=1.0, max_new_tokens=10, seed=123)
    first = engine.generate([GenRequest("a", user("hello"), n=3, sampling=sampling)])[0].texts
    second = engine.generate([GenRequest("a", user("hello"), n=3, sampling=sampling)])[0].texts
    assert first == second
    assert len(set(first)) > 1  # the n rows are distinct samples, not one sample copied


def test_assistant_prefix_continues_the_assistant_turn(engine):
    prefix = "Rating: [["
    with_prefix = engine.generate([GenRequest("p", user("hi"), sampling=GREEDY, assistant_prefix=prefix)])[0]
    # The same text as generating from a conversation whose template already ends with the prefix.
    prompt = engine.tokenizer.apply_chat_template(user("hi"), add_generation_prompt=True, tokenize=False) + prefix
    ids = engine.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    out = engine.model.generate(**ids, max_new_tokens=12, do_sample=False, pad_token_id=engine.tokenizer.pad_token_id)
    expected = engine.tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert with_prefix.texts[0] == expected
    assert not with_prefix.texts[0].startswith(prefix)


def test_a_level_of_many_requests_is_split_into_batches_of_batch_size(engine):
    seen_limits = []

    class Recording(ListSource):
        def next_requests(self, limit):
            seen_limits.append(limit)
            return super().next_requests(limit)

    short = SamplingConfig(temperature=0.0, max_new_tokens=3)
    source = Recording([GenRequest(str(i), user(str(i)), n=3, sampling=short) for i in range(7)])
    engine.run(source)
    assert len(source.results) == 7 and source.is_done()
    assert max(seen_limits) <= engine.spec.batch_size


def test_cancel_stops_a_long_batch_within_a_few_steps(engine):
    calls = {"n": 0}

    def cancelled():
        calls["n"] += 1
        return calls["n"] > 5  # becomes true during the first batch

    long = SamplingConfig(temperature=1.0, max_new_tokens=900, repetition_penalty=1.0)
    source = ListSource([GenRequest("a", user("go on"), n=2, sampling=long)], cancelled=cancelled)
    started = time.monotonic()
    engine.run(source)
    assert source.results == {}  # a cut batch reports nothing
    assert time.monotonic() - started < 5


def test_rating_digits_are_numbers_from_1_to_10(engine):
    conversations = [user("Name a city."), user("What is 2+2?")]
    ratings = engine.rating_digits(conversations, ["The answer is vague.", "Correct and short."])
    assert len(ratings) == 2 and all(isinstance(r, int) and 1 <= r <= 10 for r in ratings)


def test_a_missing_folder_says_so(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        make_engine(ModelSpec(name=str(tmp_path / "nope")))


def test_a_folder_without_config_is_not_a_model_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelLoadError, match="no config.json"):
        make_engine(ModelSpec(name=str(tmp_path)))


def test_a_config_without_weights_names_the_missing_files(tmp_path):
    (tmp_path / "config.json").write_text('{"architectures": ["LlamaForCausalLM"]}')
    with pytest.raises(ModelLoadError, match="no weights"):
        make_engine(ModelSpec(name=str(tmp_path)))


def test_a_reward_classifier_is_refused_as_a_generator():
    with pytest.raises(ModelLoadError, match="reward classifier"):
        make_engine(ModelSpec(name=str(tiny_reward_model_dir()), dtype="float32"))


def test_the_file_check_settings_run_gives_the_loaders_message_without_loading(tmp_path):
    from backend.engines.loading import generator_problem, scorer_problem

    missing = str(tmp_path / "nope")
    assert "does not exist" in generator_problem(missing, "transformers")
    assert "does not exist" in generator_problem(missing, "vllm")  # written as a path: checked for vLLM too
    assert generator_problem("meta-llama/Llama-3.1-8B-Instruct", "vllm") is None  # a hub id vLLM may hold
    assert generator_problem("any-served-name", "openai") is None
    assert generator_problem("embedded", "transformers") is None
    assert "no config.json" in generator_problem(str(tmp_path), "transformers")
    assert "does not exist" in scorer_problem("likelihood", missing)
    assert scorer_problem("likelihood", "embedded") is None and scorer_problem("server", "x") is None
    assert "needs a model folder" in scorer_problem("classifier", "")
    assert scorer_problem("likelihood", "embedded:smollm2-135m-instruct") is None  # the bundled model's full name
    assert scorer_problem("relevance", "") is None and "needs a model folder" in scorer_problem("likelihood", "")
    assert scorer_problem("classifier", str(tiny_reward_model_dir())) is None

"""The transformers engine's continuous-batching loop on tiny random models, checked against
`model.generate` and transformers' own logits processors."""

import pytest
import torch

from backend.config import ModelSpec, SamplingConfig
from backend.engines import GenRequest, ListSource, make_engine
from backend.engines.sampler import TokenSampler
from tests.support.single_thread import one_torch_thread  # noqa: F401 - autouse fixture
from tests.support.tiny_models import build_tokenizer, write_tiny_chat_model

GREEDY = SamplingConfig(temperature=0.0, max_new_tokens=16, repetition_penalty=1.3)


def user(text):
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_tiny_chat_model(tmp_path_factory.mktemp("chat") / "m", seed=3, initializer_range=0.3)


@pytest.fixture(scope="module")
def engine(folder):
    # Three rows, so most requests wait for a row and are admitted as others finish.
    with make_engine(ModelSpec(name=str(folder), dtype="float32", device="cpu", batch_size=3)) as engine:
        yield engine


def generate_alone(engine, messages, sampling=GREEDY):
    """The reference: this one conversation through model.generate, greedy."""
    tok = engine.tokenizer
    ids = tok(tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False), return_tensors="pt",
              add_special_tokens=False)
    out = engine.model.generate(**ids, max_new_tokens=sampling.max_new_tokens, do_sample=False,
                                repetition_penalty=sampling.repetition_penalty, pad_token_id=tok.pad_token_id,
                                eos_token_id=sorted(engine._stop_ids))
    return tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


class Recording(ListSource):
    """Records the order of results; with `follow_up`, each answer is asked about again (as a
    criticism continues its answer's conversation), key "<key>-<sample>"."""

    def __init__(self, requests, follow_up=False):
        super().__init__(requests)
        self.follow = {r.key: r for r in requests} if follow_up else {}
        self._expected += sum(r.n for r in self.follow.values())
        self.order: list[str] = []

    def on_result(self, result):
        super().on_result(result)
        self.order.append(result.key)
        request = self.follow.get(result.key)
        for j, text in enumerate(result.texts if request else []):
            conversation = [*request.messages, {"role": "assistant", "content": text}, *user("And why?")]
            self._pending.append(GenRequest(f"{result.key}-{j}", conversation, sampling=GREEDY))


def test_greedy_texts_match_generate_while_rows_are_refilled(engine):
    requests = [GenRequest(f"r{i}", user("word " * (i * 7 % 13) + f"q{i}"), n=1 + i % 3, sampling=GREEDY)
                for i in range(8)]
    results = engine.generate(requests)
    assert engine.continuous
    for request, result in zip(requests, results, strict=True):
        assert result.texts == [generate_alone(engine, request.messages)] * request.n


def test_a_request_is_prefilled_once_for_all_its_samples(engine):
    request = GenRequest("a", user("one prompt, four samples"), n=4, sampling=SamplingConfig(max_new_tokens=4, seed=1))
    engine.generate([request])
    prompt_tokens = len(engine.tokenizer.apply_chat_template(request.messages, add_generation_prompt=True,
                                                              tokenize=True)["input_ids"])
    stats = engine._continuous_batcher().stats
    # Three rows: samples 1-3 share one prefill; sample 4 waits for a row and finds the prompt in the
    # prefix store, so only its last token is run again (for its logits).
    assert (stats.prefilled, stats.shared, stats.reused) == (prompt_tokens + 1, 2 * prompt_tokens, prompt_tokens - 1)


def test_a_prompt_that_continues_a_finished_sequence_reuses_its_keys_and_gets_the_same_text(engine):
    source = Recording([GenRequest("q0", user("hello there"), n=2, sampling=GREEDY)], follow_up=True)
    engine.run(source)
    stats = engine._continuous_batcher().stats
    assert stats.reused > 0 and source.is_done()
    for j in range(2):
        conversation = [*user("hello there"), {"role": "assistant", "content": source.results["q0"].texts[j]},
                        *user("And why?")]
        assert source.results[f"q0-{j}"].texts[0] == generate_alone(engine, conversation)


def test_short_requests_report_before_a_long_one_finishes(folder):
    with make_engine(ModelSpec(name=str(folder), dtype="float32", device="cpu", batch_size=2)) as engine:
        long = GenRequest("long", user("long"), sampling=SamplingConfig(temperature=0.0, max_new_tokens=40))
        engine._stop_ids = set()  # no early end: "long" runs its 40 tokens
        short = [GenRequest(f"s{i}", user(f"short {i}"), sampling=SamplingConfig(temperature=0.0, max_new_tokens=3))
                 for i in range(4)]
        source = Recording([long, *short])
        engine.run(source)
    assert source.order == ["s0", "s1", "s2", "s3", "long"]  # a whole-batch engine reports "long" with s0
    assert source.results["long"].tokens == 40


def test_the_same_seed_gives_the_same_samples_however_the_rows_are_filled(folder, engine):
    sampling = SamplingConfig(temperature=1.0, top_p=0.9, max_new_tokens=10, seed=42)
    requests = [GenRequest(f"k{i}", user(f"prompt {i}"), n=2, sampling=sampling) for i in range(5)]
    first = [r.texts for r in engine.generate(requests)]
    assert first == [r.texts for r in engine.generate(requests)]
    assert len({t for texts in first for t in texts}) > 5  # distinct samples, not copies
    with make_engine(ModelSpec(name=str(folder), dtype="float32", device="cpu", batch_size=10)) as wide:
        assert [r.texts for r in wide.generate(requests)] == first  # all at once instead of three rows


def test_a_prompt_longer_than_the_model_reads_is_a_per_request_error(engine):
    too_long = GenRequest("long", user("word " * 1200), sampling=GREEDY)
    fine = GenRequest("fine", user("hi"), sampling=GREEDY)
    results = engine.generate([too_long, fine])
    assert "reads at most 1024" in results[0].error and results[1].error is None and results[1].texts


def test_ratings_from_the_prefix_store_equal_a_full_forward(engine):
    from backend.engines.base import RATING_PROMPT_SUFFIX
    from backend.engines.loading import chat_prompt
    from backend.engines.rating import constrained_ratings

    conversation = user("Name a city.")
    criticism = engine.generate([GenRequest("c", conversation, sampling=GREEDY)])[0].texts[0]
    assert engine._continuous_batcher().cached_prefix(chat_prompt(engine.tokenizer, conversation) + criticism)
    full = constrained_ratings(engine.model, engine.tokenizer,
                               [chat_prompt(engine.tokenizer, conversation) + criticism.rstrip() + RATING_PROMPT_SUFFIX],
                               "cpu")
    assert engine.rating_digits([conversation], [criticism]) == full


def test_a_rating_prompt_that_leaves_the_stored_sequence_early_still_reuses_its_start(engine):
    from backend.engines.base import RATING_PROMPT_SUFFIX
    from backend.engines.loading import chat_prompt
    from backend.engines.rating import constrained_ratings

    conversation = user("word " * 40 + "Name a city.")
    engine.generate([GenRequest("c", conversation, sampling=GREEDY)])
    prompt = chat_prompt(engine.tokenizer, conversation)
    other = "a criticism the model did not write " * 8  # shares only the conversation with the stored sequence
    found = engine._continuous_batcher().cached_prefix(prompt + other + RATING_PROMPT_SUFFIX)
    assert found is not None
    ids, _saved, cached = found
    assert 32 <= cached < len(ids) / 2  # less than half, once "more than half" was required
    full = constrained_ratings(engine.model, engine.tokenizer, [prompt + other.rstrip() + RATING_PROMPT_SUFFIX], "cpu")
    assert engine.rating_digits([conversation], [other]) == full


def test_repetition_penalty_and_nucleus_match_transformers_processors():
    from transformers.generation.logits_process import (
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopPLogitsWarper,
    )

    torch.manual_seed(0)
    vocab = 200
    logits = torch.randn(1, vocab) * 3
    prompt = [5, 17, 17, 150]
    settings = SamplingConfig(temperature=0.7, top_p=0.8, repetition_penalty=1.3)
    sampler = TokenSampler(rows=1, vocab=vocab)
    sampler.start_row(0, prompt, settings, seed=9)
    reference = RepetitionPenaltyLogitsProcessor(1.3)(torch.tensor([prompt]), logits.clone())
    assert torch.allclose(sampler._penalized(logits.clone(), range(0, 1)), reference)
    reference = TopPLogitsWarper(0.8)(None, TemperatureLogitsWarper(0.7)(None, reference))
    allowed = set(torch.nonzero(reference[0] > float("-inf")).flatten().tolist())
    drawn = set()
    for _ in range(300):
        sampler.seen[0] = False
        sampler.seen[0, prompt] = True
        drawn.add(sampler.next_tokens(logits.clone())[0])
    assert drawn == allowed


def test_row_attention_leaves_every_other_forward_as_sdpa_computes_it(engine, folder):
    from transformers import AutoModelForCausalLM

    assert engine._continuous_batcher().row_attention  # the engine's model now runs decode row by row
    reference = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    assert reference.config._attn_implementation == "sdpa"
    batch = engine.tokenizer(["a short one", "a somewhat longer prompt here"], return_tensors="pt", padding=True)
    with torch.inference_mode():
        ours = engine.model(**batch).logits
        theirs = reference(**batch).logits
    assert torch.equal(ours, theirs)


def test_a_sliding_window_model_falls_back_to_generate(tmp_path):
    from transformers import MistralConfig, MistralForCausalLM

    tokenizer = build_tokenizer()
    config = MistralConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, sliding_window=8,
                           pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    MistralForCausalLM(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    with make_engine(ModelSpec(name=str(tmp_path), dtype="float32", device="cpu")) as engine:
        assert not engine.continuous
        results = engine.generate([GenRequest("a", user("hi"), n=2, sampling=GREEDY)])
    assert len(results[0].texts) == 2 and results[0].error is None


def test_top_p_one_samples_the_whole_vocabulary():
    sampler = TokenSampler(rows=1, vocab=200)
    sampler.start_row(0, [], SamplingConfig(temperature=1.0, top_p=1.0, repetition_penalty=1.0), seed=4)
    drawn = {sampler.next_tokens(torch.zeros(1, 200))[0] for _ in range(400)}
    assert len(drawn) > 150  # uniform over 200 tokens: ~172 distinct expected in 400 draws

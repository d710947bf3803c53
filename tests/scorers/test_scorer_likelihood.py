"""The likelihood scorer: a frozen LM's mean log-probability of the answer given the prompt."""

import pytest

from backend.config import ScorerSpec
from backend.scorers import make_scorer
from backend.scorers.likelihood import EMPTY_ANSWER_SCORE
from tests.support.single_thread import one_torch_thread  # noqa: F401 - autouse fixture
from tests.support.tiny_models import tiny_chat_model_dir


def test_tiny_model_scores_are_finite_and_batch_independent():
    scorer = make_scorer(ScorerSpec(kind="likelihood", model=str(tiny_chat_model_dir()), batch_size=4))
    items = [("What is 2+2?", "4"), ("Name a city.", "Paris is the capital of France."), ("Hi", "")]
    scores = scorer.score(items)
    assert scores == pytest.approx([scorer.score([i])[0] for i in items], abs=1e-4)
    assert scores[0] < 0 and scores[2] == EMPTY_ANSWER_SCORE
    assert all(p.requires_grad is False for p in scorer.model.parameters())  # a frozen copy


@pytest.mark.slow
def test_the_embedded_model_prefers_relevant_answers():
    scorer = make_scorer(ScorerSpec(kind="likelihood", model="embedded"))
    assert scorer.label == "likelihood:embedded"
    pairs = [
        ("What is the capital of France?", "The capital of France is Paris.",
         "Bananas are a good source of potassium."),
        ("How do I boil an egg?", "Place the egg in boiling water for about nine minutes, then cool it in cold water.",
         "The stock market closed higher on Tuesday."),
    ]
    good = scorer.score([(q, a) for q, a, _ in pairs])
    bad = scorer.score([(q, b) for q, _, b in pairs])
    assert all(g > b for g, b in zip(good, bad, strict=True))


def reference_likelihood(prompt: str, answer: str) -> float:
    """Mean log-probability of the answer's tokens after the chat-templated prompt, by a direct model call."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tiny_chat_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    context = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                            add_generation_prompt=True)
    context_ids = tokenizer(context, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([context_ids + answer_ids])
    with torch.no_grad():
        logprobs = model(ids).logits[0].log_softmax(-1)
    picked = [logprobs[len(context_ids) + i - 1, token] for i, token in enumerate(answer_ids)]
    return float(torch.stack(picked).mean())


def test_scores_equal_the_mean_answer_log_probability_of_a_direct_model_call():
    scorer = make_scorer(ScorerSpec(kind="likelihood", model=str(tiny_chat_model_dir()), batch_size=2))
    items = [("What is 2+2?", "4"), ("Name a city.", "Paris is the capital of France.")]
    assert scorer.score(items) == pytest.approx([reference_likelihood(p, a) for p, a in items], abs=1e-4)

"""The transformers engine's CPU speed-ups compute what the plain model computes: packed bf16 weights,
the lean Llama forward, and the thread count chosen from the machine's load."""

import doctest
import importlib

import pytest
import torch

from backend.config import ModelSpec
from backend.engines import make_engine
from backend.engines.lean_llama import lean_decoder
from backend.engines.packed_linear import pack_linear_layers
from backend.engines.slot_cache import PrefillPlan, SlotCache
from tests.support.single_thread import one_torch_thread  # noqa: F401 - autouse fixture
from tests.support.tiny_models import tiny_chat_model_dir


def load(dtype):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_chat_model_dir(), dtype=dtype).eval()


@pytest.mark.parametrize("name", ["backend.engines.prefix_store", "backend.engines.sampler",
                                  "backend.engines.threads", "backend.engines.row_attention"])
def test_worked_examples_in_docstrings(name):
    assert doctest.testmod(importlib.import_module(name)).failed == 0


def test_packed_bf16_layers_give_the_same_logits_bit_for_bit():
    plain, packed = load(torch.bfloat16), load(torch.bfloat16)
    count = pack_linear_layers(packed)
    assert count == 2 * 7 + 1  # 2 layers x (q, k, v, o, gate, up, down) + the output layer
    ids = torch.randint(0, plain.config.vocab_size, (3, 11))
    with torch.inference_mode():
        assert torch.equal(packed(input_ids=ids).logits, plain(input_ids=ids).logits)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_lean_forward_matches_the_model_on_a_prefix_and_a_continuation(dtype):
    model = load(dtype)
    lean = lean_decoder(model)
    assert lean is not None
    ids = torch.randint(0, model.config.vocab_size, (1, 12))
    with torch.inference_mode():
        reference = model(input_ids=ids).logits[0]  # logits after 8 and after 12 tokens
    cache = SlotCache(model.config.num_hidden_layers, rows=1, capacity=32)
    positions = torch.arange(12)[None]
    causal = positions[0][None, :] <= positions[0][:, None]
    cache.plan = PrefillPlan([0], [0], [0], 8)
    first = lean(ids[:, :8], positions[:, :8], cache, causal[None, None, :8, :8])
    cache.plan = PrefillPlan([0], [8], [0], 12)  # the last 4 tokens after the 8 cached ones
    second = lean(ids[:, 8:], positions[:, 8:], cache, causal[None, None, 8:, :12])
    tolerance = 1e-5 if dtype == torch.float32 else 2e-2
    assert torch.allclose(first[0].float(), reference[7].float(), atol=tolerance, rtol=tolerance)
    assert torch.allclose(second[0].float(), reference[11].float(), atol=tolerance, rtol=tolerance)


def test_a_model_outside_the_llama_family_keeps_its_own_forward(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=50)).eval()
    assert lean_decoder(model) is None


def test_a_pinned_thread_count_is_what_torch_uses_after_loading():
    torch.set_num_threads(2)
    with make_engine(ModelSpec(name=str(tiny_chat_model_dir()), dtype="float32", device="cpu", threads=1)) as engine:
        assert torch.get_num_threads() == 1 and engine.governor.threads == 1


def test_automatic_threads_stay_within_the_cores():
    from backend.engines.threads import available_cores

    with make_engine(ModelSpec(name=str(tiny_chat_model_dir()), dtype="float32", device="cpu")) as engine:
        assert 1 <= engine.governor.threads <= available_cores()
        assert torch.get_num_threads() == engine.governor.threads


def test_the_rating_step_after_a_one_is_taken_only_when_one_leads():
    from backend.engines.rating import _choose

    digits = {k: k for k in range(1, 10)} | {10: None}  # token k is the digit k; "10" is "1" then "0" (id 0)
    calls = []

    def after_one():
        calls.append(1)
        probs = torch.zeros(1, 12)
        probs[0, 0] = 0.9  # "0" after "1": P(10) = P(1) * 0.9
        return probs

    probs = torch.zeros(1, 12)
    probs[0, 7], probs[0, 1] = 0.5, 0.3
    assert _choose(probs, digits, 0, after_one) == [7] and calls == []
    probs[0, 7], probs[0, 1] = 0.2, 0.6  # "1" leads: P(10) = 0.54 beats P(1 then stop) = 0.06 and P(7) = 0.2
    assert _choose(probs, digits, 0, after_one) == [10] and calls == [1]

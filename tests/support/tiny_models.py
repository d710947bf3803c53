"""Tiny random models built in code for tests (MODELS.md): a chat LM and a reward classifier.

A byte-level BPE tokenizer trained in a few ms (any text encodes), a ChatML chat template, and a
2-layer Llama. Folders are written once per test session and reused.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
_CORPUS = [
    "The quick brown fox jumps over the lazy dog. Rating: [[7]] 0123456789",
    "Answer the question helpfully. What is wrong with the answer above? Revise it.",
    "Baking soda leavens cakes and cleans pans. Paris is the capital of France.",
]


def build_tokenizer(vocab_size: int = 300):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_CORPUS * 20, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>",
        pad_token="<|endoftext|>", unk_token="<|endoftext|>",
    )
    fast.chat_template = CHATML_TEMPLATE
    return fast


def _llama_config(tokenizer, **overrides):
    from transformers import LlamaConfig

    kwargs = dict(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )
    kwargs.update(overrides)
    return LlamaConfig(**kwargs)


def write_tiny_chat_model(folder: Path, seed: int = 0, **config_overrides) -> Path:
    """Save a tiny random Llama chat model with tokenizer to `folder` and return it."""
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    model = LlamaForCausalLM(_llama_config(tokenizer, **config_overrides))
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def write_tiny_reward_model(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random Llama sequence classifier (num_labels=1: a scalar reward) to `folder`."""
    import torch
    from transformers import LlamaForSequenceClassification

    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    model = LlamaForSequenceClassification(_llama_config(tokenizer, num_labels=1))
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


_ROOT = Path(tempfile.mkdtemp(prefix="avr-tiny-models-"))


@cache
def tiny_chat_model_dir() -> Path:
    """A shared tiny chat model folder for this test session (built on first use, ~1 s)."""
    return write_tiny_chat_model(_ROOT / "chat")


@cache
def tiny_reward_model_dir() -> Path:
    """A shared tiny reward classifier folder for this test session."""
    return write_tiny_reward_model(_ROOT / "reward")

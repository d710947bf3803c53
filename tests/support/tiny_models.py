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


# (conversation, criticism, the rating digit the rater model learns to put after "Rating: [[")
RATER_EXAMPLES = (("hi", "Fine.", "8"), ("yo", "Poor.", "3"), ("Name two uses of baking soda.", "Too short.", "5"))


def write_tiny_rater_model(folder: Path, steps: int = 25) -> Path:
    """The tiny chat model, trained for a few steps to write a rating digit after "Rating: [[" that
    depends on the conversation (RATER_EXAMPLES): a random tiny model never ranks a digit among its
    top 20 tokens there, so rating tests would only ever see "no rating"."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = tiny_chat_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForCausalLM.from_pretrained(source)
    torch.manual_seed(0)
    batch = []
    for question, criticism, digit in RATER_EXAMPLES:
        text = tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                             add_generation_prompt=True) + criticism + "\nRating: [["
        batch.append((tokenizer(text, return_tensors="pt", add_special_tokens=False),
                      torch.tensor(tokenizer.encode(digit, add_special_tokens=False)[:1])))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = sum(torch.nn.functional.cross_entropy(model(**ids).logits[0, -1:], target) for ids, target in batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@cache
def tiny_rater_model_dir() -> Path:
    """A shared tiny chat model that writes rating digits (`write_tiny_rater_model`)."""
    return write_tiny_rater_model(_ROOT / "rater")


def reference_rating(model_dir: Path, messages: list[dict], criticism: str) -> int | None:
    """The rating a server engine should report, computed by a direct model call: the most likely token
    that reads as 1..10 among the 20 most likely after "<criticism>\\nRating: [[" (vLLM returns at most
    20 log-probabilities), or None when there is none."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    text = (tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            + criticism.rstrip() + "\nRating: [[")
    with torch.no_grad():
        logits = model(**tokenizer(text, return_tensors="pt", add_special_tokens=False)).logits[0, -1]
    for token_id in logits.topk(20).indices.tolist():
        token = tokenizer.decode([token_id]).strip()
        if token.isdigit() and 1 <= int(token) <= 10:
            return int(token)
    return None


def reference_reward(model_dir: Path, prompt: str, answer: str) -> float:
    """A reward model's score of (prompt, answer) by a direct model call on the chat-templated
    two-turn conversation (what a classifier scorer must report for short texts)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
                                         tokenize=False)
    with torch.no_grad():
        return float(model(**tokenizer(text, return_tensors="pt", add_special_tokens=False)).logits[0, 0])

"""Constrained self-rating for small models that never write `Rating: [[k]]` (SmolLM2-135M wrote a
parseable rating in none of 32 criticisms, measured).

The prompt ends in "Rating: [["; the rating is the most likely of the numbers 1..10 as the next
text. Digits are usually single tokens; when "10" is not, it is scored as "1" then "0" with one
extra decoding step: P(10) = P(1) * P(0 | 1), while P(1) keeps only the mass of ending after the "1".
That step is skipped when another digit already beats "1" (neither P(10) nor the reduced P(1) can
exceed P(1), so the choice is the same).
"""

from __future__ import annotations

import re

_LEADING_NUMBER = re.compile(r"^\s*(\d{1,2})")


def parse_rating_text(text: str) -> int | None:
    """The rating a server wrote after "Rating: [[" (e.g. "7]]" -> 7); None unless it is 1..10."""
    match = _LEADING_NUMBER.match(text)
    value = int(match.group(1)) if match else None
    return value if value is not None and 1 <= value <= 10 else None


def _single_token(tokenizer, text: str) -> int | None:
    ids = tokenizer.encode(text, add_special_tokens=False)
    return ids[0] if len(ids) == 1 else None


def _digit_token_ids(tokenizer) -> dict[int, int | None] | None:
    """Token ids of "1".."10" (None for "10" when it is two tokens); None if single digits split."""
    ids = {k: _single_token(tokenizer, str(k)) for k in range(1, 11)}
    return None if any(ids[k] is None for k in range(1, 10)) else ids


def _choose(probs, digit_ids: dict[int, int | None], zero_id: int | None, probs_after_one) -> list[int]:
    """The most likely rating per row from next-token `probs`; `probs_after_one()` gives the
    probabilities after a "1" (asked only when "10" is two tokens and "1" leads in some row)."""
    import torch

    scores = {k: probs[:, digit_ids[k]] for k in range(1, 10)}
    if digit_ids[10] is not None:
        scores[10] = probs[:, digit_ids[10]]
    elif bool((torch.stack([scores[k] for k in range(1, 10)], dim=1).argmax(dim=1) == 0).any()):
        after_one = probs_after_one()
        digits_after_one = after_one[:, [digit_ids[k] for k in range(1, 10)] + [zero_id]].sum(-1)
        scores[10] = scores[1] * after_one[:, zero_id]
        scores[1] = scores[1] * (1 - digits_after_one)
    else:
        scores[10] = torch.zeros_like(scores[1])
    table = torch.stack([scores[k] for k in range(1, 11)], dim=1)
    return [int(i) + 1 for i in table.argmax(dim=1).tolist()]


def constrained_ratings(model, tokenizer, prompts: list[str], device: str) -> list[int | None]:
    import torch

    digit_ids = _digit_token_ids(tokenizer)
    if digit_ids is None:
        return [None] * len(prompts)  # a tokenizer that splits single digits: no constrained rating
    inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
    mask = inputs["attention_mask"]
    # Left padding: positions must count real tokens only, as generate() does.
    positions = (mask.long().cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode():
        out = model(input_ids=inputs["input_ids"], attention_mask=mask, position_ids=positions, use_cache=True,
                    logits_to_keep=1)

        def after_one():
            one = torch.full((len(prompts), 1), digit_ids[1], dtype=inputs["input_ids"].dtype, device=device)
            step = model(input_ids=one, attention_mask=torch.cat([mask, torch.ones_like(one)], dim=1),
                         position_ids=positions[:, -1:] + 1, cache=out.cache)
            return step.logits[:, -1, :].float().softmax(-1)

        return _choose(out.logits[:, -1, :].float().softmax(-1), digit_ids, _single_token(tokenizer, "0"),
                       after_one)


def constrained_rating_after_prefix(model, tokenizer, prompt_ids: list[int], saved, cached: int, device: str,
                                    lean=None) -> int | None:
    """The same choice for one tokenized prompt whose first `cached` positions are in `saved` (per layer
    (keys, values) of shape [kv_heads, >= cached, head_dim], from the engine's prefix store): only the
    rest of the prompt is run through the model (through `lean`, a LeanDecoder, when given)."""
    import torch

    digit_ids = _digit_token_ids(tokenizer)
    if digit_ids is None:
        return None
    step = _lean_steps(lean, saved, cached, len(prompt_ids) + 1, device) if lean is not None else \
        _model_steps(model, saved, cached, device)
    rest = torch.tensor([prompt_ids[cached:]], device=device)
    probs = step(rest, torch.arange(cached, len(prompt_ids), device=device)[None])
    one = torch.tensor([[digit_ids[1]]], device=device)
    return _choose(probs, digit_ids, _single_token(tokenizer, "0"),
                   lambda: step(one, torch.tensor([[len(prompt_ids)]], device=device)))[0]


def _model_steps(model, saved, cached: int, device: str):
    """A function feeding tokens to `model` after the saved prefix; returns next-token probabilities."""
    import torch
    from transformers import DynamicCache

    cache = DynamicCache(ddp_cache_data=[(k[None, :, :cached].to(device), v[None, :, :cached].to(device))
                                         for k, v in saved], config=model.config)

    def step(ids, positions):
        with torch.inference_mode():
            out = model(input_ids=ids, position_ids=positions, cache=cache, use_cache=True, logits_to_keep=1)
        return out.logits[:, -1, :].float().softmax(-1)

    return step


def _lean_steps(lean, saved, cached: int, capacity: int, device: str):
    """The same through a LeanDecoder over a one-row slot cache holding the saved prefix."""
    import torch

    from backend.engines.slot_cache import PrefillPlan, SlotCache

    cache = SlotCache(len(saved), rows=1, capacity=capacity)
    cache.load_row(0, saved, cached)
    filled = [cached]

    def step(ids, positions):
        offset, count = filled[0], ids.shape[1]
        cache.plan = PrefillPlan([0], [offset], [0], offset + count)
        mask = torch.arange(offset + count, device=device)[None, :] <= positions[0][:, None]
        logits = lean(ids, positions, cache, mask[None, None])
        filled[0] = offset + count
        return logits.float().softmax(-1)

    return step

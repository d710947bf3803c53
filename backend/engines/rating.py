"""Constrained self-rating for small models that never write `Rating: [[k]]` (MODELS.md).

The prompt ends in "Rating: [["; the rating is the most likely of the numbers 1..10 as the next
text. Digits are usually single tokens; when "10" is not, it is scored as "1" then "0" with one
extra decoding step: P(10) = P(1) * P(0 | 1), while P(1) keeps only the mass of ending after the "1".
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


def constrained_ratings(model, tokenizer, prompts: list[str], device: str) -> list[int | None]:
    import torch

    digit_ids = {k: _single_token(tokenizer, str(k)) for k in range(1, 11)}
    if any(digit_ids[k] is None for k in range(1, 10)):
        return [None] * len(prompts)  # a tokenizer that splits single digits: no constrained rating
    inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
    mask = inputs["attention_mask"]
    # Left padding: positions must count real tokens only, as generate() does.
    positions = (mask.long().cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode():
        out = model(input_ids=inputs["input_ids"], attention_mask=mask, position_ids=positions, use_cache=True,
                    logits_to_keep=1)
        probs = out.logits[:, -1, :].float().softmax(-1)
        scores = {k: probs[:, digit_ids[k]] for k in range(1, 10)}
        if digit_ids[10] is not None:
            scores[10] = probs[:, digit_ids[10]]
        else:
            one = torch.full((len(prompts), 1), digit_ids[1], dtype=inputs["input_ids"].dtype, device=device)
            step = model(input_ids=one, attention_mask=torch.cat([mask, torch.ones_like(one)], dim=1),
                         position_ids=positions[:, -1:] + 1, cache=out.cache)
            after_one = step.logits[:, -1, :].float().softmax(-1)
            zero = _single_token(tokenizer, "0")
            digits_after_one = after_one[:, [digit_ids[k] for k in range(1, 10)] + [zero]].sum(-1)
            scores[10] = scores[1] * after_one[:, zero]
            scores[1] = scores[1] * (1 - digits_after_one)
    table = torch.stack([scores[k] for k in range(1, 11)], dim=1)
    return [int(i) + 1 for i in table.argmax(dim=1).tolist()]

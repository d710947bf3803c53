"""Token ids and a loss mask for a multi-turn SFT sample: the loss on every assistant turn (answer,
criticism and improvement, LLaMA-Factory's default that the AvR authors trained with) or on the last one
only (LLaMA-Factory's `mask_history`).

Works with any chat template that renders a conversation's beginning as a prefix of the whole: the
assistant spans are found by rendering the conversation up to each assistant turn (with and without that
turn), and the pieces are tokenized one by one, as LLaMA-Factory does. A span includes the template's
end-of-turn text, so the model learns to stop.
"""

from __future__ import annotations

from typing import Any

from backend.errors import ModelLoadError

Messages = list[dict[str, str]]


def render(tokenizer, messages: Messages, add_generation_prompt: bool = False) -> str:
    from backend.engines.loading import chat_prompt

    return chat_prompt(tokenizer, messages, add_generation_prompt=add_generation_prompt)


def assistant_spans(tokenizer, messages: Messages) -> tuple[str, list[tuple[int, int]]]:
    """(the whole rendered conversation, character spans of each assistant turn in it)."""
    full = render(tokenizer, messages)
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        asked = render(tokenizer, messages[:index], add_generation_prompt=True)
        answered = render(tokenizer, messages[:index + 1])
        if not (full.startswith(answered) and answered.startswith(asked)):
            raise ModelLoadError(
                "this model's chat template renders the start of a conversation differently from the whole "
                "conversation, so the assistant turns cannot be found; train with sft_loss_turns='last'")
        spans.append((len(asked), len(answered)))
    return full, spans


def tokenize_sample(tokenizer, messages: Messages, turns: str = "all") -> dict[str, Any]:
    """{'input_ids', 'assistant_masks'}: mask 1 on the tokens of the trained assistant turns.

    `turns` is 'all' (every assistant turn) or 'last' (only the final one).
    """
    full, spans = assistant_spans(tokenizer, messages)
    if not spans:
        raise ValueError("an SFT sample needs at least one assistant message")
    trained = spans if turns == "all" else spans[-1:]
    input_ids: list[int] = []
    mask: list[int] = []
    cursor = 0
    for start, end in trained:
        for piece, bit in ((full[cursor:start], 0), (full[start:end], 1)):
            ids = tokenizer(piece, add_special_tokens=False)["input_ids"] if piece else []
            input_ids.extend(ids)
            mask.extend([bit] * len(ids))
        cursor = end
    if cursor < len(full):
        tail = tokenizer(full[cursor:], add_special_tokens=False)["input_ids"]
        input_ids.extend(tail)
        mask.extend([0] * len(tail))
    return {"input_ids": input_ids, "assistant_masks": mask}


def sft_messages(row: dict[str, Any]) -> Messages:
    """The whole conversation of a TRL prompt/completion SFT row (the project's `--format trl` export)."""
    return [{"role": m["role"], "content": m["content"]} for m in [*row["prompt"], *row["completion"]]]

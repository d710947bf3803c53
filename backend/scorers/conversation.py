"""The token ids a reward model sees for (prompt, answer): the chat-templated two-turn conversation,
truncated to a budget keeping the start of the prompt and as much of the answer (from its start) as fits.
"""

from __future__ import annotations

from backend.engines.loading import chat_prompt


def token_budget(tokenizer, model_config, max_length: int) -> int:
    limits = [max_length, getattr(model_config, "max_position_embeddings", None),
              getattr(tokenizer, "model_max_length", None)]
    return min(int(x) for x in limits if isinstance(x, int) and 0 < x < 10**9)


def _ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def conversation_ids(tokenizer, prompt: str, answer: str, budget: int) -> list[int]:
    def templated(p: str, a: str) -> list[int]:
        messages = [{"role": "user", "content": p}, {"role": "assistant", "content": a}]
        return _ids(tokenizer, chat_prompt(tokenizer, messages, add_generation_prompt=False))

    ids = templated(prompt, answer)
    if len(ids) <= budget:
        return ids
    prompt_ids, answer_ids = _ids(tokenizer, prompt), _ids(tokenizer, answer)
    overhead = max(0, len(ids) - len(prompt_ids) - len(answer_ids))
    room = max(2, budget - overhead)
    # The prompt keeps its start, but gives the answer at least half the room when both are long.
    keep_prompt = min(len(prompt_ids), max(room - len(answer_ids), room // 2))
    keep_answer = max(1, room - keep_prompt)
    ids = templated(tokenizer.decode(prompt_ids[:keep_prompt]), tokenizer.decode(answer_ids[:keep_answer]))
    return ids[:budget]  # decode/encode round trips can shift a token or two

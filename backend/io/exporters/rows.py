"""Turn pairs and SFT samples into the row layouts of TRL, LLaMA-Factory (sharegpt) and the AvR authors.

>>> from backend.domain import Pair
>>> pair = Pair("response", "p1", [{"role": "user", "content": "Hi?"}], chosen="Hello!", rejected="Go.")
>>> trl_pair_row(pair)["chosen"]
[{'role': 'assistant', 'content': 'Hello!'}]
>>> sharegpt_pair_row(pair)["conversations"]
[{'from': 'human', 'value': 'Hi?'}]
"""

from __future__ import annotations

from typing import Any

from backend.domain import Message, Pair, SftSample

_SHAREGPT_ROLES = {"user": "human", "assistant": "gpt", "system": "system"}


def _clean(messages: list[Message]) -> list[Message]:
    """Only role and content: extra keys would give rows different schemas."""
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def _assistant(text: str) -> Message:
    return {"role": "assistant", "content": text}


def _split_target(sample: SftSample) -> tuple[list[Message], Message]:
    if not sample.messages or sample.messages[-1]["role"] != "assistant":
        raise ValueError(f"SFT sample {sample.id} does not end with an assistant message")
    messages = _clean(sample.messages)
    return messages[:-1], messages[-1]


# TRL: conversational preference and prompt/completion datasets.
def trl_pair_row(pair: Pair) -> dict[str, Any]:
    return {"prompt": _clean(pair.context), "chosen": [_assistant(pair.chosen)],
            "rejected": [_assistant(pair.rejected)], "kind": pair.kind, "decided_by": pair.decided_by,
            "prompt_id": pair.prompt_id}


def trl_sft_row(sample: SftSample) -> dict[str, Any]:
    context, target = _split_target(sample)
    return {"prompt": context, "completion": [target], "kind": sample.kind, "prompt_id": sample.prompt_id}


# The AvR authors' layouts: DPO {messages, chosen, rejected} with single messages; SFT {messages}.
def avr_pair_row(pair: Pair) -> dict[str, Any]:
    return {"messages": _clean(pair.context), "chosen": _assistant(pair.chosen),
            "rejected": _assistant(pair.rejected)}


def avr_sft_row(sample: SftSample) -> dict[str, Any]:
    return {"messages": _clean(sample.messages)}


# LLaMA-Factory sharegpt: conversations of {from, value}; a leading system message has its own column.
def _sharegpt(messages: list[Message]) -> tuple[str | None, list[dict[str, str]]]:
    system = None
    if messages and messages[0]["role"] == "system":
        system, messages = messages[0]["content"], messages[1:]
    turns = [{"from": _SHAREGPT_ROLES.get(m["role"], m["role"]), "value": m["content"]} for m in messages]
    return system, turns


def sharegpt_pair_row(pair: Pair) -> dict[str, Any]:
    system, turns = _sharegpt(pair.context)
    row: dict[str, Any] = {"conversations": turns, "chosen": {"from": "gpt", "value": pair.chosen},
                           "rejected": {"from": "gpt", "value": pair.rejected}}
    if system is not None:
        row["system"] = system
    return row


def sharegpt_sft_row(sample: SftSample) -> dict[str, Any]:
    system, turns = _sharegpt(_clean(sample.messages))
    row: dict[str, Any] = {"conversations": turns}
    if system is not None:
        row["system"] = system
    return row

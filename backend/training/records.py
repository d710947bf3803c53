"""The journal records of the training jobs (stdlib only): what the worker's `train`, `sample_thoughts` and
`evaluate` jobs write to their journals, and what the process owning the database reads back.

Records of these types hold no node, score or chain, so `backend.worker.ingest` passes over them; the
training side stores them itself (`runs.sync_run`, `thought_pairs`, `before_after`).

>>> event_of(event_record(TrainingEvent("metrics", "r1", step=2, metrics={"loss": 0.5}))).metrics
{'loss': 0.5}
>>> event_of({"type": "node"}) is None
True
"""

from __future__ import annotations

from typing import Any

from backend.domain import Pair
from backend.training.events import TrainingEvent

TRAINING_EVENT = "training_event"  # one TrainingEvent of a `train` job
THOUGHT_PAIR = "thought_pair"  # one prompt done by `sample_thoughts`: {"prompt_id", "pair": {...} | None}
EVAL_ANSWER = "eval_answer"  # {"evaluation_id", "prompt_id", "side", "model", "text", "answer"}
EVAL_SCORE = "eval_score"  # {"evaluation_id", "prompt_id", "side", "scorer", "value"}


def event_record(event: TrainingEvent) -> dict[str, Any]:
    return {"type": TRAINING_EVENT, **event.to_dict()}


def event_of(record: dict[str, Any]) -> TrainingEvent | None:
    """The TrainingEvent a journal record holds, or None for any other record."""
    if record.get("type") != TRAINING_EVENT:
        return None
    return TrainingEvent.from_dict({key: value for key, value in record.items() if key != "type"})


def pair_record(prompt_id: str, pair: Pair | None) -> dict[str, Any]:
    """A prompt's long-thought pair (None: the method's gate dropped the prompt).

    >>> pair_of(pair_record("p", Pair("long_thought", "p", [], chosen="a", rejected="b"))).chosen
    'a'
    >>> pair_of(pair_record("p", None)) is None
    True
    """
    from backend.typed_json import to_json_value

    return {"type": THOUGHT_PAIR, "prompt_id": prompt_id, "pair": None if pair is None else to_json_value(pair)}


def pair_of(record: dict[str, Any]) -> Pair | None:
    """The pair a `thought_pair` record holds (None for a dropped prompt or any other record)."""
    if record.get("type") != THOUGHT_PAIR or not record.get("pair"):
        return None
    from backend.typed_json import from_json_value

    return from_json_value(Pair, record["pair"])


def answer_record(evaluation_id: str, prompt_id: str, side: str, model: str, text: str, answer: str) -> dict[str, Any]:
    return {"type": EVAL_ANSWER, "evaluation_id": evaluation_id, "prompt_id": prompt_id, "side": side,
            "model": model, "text": text, "answer": answer}


def score_record(evaluation_id: str, prompt_id: str, side: str, scorer: str, value: float) -> dict[str, Any]:
    return {"type": EVAL_SCORE, "evaluation_id": evaluation_id, "prompt_id": prompt_id, "side": side,
            "scorer": scorer, "value": float(value)}

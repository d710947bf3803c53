"""A reward model behind vLLM's pooling API (`vllm serve DIR --runner pooling --convert classify`).

Each batch is one `POST {base_url}/classify` with token ids and `"use_activation": false`, so the
reply is the raw score (vLLM's default applies a sigmoid). Conversations are chat-templated with the
model's tokenizer: locally when `model` is a folder, else through the server's `/tokenize`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from backend.config import ScorerSpec
from backend.engines.http_retry import BadReply, ServerReplyError, post_json
from backend.engines.loading import load_tokenizer
from backend.errors import UserError
from backend.scorers.base import Scorer, batches
from backend.scorers.conversation import conversation_ids

_TIMEOUT_S = 120.0


def parse_classify_reply(body, count: int) -> list[float]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise BadReply("no 'data' list in the reply")
    rows = sorted(body["data"], key=lambda r: r.get("index", 0) if isinstance(r, dict) else 0)
    if len(rows) != count:
        raise BadReply(f"sent {count} inputs, got {len(rows)} scores")
    scores = []
    for row in rows:
        probs = row.get("probs") if isinstance(row, dict) else None
        if not isinstance(probs, list) or len(probs) != 1 or not isinstance(probs[0], int | float):
            raise BadReply("each score must be a one-element 'probs' list (a single-output reward model)")
        scores.append(float(probs[0]))
    return scores


class ServerScorer(Scorer):
    def __init__(self, spec: ScorerSpec, retries: int = 3, backoff_s: float = 0.5,
                 timeout_s: float = _TIMEOUT_S) -> None:
        import httpx

        self.spec = spec
        self.label = spec.label
        self.retries, self.backoff_s = retries, backoff_s
        self.root = spec.base_url.rstrip("/").removesuffix("/v1")  # /classify lives at the server root
        self.client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)))
        folder = Path(spec.model).expanduser()
        self.tokenizer = load_tokenizer(folder, padding_side="right") if (folder / "config.json").is_file() else None
        self.served_name = spec.model if self.tokenizer is None and spec.model != "embedded" else None

    def _post(self, path: str, payload: dict, validate=None):
        try:
            return post_json(self.client, self.root + path, payload, retries=self.retries,
                             backoff_s=self.backoff_s, validate=validate)
        except ServerReplyError as error:
            raise UserError(f"Reward server: {error}") from None

    def _model(self) -> str:
        if self.served_name is None:
            try:
                self.served_name = self.client.get(self.root + "/v1/models").json()["data"][0]["id"]
            except Exception as error:
                raise UserError(f"Could not ask {self.root}/v1/models which reward model it serves ({error}). "
                                "Check the base URL, or set the scorer's model to the served name.") from None
        return self.served_name

    def _ids(self, prompt: str, answer: str) -> list[int]:
        if self.tokenizer is not None:
            return conversation_ids(self.tokenizer, prompt, answer, self.spec.max_length)
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
        body = self._post("/tokenize", {"model": self._model(), "messages": messages, "add_generation_prompt": False},
                          validate=lambda b: [int(t) for t in b["tokens"]])
        return body[:self.spec.max_length]

    def score(self, items: list[tuple[str, str]]) -> list[float]:
        scores: list[float] = []
        for chunk in batches(items, self.spec.batch_size):
            payload = {"model": self._model(), "input": [self._ids(p, a) for p, a in chunk], "use_activation": False}
            scores.extend(self._post("/classify", payload, validate=partial(parse_classify_reply, count=len(chunk))))
        return scores

    def close(self) -> None:
        self.client.close()

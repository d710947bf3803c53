"""The generation interface every engine implements: requests in, texts out (stdlib only).

A job hands an engine a `RequestSource`; the engine pulls ready requests, generates, and reports each
result back, so a node's children can become ready while other requests are still in flight.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Protocol

from backend.config import SamplingConfig
from backend.domain import Message

RATING_PROMPT_SUFFIX = "\nRating: [["  # what a constrained rating completes (DESIGN.md §1.1)


@dataclass
class GenRequest:
    key: str  # caller's id, echoed back
    messages: list[Message]  # chat conversation; the engine applies the model's chat template
    n: int = 1  # samples of this conversation (siblings)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    assistant_prefix: str = ""  # text the assistant turn must start with (generation continues after it)


@dataclass
class GenResult:
    key: str
    texts: list[str]  # n texts (without the prefix)
    tokens: int  # generated tokens, summed over the n texts
    error: str | None = None  # a per-request failure after retries (the job decides what to do)


class RequestSource(Protocol):
    def next_requests(self, limit: int) -> list[GenRequest]:
        """Up to `limit` ready requests (may return [] while others are in flight)."""
        ...

    def on_result(self, result: GenResult) -> None:
        """Called once per request as it completes; may make new requests ready."""
        ...

    def is_done(self) -> bool:
        """Nothing pending and nothing will come."""
        ...

    def is_cancelled(self) -> bool: ...


class ListSource:
    """A RequestSource over a fixed list of requests; collects results by key."""

    def __init__(self, requests: list[GenRequest], cancelled=lambda: False) -> None:
        self._pending = list(requests)
        self._expected = len(requests)
        self._cancelled = cancelled
        self.results: dict[str, GenResult] = {}

    def next_requests(self, limit: int) -> list[GenRequest]:
        taken, self._pending = self._pending[:limit], self._pending[limit:]
        return taken

    def on_result(self, result: GenResult) -> None:
        self.results[result.key] = result

    def is_done(self) -> bool:
        return len(self.results) >= self._expected

    def is_cancelled(self) -> bool:
        return bool(self._cancelled())


class Engine(ABC):
    model_name: str = ""

    @abstractmethod
    def run(self, source: RequestSource) -> None:
        """Drive `source` until it is done or cancelled (blocking)."""

    def generate(self, requests: list[GenRequest]) -> list[GenResult]:
        """Generate every request; results in request order. Keys must be unique."""
        if len({r.key for r in requests}) != len(requests):
            raise ValueError("generate() needs a unique key per request")
        source = ListSource(requests)
        self.run(source)
        return [source.results[r.key] for r in requests if r.key in source.results]

    def rating_digits(self, conversations: list[list[Message]], criticisms: list[str]) -> list[int | None]:
        """For each conversation (ending with the JUDGE user turn) whose assistant wrote `criticism`,
        complete "\\nRating: [[" with the most likely of the numbers 1..10; None if unsupported."""
        return [None] * len(conversations)

    def close(self) -> None:  # noqa: B027 - engines with nothing to release keep this no-op
        """Release the model or connections; the engine is unusable afterwards."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

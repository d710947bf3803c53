"""How many model requests a job made and how many failed, counted where every result passes: the engine.

A job whose every request failed produced nothing, whatever its summary says: the worker reports it
as failed, with the first error (a dead server, a garbage reply). A job where only some failed
finishes, and its summary says "k of n failed" so the CLI and the app can say so.
"""

from __future__ import annotations

import threading
from typing import Any


class RequestTally:
    """Counts generation results; thread-safe (server engines report from an event loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0
        self.failed = 0
        self.first_error: str | None = None

    def count(self, result: Any) -> None:
        with self._lock:
            self.total += 1
            if result.error:
                self.failed += 1
                if self.first_error is None:
                    self.first_error = str(result.error)

    @property
    def all_failed(self) -> bool:
        return self.failed > 0 and self.failed == self.total

    def summary(self) -> dict[str, Any]:
        """The fields a job's summary gains when some of its requests failed ({} when none did).

        >>> class R: error = "timeout"
        >>> tally = RequestTally(); tally.count(R()); tally.summary()
        {'requests': 1, 'failed_requests': 1, 'first_error': 'timeout'}
        """
        if not self.failed:
            return {}
        return {"requests": self.total, "failed_requests": self.failed, "first_error": self.first_error}


class _TalliedSource:
    def __init__(self, source: Any, tally: RequestTally) -> None:
        self._source, self._tally = source, tally

    def next_requests(self, limit: int):
        return self._source.next_requests(limit)

    def on_result(self, result) -> None:
        self._tally.count(result)
        self._source.on_result(result)

    def is_done(self) -> bool:
        return self._source.is_done()

    def is_cancelled(self) -> bool:
        return self._source.is_cancelled()


class TalliedEngine:
    """An engine (`backend.engines.base.Engine`) whose every result is counted into `tally`. Closing it
    hands the engine back to `release` (the worker's model cache), which decides whether it stays loaded."""

    def __init__(self, engine: Any, tally: RequestTally, release) -> None:
        self.engine, self.tally, self._release = engine, tally, release

    def run(self, source) -> None:
        self.engine.run(_TalliedSource(source, self.tally))

    def generate(self, requests):
        results = self.engine.generate(requests)
        for result in results:
            self.tally.count(result)
        return results

    def rating_digits(self, conversations, criticisms):
        return self.engine.rating_digits(conversations, criticisms)

    def close(self) -> None:
        self._release(self.engine)

    def __getattr__(self, name: str) -> Any:  # model_name and anything else an engine offers
        return getattr(self.engine, name)

    def __enter__(self) -> TalliedEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Keeps the last generator and the last scorer loaded between jobs, so a second job starts at once.

One of each at most (memory); a job that failed or was cancelled discards the generator, whose
internal queues may hold its leftovers. `AVR_WORKER_KEEP_MODELS=0` turns the cache off.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any


def _key(spec: Any) -> str:
    return json.dumps(spec.to_dict(), sort_keys=True)


class ModelCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engine: tuple[str, Any] | None = None
        self._scorer: tuple[str, Any] | None = None

    @property
    def enabled(self) -> bool:
        return os.environ.get("AVR_WORKER_KEEP_MODELS", "1") != "0"

    def engine(self, spec):
        from backend.engines import make_engine

        with self._lock:
            if self._engine is not None and self._engine[0] == _key(spec):
                return self._engine[1]
            self._close("_engine")
            engine = make_engine(spec)
            if self.enabled:
                self._engine = (_key(spec), engine)
            return engine

    def scorer(self, spec):
        from backend.scorers import make_scorer

        with self._lock:
            if self._scorer is not None and self._scorer[0] == _key(spec):
                return self._scorer[1]
            self._close("_scorer")
            scorer = make_scorer(spec)
            if self.enabled:
                self._scorer = (_key(spec), scorer)
            return scorer

    def release(self, thing: Any) -> None:
        """A job is done with `thing`: close it unless the cache keeps it."""
        with self._lock:
            kept = [entry[1] for entry in (self._engine, self._scorer) if entry is not None]
        if not any(thing is k for k in kept):
            close = getattr(thing, "close", None)
            if close is not None:
                close()

    def discard_engine(self) -> None:
        with self._lock:
            self._close("_engine")

    def close_all(self) -> None:
        with self._lock:
            self._close("_engine")
            self._close("_scorer")

    def _close(self, slot: str) -> None:
        entry = getattr(self, slot)
        setattr(self, slot, None)
        if entry is not None:
            entry[1].close()


MODELS = ModelCache()

"""The reward interface: a Scorer turns (prompt, answer) pairs into floats (stdlib only).

A reward model only ever sees the plain prompt and the plain answer (DESIGN.md §1), never a
criticism. `label` names every score a scorer writes, e.g. "likelihood:embedded".
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class Scorer(ABC):
    label: str = ""

    @abstractmethod
    def score(self, items: list[tuple[str, str]]) -> list[float]:
        """One float per (prompt, answer) pair, in order; higher is better."""

    def close(self) -> None:  # noqa: B027 - scorers with nothing to release keep this no-op
        """Release the model or connections; the scorer is unusable afterwards."""

    def __enter__(self) -> Scorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]

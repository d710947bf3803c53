"""Keys and values of finished sequences, kept so that a later prompt that starts with one of them is
not prefilled again (pure bookkeeping; the tensors are opaque here).

In a refinement tree every prompt extends an earlier sequence: a criticism's prompt is its answer's
conversation plus the JUDGE turn, an improvement's is its criticism's plus REVISE, and a constrained
rating reads the criticism's conversation plus "Rating: [[". Entries are looked up by the longest
common token prefix and evicted least-recently-used past a budget of cached positions.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens `a` and `b` share (a binary search over slice comparisons, done in C).

    >>> common_prefix_length((1, 2, 3, 4), (1, 2, 9))
    2
    >>> common_prefix_length((5, 6), (5, 6, 7))
    2
    >>> common_prefix_length((), (1,))
    0
    """
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


class PrefixStore:
    """Saved sequences by their token ids, at most `budget` positions in all.

    >>> store = PrefixStore(budget=5)
    >>> store.add((1, 2, 3), "kv-a")
    >>> store.longest((1, 2, 7, 8))
    ('kv-a', 2)
    >>> store.add((4, 5, 6), "kv-b")  # 6 positions > 5: the least recently used entry goes
    >>> store.longest((1, 2, 3))
    (None, 0)
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._positions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, ids: tuple[int, ...], saved: Any) -> None:
        if len(ids) > self.budget or not ids:
            return
        if ids in self._entries:
            self._entries.move_to_end(ids)
            return
        self._entries[ids] = saved
        self._positions += len(ids)
        while self._positions > self.budget:
            old, _ = self._entries.popitem(last=False)
            self._positions -= len(old)

    def longest(self, ids: tuple[int, ...]) -> tuple[Any, int]:
        """The saved value sharing the longest prefix with `ids`, and that length ((None, 0) if none)."""
        best, best_length = None, 0
        for key in self._entries:
            length = common_prefix_length(key, ids)
            if length > best_length:
                best, best_length = key, length
        if best is None:
            return None, 0
        self._entries.move_to_end(best)
        return self._entries[best], best_length

    def clear(self) -> None:
        self._entries.clear()
        self._positions = 0

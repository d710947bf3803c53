"""Pairs counted and listed by who decided them (a person or the reward): what a ranking-scorer
switch changed, and what an export limited to one decider will write."""

from __future__ import annotations

from backend.store.connection import Database

DECIDERS = ("human", "reward")  # Pair.decided_by values


class PairTallyQueries:
    _db: Database

    def pair_ids_decided_by(self, decided_by: str) -> set[str]:
        """Ids of every stored pair that `decided_by` ('human' or 'reward') decided."""
        return {row[0] for row in self._db.rows("SELECT id FROM pairs WHERE decided_by = ?", [decided_by])}

    def pair_counts_by_decider(self, kind: str | None = None) -> dict[str, int]:
        """decided_by -> stored pairs (of one pair kind, or all), every decider listed."""
        rows = self._db.rows("SELECT decided_by, count(*) FROM pairs WHERE $kind IS NULL OR kind = $kind "
                             "GROUP BY decided_by", {"kind": kind})
        counts = dict.fromkeys(DECIDERS, 0)
        counts.update({decider: int(n) for decider, n in rows})
        return counts

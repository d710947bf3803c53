"""Which prompts still need Stage I generation: no tree yet, or a tree that is missing slots.

A tree is complete when its answer has `k` round-0 criticisms with `m` round-0 improvements each
(`backend.avr.plan.missing_steps` says exactly what is missing). The query here is a cheap superset
of "missing": every prompt without a complete generated root, and every prompt with more than one
root (the planner then decides); `backend.curation.growth` checks the candidates with the planner.
"""

from __future__ import annotations

from backend.store.connection import Database

_CANDIDATES = """
    WITH improvements AS (
        SELECT parent_id, count(*) AS n FROM nodes WHERE kind = 'improvement' AND round = 0 GROUP BY parent_id),
    criticisms AS (
        SELECT c.parent_id AS root_id, count(*) AS n, count(*) FILTER (WHERE coalesce(i.n, 0) < $m) AS short
        FROM nodes c LEFT JOIN improvements i ON i.parent_id = c.id
        WHERE c.kind = 'criticism' AND c.round = 0 GROUP BY c.parent_id),
    roots AS (
        SELECT r.prompt_id, count(*) AS n_roots,
               count(*) FILTER (WHERE coalesce(c.n, 0) >= $k AND coalesce(c.short, 0) = 0) AS complete
        FROM nodes r LEFT JOIN criticisms c ON c.root_id = r.id
        WHERE r.kind = 'response' AND r.parent_id IS NULL AND r.round = 0 GROUP BY r.prompt_id)
    SELECT p.id, r.prompt_id IS NOT NULL AS started
    FROM prompts p LEFT JOIN roots r ON r.prompt_id = p.id
    WHERE r.prompt_id IS NULL OR r.complete = 0 OR r.n_roots > 1
    ORDER BY started DESC, p.seq
    LIMIT $limit OFFSET $offset"""


def count_growth_candidates(store, criticisms: int, improvements: int) -> int:
    """How many prompts may need generation (an upper bound: see the module docstring)."""
    db: Database = store._db
    query = _CANDIDATES.replace("ORDER BY started DESC, p.seq\n    LIMIT $limit OFFSET $offset", "")
    return int(db.scalar(f"SELECT count(*) FROM ({query})", {"k": criticisms, "m": improvements}))


def growth_candidates(store, criticisms: int, improvements: int, limit: int,
                      offset: int = 0) -> list[tuple[str, bool]]:
    """(prompt id, has a tree started) of prompts that may need generation: started ones first, then
    new ones, each in the order they were added."""
    db: Database = store._db
    rows = db.rows(_CANDIDATES, {"k": criticisms, "m": improvements, "limit": limit, "offset": offset})
    return [(prompt_id, bool(started)) for prompt_id, started in rows]

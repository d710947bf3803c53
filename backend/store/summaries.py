"""The prompt list behind the GUI: one summary row per prompt, filtered, sorted and paged in SQL.

Aggregates live in `prompt_stats` / `prompt_scorer_stats`, refreshed with set operations for the
prompts a write touched, so a page never aggregates the whole node table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backend.errors import BadInputError
from backend.store.connection import Database
from backend.store.prompts import like_pattern

STATES = ("new", "generated", "curated")

_STATE_SQL = ("CASE WHEN coalesce(st.n_verdicts, 0) + coalesce(st.n_edits, 0) > 0 THEN 'curated' "
              "WHEN coalesce(st.n_nodes, 0) > 0 THEN 'generated' ELSE 'new' END")
_STATE_RANK_SQL = ("CASE WHEN coalesce(st.n_verdicts, 0) + coalesce(st.n_edits, 0) > 0 THEN 2 "
                   "WHEN coalesce(st.n_nodes, 0) > 0 THEN 1 ELSE 0 END")

# Sort key -> ORDER BY expression. Only these fixed strings ever reach the SQL text.
SORT_EXPRESSIONS = {
    "added": "p.seq",
    "text": "p.text",
    "best_reward": "r.best_reward",
    "best_gain": "r.best_gain",
    "n_improving": "coalesce(r.n_improving, 0)",
    "n_nodes": "coalesce(st.n_nodes, 0)",
    "n_verdicts": "coalesce(st.n_verdicts, 0)",
    "state": _STATE_RANK_SQL,
}

_JOINS = """
    LEFT JOIN prompt_stats st ON st.prompt_id = p.id
    LEFT JOIN prompt_scorer_stats r ON r.prompt_id = p.id AND r.scorer = $scorer"""
_FROM = f"FROM prompts p {_JOINS}"
# Sorts and filters that need no aggregate: page the prompts table first, then join 200 rows only.
_PROMPT_ONLY_SORTS = {"added": "p.seq, p.id", "text": "p.seq, p.id, p.text"}

# Filter field -> its condition. Only the conditions of the filters in use are joined into the query:
# a condition on p.text, even one switched off by a NULL parameter, makes DuckDB read every prompt's text.
_CONDITIONS = {
    "pattern": "p.text ILIKE $pattern ESCAPE '\\'",
    "state": f"({_STATE_SQL}) = $state",
    "min_gain": "r.best_gain >= $min_gain",
    "has_improving": "(coalesce(r.n_improving, 0) > 0) = $has_improving",
}

# The texts of a page's rows are fetched after paging, by id, for the same reason.
_PAGE_COLUMNS = f"""p.id, coalesce(st.n_nodes, 0), r.best_reward, r.best_gain, coalesce(r.n_improving, 0),
    coalesce(st.n_verdicts, 0), {_STATE_SQL}"""
_TEXTS = "SELECT id, text FROM prompts WHERE id = ANY($ids::VARCHAR[])"

# Refresh statements; touched_prompts is the staged id set of the prompts to refresh.
_TOUCHED = "SELECT id FROM touched_prompts"
_REFRESH_COUNTS = f"""
    INSERT INTO prompt_stats
    SELECT n.prompt_id, count(*), count(s.verdict), count(s.edited_text)
    FROM nodes n LEFT JOIN current_node_states s ON s.node_id = n.id
    WHERE n.prompt_id IN ({_TOUCHED}) GROUP BY n.prompt_id"""
# best_reward: max R over answers (responses, improvements); gain of an improvement: R(y') minus
# R(the answer its criticism judged), under the same scorer. Every step is a two-way join behind a
# MATERIALIZED barrier: left to reorder freely, DuckDB sometimes joined the two score sides on
# `scorer` alone first (a product of all scores) and spilled tens of GB.
_REFRESH_SCORER_STATS = f"""
    INSERT INTO prompt_scorer_stats
    WITH touched AS MATERIALIZED (
        SELECT id, prompt_id, kind, parent_id FROM nodes WHERE prompt_id IN ({_TOUCHED})),
    scored AS MATERIALIZED (
        SELECT t.id, t.prompt_id, t.kind, s.scorer, s.value FROM touched t JOIN scores s ON s.node_id = t.id),
    rewards AS (
        SELECT prompt_id, scorer, max(value) AS best_reward FROM scored
        WHERE kind IN ('response', 'improvement') GROUP BY prompt_id, scorer),
    improvement_answers AS MATERIALIZED (
        SELECT imp.id, crit.parent_id AS answer_id FROM touched imp JOIN touched crit ON crit.id = imp.parent_id
        WHERE imp.kind = 'improvement'),
    improvement_scores AS MATERIALIZED (
        SELECT s.prompt_id, s.scorer, s.value, ia.answer_id
        FROM scored s JOIN improvement_answers ia ON ia.id = s.id),
    gains AS (
        SELECT i.prompt_id, i.scorer, max(i.value - a.value) AS best_gain,
               count(*) FILTER (WHERE i.value > a.value) AS n_improving
        FROM improvement_scores i JOIN scored a ON a.id = i.answer_id AND a.scorer = i.scorer
        GROUP BY i.prompt_id, i.scorer)
    SELECT r.prompt_id, r.scorer, r.best_reward, g.best_gain, coalesce(g.n_improving, 0)
    FROM rewards r LEFT JOIN gains g ON g.prompt_id = r.prompt_id AND g.scorer = r.scorer"""


@dataclass
class PromptSummary:
    id: str
    text: str
    n_nodes: int
    best_reward: float | None
    best_gain: float | None
    n_improving: int
    n_verdicts: int
    state: str  # 'new' (no nodes) | 'generated' (nodes, nothing curated) | 'curated' (a verdict or edit)


@dataclass
class PromptFilter:
    text: str = ""  # case-insensitive substring of the prompt text
    state: str | None = None  # one of STATES
    min_gain: float | None = None  # best_gain >= this
    has_improving: bool | None = None  # at least one improvement with gain > 0 (False: none)
    scorer: str | None = None  # whose scores; None = Store.default_scorer()


class SummaryQueries:
    _db: Database

    def refresh_prompt_stats(self, prompt_ids: Sequence[str] | None = None) -> None:
        """Recompute the cached aggregates of these prompts (all prompts when None)."""
        if prompt_ids is None:
            prompt_ids = [row[0] for row in self._db.rows("SELECT id FROM prompts")]
        if not prompt_ids:
            return
        with self._db.transaction(), self._db.id_set("touched_prompts", prompt_ids):
            self._db.execute(f"DELETE FROM prompt_stats WHERE prompt_id IN ({_TOUCHED})")
            self._db.execute(_REFRESH_COUNTS)
            self._db.execute(f"DELETE FROM prompt_scorer_stats WHERE prompt_id IN ({_TOUCHED})")
            self._db.execute(_REFRESH_SCORER_STATS)

    def _filter_sql(self, filter: PromptFilter) -> tuple[str, dict[str, Any]]:
        """FROM ... WHERE ... with only the conditions in use, and their parameters."""
        if filter.state is not None and filter.state not in STATES:
            raise BadInputError(f"unknown prompt state {filter.state!r}; use one of {', '.join(STATES)}")
        values = {
            "pattern": like_pattern(filter.text) if filter.text else None,
            "state": filter.state,
            "min_gain": filter.min_gain,
            "has_improving": filter.has_improving,
        }
        used = {name: value for name, value in values.items() if value is not None}
        where = " AND ".join(_CONDITIONS[name] for name in used) or "TRUE"
        return f"{_FROM} WHERE {where}", used | {"scorer": filter.scorer or self.default_scorer()}

    def list_prompt_summaries(self, filter: PromptFilter, sort: str = "added", descending: bool = False,
                              offset: int = 0, limit: int = 200) -> list[PromptSummary]:
        """One page of prompt summaries. Missing values (no score) sort last either way."""
        if sort not in SORT_EXPRESSIONS:
            raise BadInputError(f"unknown sort key {sort!r}; use one of {', '.join(SORT_EXPRESSIONS)}")
        direction = "DESC" if descending else "ASC"
        from_where, params = self._filter_sql(filter)
        order = f"{SORT_EXPRESSIONS[sort]} {direction} NULLS LAST, p.seq"
        if sort in _PROMPT_ONLY_SORTS and set(params) <= {"pattern", "scorer"}:
            where = _CONDITIONS["pattern"] if "pattern" in params else "TRUE"
            first = (f"SELECT {_PROMPT_ONLY_SORTS[sort]} FROM prompts p WHERE {where} "
                     f"ORDER BY {order} LIMIT $limit OFFSET $offset")
            page = f"SELECT {_PAGE_COLUMNS} FROM ({first}) p {_JOINS} ORDER BY {order}"
        else:
            page = f"SELECT {_PAGE_COLUMNS} {from_where} ORDER BY {order} LIMIT $limit OFFSET $offset"
        rows = self._db.rows(page, params | {"limit": int(limit), "offset": int(offset)})
        return self._with_texts(rows)

    def _with_texts(self, rows: list[tuple]) -> list[PromptSummary]:
        texts = dict(self._db.rows(_TEXTS, {"ids": [row[0] for row in rows]})) if rows else {}
        return [PromptSummary(row[0], texts[row[0]], *row[1:]) for row in rows]

    def count_prompt_summaries(self, filter: PromptFilter) -> int:
        from_where, params = self._filter_sql(filter)
        return int(self._db.scalar(f"SELECT count(*) {from_where}", params))

    def prompt_summary(self, prompt_id: str, scorer: str | None = None) -> PromptSummary | None:
        from_where, params = self._filter_sql(PromptFilter(scorer=scorer))
        rows = self._db.rows(f"SELECT {_PAGE_COLUMNS} {from_where} AND p.id = $id", params | {"id": prompt_id})
        return self._with_texts(rows)[0] if rows else None

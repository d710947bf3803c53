"""The prompt list behind the GUI: one summary row per prompt, filtered, sorted and paged in SQL.

Aggregates live in `prompt_stats` / `prompt_scorer_stats`, refreshed with set operations for the
prompts a write touched, so a page never aggregates the whole node table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backend.domain import VERDICT_NODE_KINDS
from backend.errors import BadInputError
from backend.store.connection import Database
from backend.store.prompts import like_pattern

STATES = ("new", "generated", "curated")
_JUDGEABLE_SQL = ", ".join(f"'{kind}'" for kind in VERDICT_NODE_KINDS)  # fixed literals, not input
# Nodes that take a verdict and have none yet (a skip counts as seen: it is a verdict of its own).
_UNDECIDED_SQL = "greatest(coalesce(st.n_judgeable, 0) - coalesce(st.n_verdicts, 0), 0)"

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
    "undecided": _UNDECIDED_SQL,
}

_JOIN_SQL = {
    "st": "LEFT JOIN prompt_stats st ON st.prompt_id = p.id",
    "r": "LEFT JOIN prompt_scorer_stats r ON r.prompt_id = p.id AND r.scorer = $scorer",
}
_JOINS = "\n    " + "\n    ".join(_JOIN_SQL.values())
_FROM = f"FROM prompts p {_JOINS}"
# The stats tables each sort key and filter condition reads. A page is picked with those joins
# only (a join over every prompt is most of a page's cost), then its 200 rows get the rest.
_SORT_TABLES = {"added": (), "text": (), "best_reward": ("r",), "best_gain": ("r",), "n_improving": ("r",),
                "n_nodes": ("st",), "n_verdicts": ("st",), "state": ("st",), "undecided": ("st",)}
_CONDITION_TABLES = {"pattern": (), "state": ("st",), "min_gain": ("r",), "has_improving": ("r",),
                     "has_undecided": ("st",), "ids": ()}

# Filter field -> its condition. Only the conditions of the filters in use are joined into the query:
# a condition on p.text, even one switched off by a NULL parameter, makes DuckDB read every prompt's text.
_CONDITIONS = {
    "pattern": "p.text ILIKE $pattern ESCAPE '\\'",
    "state": f"({_STATE_SQL}) = $state",
    "min_gain": "r.best_gain >= $min_gain",
    "has_improving": "(coalesce(r.n_improving, 0) > 0) = $has_improving",
    "has_undecided": f"({_UNDECIDED_SQL} > 0) = $has_undecided",
    "ids": "p.id = ANY($ids::VARCHAR[])",
}

# The texts of a page's rows are fetched after paging, by id, for the same reason.
_PAGE_COLUMNS = f"""p.id, coalesce(st.n_nodes, 0), r.best_reward, r.best_gain, coalesce(r.n_improving, 0),
    coalesce(st.n_verdicts, 0), {_STATE_SQL}, coalesce(st.n_judgeable, 0), {_UNDECIDED_SQL}"""
_TEXTS = "SELECT id, text FROM prompts WHERE id = ANY($ids::VARCHAR[])"

# Refresh statements; touched_prompts is the staged id set of the prompts to refresh. The refresh
# upserts: deleting and re-inserting every touched key made DuckDB's commit rebuild the primary-key
# indexes (3 s for a 60k-prompt re-import). Only rows the refresh would no longer produce are deleted.
_TOUCHED = "SELECT id FROM touched_prompts"
_DROP_STALE_COUNTS = f"""
    DELETE FROM prompt_stats WHERE prompt_id IN ({_TOUCHED})
    AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.prompt_id = prompt_stats.prompt_id)"""
# The (prompt, scorer) pairs still scored are gathered for the touched prompts first: a correlated
# NOT EXISTS over scores JOIN nodes was planned as an anti-join against every score of the project
# (220-390 ms per verdict on a 100k-prompt project with two scorers; 17-22 ms this way).
_DROP_STALE_SCORER_STATS = f"""
    WITH live AS MATERIALIZED (
        SELECT DISTINCT n.prompt_id, s.scorer FROM nodes n JOIN scores s ON s.node_id = n.id
        WHERE n.prompt_id IN ({_TOUCHED}) AND n.kind IN ('response', 'improvement'))
    DELETE FROM prompt_scorer_stats WHERE prompt_id IN ({_TOUCHED})
    AND NOT EXISTS (SELECT 1 FROM live WHERE live.prompt_id = prompt_scorer_stats.prompt_id
                    AND live.scorer = prompt_scorer_stats.scorer)"""
_REFRESH_COUNTS = f"""
    INSERT INTO prompt_stats (prompt_id, n_nodes, n_verdicts, n_edits, n_judgeable)
    SELECT n.prompt_id, count(*), count(s.verdict), count(s.edited_text),
           count(*) FILTER (WHERE n.kind IN ({_JUDGEABLE_SQL}))
    FROM nodes n LEFT JOIN current_node_states s ON s.node_id = n.id
    WHERE n.prompt_id IN ({_TOUCHED}) GROUP BY n.prompt_id
    ON CONFLICT (prompt_id) DO UPDATE SET n_nodes = excluded.n_nodes, n_verdicts = excluded.n_verdicts,
        n_edits = excluded.n_edits, n_judgeable = excluded.n_judgeable"""
# Every scored answer of the touched prompts, per scorer, for the reward-debugging views (reward_debug.py).
_DROP_ANSWER_REWARDS = f"DELETE FROM answer_rewards WHERE prompt_id IN ({_TOUCHED})"
_REFRESH_ANSWER_REWARDS = f"""
    INSERT INTO answer_rewards
    WITH touched AS MATERIALIZED (
        SELECT id, prompt_id, kind, round, parent_id, text, self_rating FROM nodes
        WHERE prompt_id IN ({_TOUCHED}))
    SELECT s.node_id, s.scorer, n.prompt_id, n.kind, n.round, s.value, length(n.text),
           c.parent_id, sa.value, c.id, c.self_rating
    FROM touched n JOIN scores s ON s.node_id = n.id
    LEFT JOIN touched c ON c.id = n.parent_id AND n.kind = 'improvement'
    LEFT JOIN scores sa ON sa.node_id = c.parent_id AND sa.scorer = s.scorer
    WHERE n.kind IN ('response', 'improvement')"""
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
    FROM rewards r LEFT JOIN gains g ON g.prompt_id = r.prompt_id AND g.scorer = r.scorer
    ON CONFLICT (prompt_id, scorer) DO UPDATE SET best_reward = excluded.best_reward,
        best_gain = excluded.best_gain, n_improving = excluded.n_improving"""


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
    n_judgeable: int = 0  # nodes that take a verdict (responses, criticisms, improvements)
    n_undecided: int = 0  # of those, the ones with no verdict yet (a skip counts as decided)


@dataclass
class PromptFilter:
    text: str = ""  # case-insensitive substring of the prompt text
    state: str | None = None  # one of STATES
    min_gain: float | None = None  # best_gain >= this
    has_improving: bool | None = None  # at least one improvement with gain > 0 (False: none)
    scorer: str | None = None  # whose scores; None = Store.default_scorer()
    has_undecided: bool | None = None  # a node that takes a verdict has none yet (False: all decided)
    prompt_ids: tuple[str, ...] | None = None  # only these prompts (a selection in a reward plot)


class SummaryQueries:
    _db: Database

    def refresh_prompt_stats(self, prompt_ids: Sequence[str] | None = None) -> None:
        """Recompute the cached aggregates of these prompts (all prompts when None)."""
        if prompt_ids is None:
            prompt_ids = [row[0] for row in self._db.rows("SELECT id FROM prompts")]
        if not prompt_ids:
            return
        with self._db.transaction(), self._db.id_set("touched_prompts", prompt_ids):
            self._db.execute(_DROP_STALE_COUNTS)
            self._db.execute(_REFRESH_COUNTS)
            self._db.execute(_DROP_STALE_SCORER_STATS)
            self._db.execute(_REFRESH_SCORER_STATS)
            self._db.execute(_DROP_ANSWER_REWARDS)
            self._db.execute(_REFRESH_ANSWER_REWARDS)

    def _filter_params(self, filter: PromptFilter) -> dict[str, Any]:
        """The parameters of the conditions in use (in _CONDITIONS order) plus the scorer."""
        if filter.state is not None and filter.state not in STATES:
            raise BadInputError(f"unknown prompt state {filter.state!r}; use one of {', '.join(STATES)}")
        values = {
            "pattern": like_pattern(filter.text) if filter.text else None,
            "state": filter.state,
            "min_gain": filter.min_gain,
            "has_improving": filter.has_improving,
            "has_undecided": filter.has_undecided,
            "ids": list(filter.prompt_ids) if filter.prompt_ids is not None else None,
        }
        used = {name: value for name, value in values.items() if value is not None}
        return used | {"scorer": filter.scorer or self.default_scorer()}

    @staticmethod
    def _from_where(params: dict[str, Any], tables: Sequence[str] = ()) -> tuple[str, dict[str, Any], bool]:
        """FROM ... WHERE ... joining only the stats tables that the conditions (and `tables`) read,
        its parameters, and whether that took every join.

        The joins are on unique keys, so leaving one out never changes which prompts match.
        """
        conditions = [name for name in _CONDITIONS if name in params]
        needed = {*tables, *(table for name in conditions for table in _CONDITION_TABLES[name])}
        joins = " ".join(sql for table, sql in _JOIN_SQL.items() if table in needed)
        where = " AND ".join(_CONDITIONS[name] for name in conditions) or "TRUE"
        if "r" not in needed:  # DuckDB refuses a named parameter that the query does not use
            params = {name: value for name, value in params.items() if name != "scorer"}
        return f"FROM prompts p {joins} WHERE {where}", params, needed >= set(_JOIN_SQL)

    def list_prompt_summaries(self, filter: PromptFilter, sort: str = "added", descending: bool = False,
                              offset: int = 0, limit: int = 200) -> list[PromptSummary]:
        """One page of prompt summaries. Missing values (no score) sort last either way."""
        if sort not in SORT_EXPRESSIONS:
            raise BadInputError(f"unknown sort key {sort!r}; use one of {', '.join(SORT_EXPRESSIONS)}")
        direction = "DESC" if descending else "ASC"
        params = self._filter_params(filter)
        order = f"{SORT_EXPRESSIONS[sort]} {direction} NULLS LAST, p.seq"
        from_where, _, every_join = self._from_where(params, _SORT_TABLES[sort])
        if every_join:
            page = f"SELECT {_PAGE_COLUMNS} {from_where} ORDER BY {order} LIMIT $limit OFFSET $offset"
        else:  # pick the page's prompts with fewer joins, then join the rest for those rows only
            picked = "p.id, p.seq, p.text" if sort == "text" else "p.id, p.seq"
            first = f"SELECT {picked} {from_where} ORDER BY {order} LIMIT $limit OFFSET $offset"
            page = f"SELECT {_PAGE_COLUMNS} FROM ({first}) p {_JOINS} ORDER BY {order}"
        rows = self._db.rows(page, params | {"limit": int(limit), "offset": int(offset)})
        return self._with_texts(rows)

    def _with_texts(self, rows: list[tuple]) -> list[PromptSummary]:
        texts = dict(self._db.rows(_TEXTS, {"ids": [row[0] for row in rows]})) if rows else {}
        return [PromptSummary(row[0], texts[row[0]], *row[1:]) for row in rows]

    def count_prompt_summaries(self, filter: PromptFilter) -> int:
        from_where, params, _ = self._from_where(self._filter_params(filter))
        return int(self._db.scalar(f"SELECT count(*) {from_where}", params))

    def prompt_summary(self, prompt_id: str, scorer: str | None = None) -> PromptSummary | None:
        params = self._filter_params(PromptFilter(scorer=scorer))
        rows = self._db.rows(f"SELECT {_PAGE_COLUMNS} {_FROM} WHERE p.id = $id", params | {"id": prompt_id})
        return self._with_texts(rows)[0] if rows else None

    def curation_progress(self) -> tuple[int, int]:
        """(prompts whose every node that takes a verdict has one, prompts with such nodes): the
        "curated k of n" of the curation flow, from the stats cache."""
        row = self._db.row(f"SELECT count(*) FILTER (WHERE {_UNDECIDED_SQL} = 0), count(*) "
                           "FROM prompt_stats st WHERE st.n_judgeable > 0")
        return (int(row[0]), int(row[1])) if row else (0, 0)

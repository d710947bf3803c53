"""Aggregates behind the reward-debugging views, each one DuckDB query over the whole project (or one
prompt): where the reward gains (Δ histogram), before / after refinement, length bias, self-rating
against realised value, one scorer against another, Stage II reward by round, and the disagreement
queue (a person's verdicts the reward contradicts).

They read one cache table, `answer_rewards` (every scored answer per scorer with its length, round,
and for an improvement the reward of the answer its criticism judged; see migration m006). Every
scatter is defined once as a points query (prompt_id, x, y): the plot draws a repeatable sample
of it, its summary is computed over all of it, and a region drawn on the plot selects the prompts
of every point inside (not only the drawn ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backend.errors import BadInputError
from backend.store.connection import Database

# Every query reads the answer_rewards cache (migration m006, kept by summaries.py) and takes $scorer
# (and $other for the scorer pair) and $prompt: NULL for the whole project.
_OF = "FROM answer_rewards a WHERE a.scorer = $scorer AND ($prompt IS NULL OR a.prompt_id = $prompt)"
_GAINS = f"SELECT a.prompt_id, a.value - a.judged_value AS x, a.value AS y {_OF} AND a.judged_value IS NOT NULL"
POINTS_SQL: dict[str, str] = {
    # Δ of every scored improvement (x), its reward (y)
    "gains": _GAINS,
    # R(y) of an answer (x) against the best R(y') of its improvements (y)
    "before_after": f"""SELECT any_value(a.prompt_id) AS prompt_id, any_value(a.judged_value) AS x,
        max(a.value) AS y {_OF} AND a.judged_value IS NOT NULL GROUP BY a.answer_id""",
    # length in characters of a scored answer (x) against its reward (y)
    "length": f"SELECT a.prompt_id, a.length AS x, a.value AS y {_OF}",
    # a criticism's self-rating (x) against the mean reward of its improvements (y)
    "self_rating": f"""SELECT any_value(a.prompt_id) AS prompt_id, any_value(a.self_rating) AS x,
        avg(a.value) AS y {_OF} AND a.self_rating IS NOT NULL GROUP BY a.criticism_id""",
    # one scorer (x) against another (y) on the same answers. Joined on a 64-bit hash of the node id, not
    # the id: hashing and comparing strings was most of the join (290 ms median, 400 max on 100k prompts
    # with 500k answers per scorer; ~30 % less by the hash). Two of a million ids sharing a hash has odds
    # of about 1e-8, and would add one stray point.
    "scorers": """SELECT a.prompt_id, a.x, b.y FROM (
            SELECT hash(node_id) AS k, prompt_id, value AS x FROM answer_rewards
            WHERE scorer = $scorer AND ($prompt IS NULL OR prompt_id = $prompt)) a
        JOIN (
            SELECT hash(node_id) AS k, value AS y FROM answer_rewards
            WHERE scorer = $other AND ($prompt IS NULL OR prompt_id = $prompt)) b ON b.k = a.k""",
    # the round of an answer (x) against its reward (y): Stage II chains climb round by round
    "rounds": f"SELECT a.prompt_id, a.round AS x, a.value AS y {_OF}",
}
SAMPLE_SEED = 7
_DISAGREEMENTS = """
    WITH judged AS MATERIALIZED (
        SELECT node_id AS id, verdict FROM current_node_states WHERE verdict IN ('accept', 'reject')),
    improvements AS MATERIALIZED (
        SELECT node_id AS id, criticism_id AS parent_id, answer_id, prompt_id, value AS r FROM answer_rewards
        WHERE scorer = $scorer AND kind = 'improvement' AND criticism_id IS NOT NULL
          AND ($prompt IS NULL OR prompt_id = $prompt)
          -- only prompts a person has judged in (from the stats cache): a tenth of the rows to group
          AND prompt_id IN (SELECT prompt_id FROM prompt_stats WHERE n_verdicts > 0)),
    rewards AS MATERIALIZED (  -- an improvement's R; a criticism's r(c), the mean R of its improvements
        SELECT id, parent_id, prompt_id, 'improvement' AS kind, r FROM improvements
        UNION ALL
        SELECT parent_id, any_value(answer_id), any_value(prompt_id), 'criticism', avg(r) FROM improvements
        GROUP BY parent_id),
    judged_rewards AS MATERIALIZED (SELECT w.*, j.verdict FROM rewards w JOIN judged j ON j.id = w.id),
    compared AS (
        SELECT j.id, any_value(j.prompt_id) AS prompt_id, any_value(j.kind) AS kind,
               any_value(j.verdict) AS verdict, any_value(j.r) AS reward,
               max(o.r) AS best_other, min(o.r) AS worst_other
        FROM judged_rewards j JOIN rewards o ON o.parent_id = j.parent_id AND o.kind = j.kind AND o.id <> j.id
        GROUP BY j.id),
    queue AS (
        SELECT id, prompt_id, kind, verdict, reward,
               CASE WHEN verdict = 'accept' THEN best_other ELSE worst_other END AS other,
               CASE WHEN verdict = 'accept' THEN best_other - reward ELSE reward - worst_other END AS margin
        FROM compared
        WHERE (verdict = 'accept' AND reward < best_other) OR (verdict = 'reject' AND reward > worst_other)
        ORDER BY margin DESC, id LIMIT $limit)
    SELECT q.id, q.prompt_id, q.kind, q.verdict, q.reward, q.other, q.margin,
           left(n.text, 160), left(p.text, 160)
    FROM queue q JOIN nodes n ON n.id = q.id JOIN prompts p ON p.id = q.prompt_id
    ORDER BY q.margin DESC, q.id"""


@dataclass
class PlotPoints:
    """A repeatable sample of a plot's points, and figures over all of them."""

    prompt_ids: list[str] = field(default_factory=list)
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    total: int = 0  # points in all (the sample holds at most the limit asked for)
    correlation: float | None = None  # Pearson r of x and y over all points
    above_diagonal: int = 0  # points with y > x (before / after: refinements that improved)


@dataclass(frozen=True)
class Disagreement:
    """A node a person judged against the reward: accepted though a sibling scores higher, or rejected
    though a sibling scores lower. `margin` is by how much (the reward's gap to that sibling)."""

    node_id: str
    prompt_id: str
    kind: str
    verdict: str
    reward: float
    other: float  # the best sibling's reward (accepted node) or the worst sibling's (rejected node)
    margin: float
    text: str  # the node's text, first 160 characters
    prompt_text: str  # the prompt's text, first 160 characters


@dataclass(frozen=True)
class Histogram:
    edges: np.ndarray
    counts: np.ndarray
    total: int
    positive: int  # values > 0
    mean: float | None


class RewardDebugQueries:
    _db: Database

    def _params(self, name: str, scorer: str, other: str | None, prompt_id: str | None) -> dict[str, Any]:
        if name not in POINTS_SQL:
            raise BadInputError(f"unknown plot {name!r}; use one of {', '.join(POINTS_SQL)}")
        params: dict[str, Any] = {"scorer": scorer, "prompt": prompt_id}
        if name == "scorers":
            if not other:
                raise BadInputError("the scorer-against-scorer plot needs a second scorer")
            params["other"] = other
        return params

    def plot_points(self, name: str, scorer: str, *, other: str | None = None, prompt_id: str | None = None,
                    limit: int = 4000) -> PlotPoints:
        """A repeatable sample (at most `limit`) of the plot's points, with count, r and y > x over all."""
        params = self._params(name, scorer, other, prompt_id)
        # One pass over the points (a materialised CTE): a first row with the figures over all of them,
        # then the sample. (Window aggregates were the obvious way; DuckDB's corr() OVER () is quadratic.)
        # Rows, not fetchnumpy: arrays DuckDB filled on a pool thread and kept by plot items made the
        # interpreter abort at exit in the GUI's tests ("deallocating None"); a few thousand rows are cheap.
        rows = self._db.rows(f"""
            WITH points AS MATERIALIZED ({POINTS_SQL[name]})
            SELECT 0 AS part, '' AS prompt_id, count(*)::DOUBLE AS x, coalesce(corr(x, y), 'NaN') AS y,
                   count(*) FILTER (WHERE y > x)::DOUBLE AS above FROM points
            UNION ALL
            SELECT 1, prompt_id, x, y, 0 FROM (
                SELECT * FROM points USING SAMPLE reservoir({int(limit)} ROWS) REPEATABLE ({SAMPLE_SEED}))
            ORDER BY part""", params)
        _part, _id, total, correlation, above = rows[0]
        if not total:
            return PlotPoints()
        sample = rows[1:]
        return PlotPoints([row[1] for row in sample], np.array([row[2] for row in sample], float),
                          np.array([row[3] for row in sample], float), int(total),
                          None if np.isnan(correlation) else float(correlation), int(above))

    def gain_histogram(self, scorer: str, *, prompt_id: str | None = None, bins: int = 40) -> Histogram:
        """Counts of Δ in `bins` equal bins between the smallest and largest Δ, counted by DuckDB."""
        params = {"scorer": scorer, "prompt": prompt_id, "bins": int(bins)}
        rows = self._db.rows(f"""
            WITH g AS MATERIALIZED (SELECT x FROM ({_GAINS})),
            span AS (SELECT min(x) AS lo, max(x) AS hi, count(*) AS n, count(*) FILTER (WHERE x > 0) AS up,
                            avg(x) AS mean FROM g)
            SELECT least(CAST(floor((g.x - span.lo) / greatest(span.hi - span.lo, 1e-12) * $bins) AS INTEGER),
                         $bins - 1) AS bin, count(*), any_value(span.lo), any_value(span.hi), any_value(span.n),
                   any_value(span.up), any_value(span.mean)
            FROM g, span GROUP BY bin ORDER BY bin""", params)
        if not rows:
            return Histogram(np.zeros(0), np.zeros(0), 0, 0, None)
        lo, hi, total, positive, mean = rows[0][2:]
        hi = hi if hi > lo else lo + 1e-12
        counts = np.zeros(bins)
        for bin_, count, *_ in rows:
            counts[bin_] = count
        return Histogram(np.linspace(lo, hi, bins + 1), counts, int(total), int(positive), float(mean))

    def length_correlations(self, *, prompt_id: str | None = None) -> dict[str, tuple[float | None, int]]:
        """scorer -> (Pearson r of answer length and reward, answers scored): length bias per scorer."""
        rows = self._db.rows("""
            SELECT scorer, corr(length, value), count(*) FROM answer_rewards
            WHERE $prompt IS NULL OR prompt_id = $prompt GROUP BY scorer ORDER BY scorer""", {"prompt": prompt_id})
        return {scorer: (None if r is None or np.isnan(r) else float(r), int(n)) for scorer, r, n in rows}

    def rewards_by_round(self, scorer: str, *, prompt_id: str | None = None) -> list[tuple[int, int, float, float,
                                                                                          float, float]]:
        """Per round: (round, answers, mean, lower quartile, median, upper quartile) of their rewards."""
        rows = self._db.rows(f"""
            SELECT x, count(*), avg(y), quantile_cont(y, 0.25), quantile_cont(y, 0.5), quantile_cont(y, 0.75)
            FROM ({POINTS_SQL["rounds"]}) GROUP BY x ORDER BY x""", {"scorer": scorer, "prompt": prompt_id})
        return [(int(r), int(n), float(mean), float(q1), float(q2), float(q3)) for r, n, mean, q1, q2, q3 in rows]

    def self_rating_means(self, scorer: str, *, prompt_id: str | None = None) -> list[tuple[int, int, float]]:
        """Per self-rating: (rating, criticisms, mean realised value)."""
        rows = self._db.rows(f"SELECT x, count(*), avg(y) FROM ({POINTS_SQL['self_rating']}) GROUP BY x ORDER BY x",
                             {"scorer": scorer, "prompt": prompt_id})
        return [(int(x), int(n), float(mean)) for x, n, mean in rows]

    def prompts_in_region(self, name: str, scorer: str, x_range: tuple[float, float],
                          y_range: tuple[float, float] | None = None, *, other: str | None = None,
                          prompt_id: str | None = None, limit: int = 100_000) -> list[str]:
        """The prompts with a point of plot `name` inside the region (every point, not the drawn sample),
        in the order they were added."""
        params = self._params(name, scorer, other, prompt_id) | {"x0": x_range[0], "x1": x_range[1],
                                                                  "limit": int(limit)}
        condition = "x BETWEEN $x0 AND $x1"
        if y_range is not None:
            params |= {"y0": y_range[0], "y1": y_range[1]}
            condition += " AND y BETWEEN $y0 AND $y1"
        rows = self._db.rows(f"""
            SELECT p.id FROM prompts p WHERE p.id IN (SELECT prompt_id FROM ({POINTS_SQL[name]}) WHERE {condition})
            ORDER BY p.seq LIMIT $limit""", params)
        return [row[0] for row in rows]

    def disagreements(self, scorer: str, *, prompt_id: str | None = None, limit: int = 500) -> list[Disagreement]:
        """The disagreement queue, largest margin first."""
        rows = self._db.rows(_DISAGREEMENTS, {"scorer": scorer, "prompt": prompt_id, "limit": int(limit)})
        return [Disagreement(*row) for row in rows]

"""Before / after evaluations of trained runs (migration m008): each evaluation's two models' answers on the
held-out prompts and every score of them, so the win rates can always be recomputed from what is stored.

The `evaluate` worker job journals the answers and scores; the process owning the database writes them here
(`backend.training.evaluations.sync_evaluation`), idempotently (keyed by evaluation, prompt, side, scorer).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from backend.domain import now
from backend.store.codec import from_json, to_json, utc
from backend.store.connection import Database

SIDES = ("base", "trained")
_COLUMNS = "id, run_id, against, base_model, trained_model, scorers, training_scorer, prompts, job_id, status, created_at"


@dataclass(frozen=True)
class Evaluation:
    """One before / after comparison: `run_id` trained, against the run's own base model ('base') or
    another run ('run:<id>'); the answers were scored by each of `scorers` (labels)."""

    id: str
    run_id: str
    against: str
    base_model: str  # the model of the 'base' side (a model name or 'run:<id>')
    trained_model: str  # 'run:<run_id>'
    scorers: list[str]
    training_scorer: str | None  # the scorer the training pairs were ranked with, when known
    prompts: int
    job_id: str | None = None
    status: str = "prepared"  # prepared | running | finished | failed | cancelled
    created_at: datetime = field(default_factory=now)


@dataclass(frozen=True)
class EvalRow:
    """One held-out prompt under one scorer: both answers and their scores."""

    prompt_id: str
    prompt: str
    base_answer: str
    trained_answer: str
    base_score: float
    trained_score: float
    base_text: str  # the whole generated text (a long thought, for a Stage II model)
    trained_text: str


def _evaluation_from_row(row: tuple) -> Evaluation:
    id_, run_id, against, base_model, trained_model, scorers, training_scorer, prompts, job_id, status, created = row
    return Evaluation(id=id_, run_id=run_id, against=against, base_model=base_model, trained_model=trained_model,
                      scorers=from_json(scorers, []), training_scorer=training_scorer, prompts=int(prompts),
                      job_id=job_id, status=status, created_at=created)


class EvaluationQueries:
    _db: Database

    def add_evaluation(self, evaluation: Evaluation) -> None:
        e = evaluation
        self._db.execute(
            f"INSERT INTO evaluations ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?::JSON, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [e.id, e.run_id, e.against, e.base_model, e.trained_model, to_json(e.scorers), e.training_scorer,
             e.prompts, e.job_id, e.status, utc(e.created_at)])

    def update_evaluation(self, evaluation_id: str, status: str, job_id: str | None = None) -> None:
        """Set the status (and, given one, the job that runs it now)."""
        self._db.execute("UPDATE evaluations SET status = ?, job_id = coalesce(?, job_id) WHERE id = ?",
                         [status, job_id, evaluation_id])

    def get_evaluation(self, evaluation_id: str) -> Evaluation | None:
        row = self._db.row(f"SELECT {_COLUMNS} FROM evaluations WHERE id = ?", [evaluation_id])
        return None if row is None else _evaluation_from_row(row)

    def evaluations(self, run_id: str | None = None) -> list[Evaluation]:
        """Evaluations oldest first, optionally of one run."""
        rows = self._db.rows(f"SELECT {_COLUMNS} FROM evaluations WHERE ($run IS NULL OR run_id = $run) "
                             "ORDER BY created_at, id", {"run": run_id})
        return [_evaluation_from_row(row) for row in rows]

    def add_eval_answers(self, evaluation_id: str, answers: Iterable[tuple[str, str, str, str]]) -> None:
        """(prompt id, side, whole text, scored answer) rows; a row already stored is kept as it is."""
        rows = [(evaluation_id, prompt_id, side, text, answer) for prompt_id, side, text, answer in answers]
        if rows:
            self._db.executemany("INSERT INTO eval_answers VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)

    def add_eval_scores(self, evaluation_id: str, scores: Iterable[tuple[str, str, str, float]]) -> None:
        """(prompt id, side, scorer label, value) rows; a score stored again keeps the newer value."""
        rows = [(evaluation_id, prompt_id, side, scorer, float(value)) for prompt_id, side, scorer, value in scores]
        if rows:
            self._db.executemany("INSERT INTO eval_scores VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                                 "value = excluded.value", rows)

    def eval_answer_count(self, evaluation_id: str) -> int:
        return int(self._db.scalar("SELECT count(*) FROM eval_answers WHERE evaluation_id = ?", [evaluation_id]))

    def eval_rows(self, evaluation_id: str, scorer: str) -> list[EvalRow]:
        """Every prompt that has both sides' answers scored by `scorer`, in prompt order."""
        rows = self._db.rows(
            """SELECT b.prompt_id, coalesce(p.text, ''), b.answer, t.answer, sb.value, st.value, b.text, t.text
               FROM eval_answers b
               JOIN eval_answers t ON t.evaluation_id = b.evaluation_id AND t.prompt_id = b.prompt_id
                                  AND t.side = 'trained'
               JOIN eval_scores sb ON sb.evaluation_id = b.evaluation_id AND sb.prompt_id = b.prompt_id
                                  AND sb.side = 'base' AND sb.scorer = $scorer
               JOIN eval_scores st ON st.evaluation_id = b.evaluation_id AND st.prompt_id = b.prompt_id
                                  AND st.side = 'trained' AND st.scorer = $scorer
               LEFT JOIN prompts p ON p.id = b.prompt_id
               WHERE b.evaluation_id = $id AND b.side = 'base'
               ORDER BY p.seq, b.prompt_id""", {"id": evaluation_id, "scorer": scorer})
        return [EvalRow(*row) for row in rows]

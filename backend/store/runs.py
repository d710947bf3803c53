"""Training runs, their metrics, and the project's held-out prompts (migration m004)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from backend.domain import Run, now
from backend.store.codec import from_json, to_json, utc
from backend.store.connection import Database

RUN_END_STATUSES = ("finished", "failed", "cancelled")
_RUN_COLUMNS = ("id, stage, config, data_hash, status, output_dir, created_at, base, seed, adapter_path, metrics, "
                "environment, finished_at, error")


def _run_from_row(row: tuple) -> Run:
    (id_, stage, config, data_hash, status, output_dir, created_at, base, seed, adapter_path, metrics,
     environment, finished_at, error) = row
    return Run(id=id_, stage=stage, config=from_json(config, {}), data_hash=data_hash, status=status,
               output_dir=output_dir, created_at=created_at, base=base or "", seed=seed, adapter_path=adapter_path,
               metrics=from_json(metrics, {}), environment=from_json(environment, {}), finished_at=finished_at,
               error=error)


class RunQueries:
    _db: Database

    def add_run(self, run: Run) -> None:
        """Record a run; recording the same id again keeps the first."""
        self._db.execute(
            f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (?, ?, ?::JSON, ?, ?, ?, ?, ?, ?, ?, ?::JSON, ?::JSON, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [run.id, run.stage, to_json(run.config), run.data_hash, run.status, run.output_dir, utc(run.created_at),
             run.base, run.seed, run.adapter_path, to_json(run.metrics), to_json(run.environment),
             utc(run.finished_at), run.error],
        )

    def update_run(self, run_id: str, status: str, error: str | None = None, adapter_path: str | None = None,
                   metrics: dict[str, Any] | None = None, environment: dict[str, Any] | None = None) -> None:
        """Set a run's status (an ended one also gets its finish time); None leaves the other fields as they are."""
        finished_at = now() if status in RUN_END_STATUSES else None
        self._db.execute(
            "UPDATE runs SET status = $status, error = $error, finished_at = $finished_at, "
            "adapter_path = coalesce($adapter_path, adapter_path), metrics = coalesce($metrics::JSON, metrics), "
            "environment = coalesce($environment::JSON, environment) WHERE id = $id",
            {"status": status, "error": error, "finished_at": finished_at, "adapter_path": adapter_path,
             "metrics": None if metrics is None else to_json(metrics),
             "environment": None if environment is None else to_json(environment), "id": run_id},
        )

    def runs(self, stage: str | None = None) -> list[Run]:
        """Runs oldest first, optionally of one stage."""
        rows = self._db.rows(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE ($stage IS NULL OR stage = $stage) ORDER BY created_at, id",
            {"stage": stage},
        )
        return [_run_from_row(row) for row in rows]

    def get_run(self, run_id: str) -> Run | None:
        row = self._db.row(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", [run_id])
        return None if row is None else _run_from_row(row)

    def add_run_metrics(self, run_id: str, rows: Iterable[tuple[int, str, float]]) -> None:
        """Append (step, name, value) rows of a run."""
        self._db.executemany("INSERT INTO run_metrics VALUES (?, ?, ?, ?)",
                             [(run_id, int(step), name, float(value)) for step, name, value in rows])

    def replace_run_metrics(self, run_id: str, rows: Sequence[tuple[int, str, float]]) -> None:
        """Make the run's metrics exactly `rows` (the run folder's log is the source; re-reading it is idempotent)."""
        table = pa.table({
            "run_id": pa.array([run_id] * len(rows), pa.string()),
            "step": pa.array([int(step) for step, _, _ in rows], pa.int64()),
            "name": pa.array([name for _, name, _ in rows], pa.string()),
            "value": pa.array([float(value) for _, _, value in rows], pa.float64()),
        })
        with self._db.transaction(), self._db.staged("incoming_run_metrics", table):
            self._db.execute("DELETE FROM run_metrics WHERE run_id = ?", [run_id])
            self._db.execute("INSERT INTO run_metrics SELECT run_id, step, name, value FROM incoming_run_metrics")

    def run_metrics(self, run_id: str) -> list[tuple[int, str, float]]:
        """(step, name, value) rows, by step then name."""
        rows = self._db.rows(
            "SELECT step, name, value FROM run_metrics WHERE run_id = ? ORDER BY step, name", [run_id]
        )
        return [(int(step), name, value) for step, name, value in rows]

    def heldout_prompt_ids(self) -> list[str]:
        """The held-out prompts (empty until the first training chose them)."""
        return [row[0] for row in self._db.rows("SELECT prompt_id FROM heldout_prompts ORDER BY prompt_id")]

    def heldout_seed(self) -> int | None:
        return self._db.scalar("SELECT min(seed) FROM heldout_prompts")

    def set_heldout_prompts(self, prompt_ids: Sequence[str], seed: int) -> bool:
        """Record the held-out prompts once: returns False (and changes nothing) if the project has them already."""
        with self._db.transaction():
            if self._db.scalar("SELECT count(*) FROM heldout_prompts"):
                return False
            chosen_at = now()
            self._db.executemany("INSERT INTO heldout_prompts VALUES (?, ?, ?)",
                                 [(prompt_id, int(seed), chosen_at) for prompt_id in prompt_ids])
            return True

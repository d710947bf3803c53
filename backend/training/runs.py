"""The side of training that owns the project database (the app or a headless CLI command): plan a run
before the click, prepare it (snapshot + store row), and sync its folder back into the store.

The trainer itself (`backend.training.trainer.train_run`) runs in the worker and touches only the run
folder; `sync_run` is idempotent, so the app may call it on every event, after a crash, or at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend.domain import Run, now, random_id
from backend.errors import UserError
from backend.training.config import TrainingConfig, with_preset
from backend.training.estimate import TimeEstimate, estimate_time
from backend.training.run_folder import RunFolder
from backend.training.snapshot import (
    DataCounts,
    NotEnoughDataError,
    Snapshot,
    check_enough,
    collect,
    data_hash,
    heldout_prompt_ids,
    read_snapshot,
    write_snapshot,
)

if TYPE_CHECKING:
    from backend.store import Store

UNFINISHED_STATUSES = ("prepared", "running", "cancelled", "failed")


class RunAlreadyFinishedError(UserError):
    """The same settings already trained on the same data; nothing is retrained silently."""


@dataclass(frozen=True)
class TrainingPlan:
    """What the Training panel shows before the click."""

    config: TrainingConfig  # preset filled: the exact settings the run would record
    counts: DataCounts
    estimate: TimeEstimate
    data_hash: str
    heldout_is_new: bool  # this would be the project's first training: the held-out prompts get chosen now
    problem: str | None  # why the run cannot start (too little data), or None
    finished_run: str | None  # a finished run with these settings and this data, if there is one
    resumable_run: str | None  # an unfinished run with these settings and this data, if there is one


@dataclass(frozen=True)
class PreparedRun:
    run: Run
    folder: RunFolder
    snapshot: Snapshot
    resumed: bool  # an unfinished run of the same settings and data is continued instead of a new one


def plan_run(store: Store, config: TrainingConfig) -> TrainingPlan:
    """Counts, estimated time and any problem for `config`, without writing anything."""
    filled = with_preset(config)
    heldout, new = heldout_prompt_ids(store, filled)
    data = collect(store, filled, set(heldout))
    problem = None
    try:
        check_enough(filled, data.counts)
    except NotEnoughDataError as error:
        problem = str(error)
    digest = _hash_of(data)
    finished, unfinished = _matching_runs(store, filled, digest)
    return TrainingPlan(config=filled, counts=data.counts, estimate=estimate_time(filled, data.counts, store.runs()),
                        data_hash=digest, heldout_is_new=new, problem=problem,
                        finished_run=finished.id if finished else None,
                        resumable_run=unfinished.id if unfinished else None)


def prepare_run(store: Store, config: TrainingConfig, new: bool = False) -> PreparedRun:
    """The run to train for `config`: an unfinished run with the same settings and data (resumed from its
    last checkpoint), or a new one (snapshot written, row added as 'prepared').

    Raises NotEnoughDataError before anything is written when the data cannot fill a batch, and
    RunAlreadyFinishedError when these settings already trained on this data (unless `new`).
    """
    filled = with_preset(config)
    heldout, _ = heldout_prompt_ids(store, filled)
    data = collect(store, filled, set(heldout))
    check_enough(filled, data.counts)
    finished, unfinished = _matching_runs(store, filled, _hash_of(data))
    if not new and unfinished is not None:
        folder = RunFolder(store.project_dir / unfinished.output_dir)
        return PreparedRun(run=unfinished, folder=folder, snapshot=read_snapshot(folder.path), resumed=True)
    if not new and finished is not None:
        raise RunAlreadyFinishedError(
            f"run {finished.id} already trained {filled.stage} with these settings on this data (finished "
            f"{finished.finished_at:%Y-%m-%d %H:%M}); use it, or ask for a new run to train again")
    run_id = _new_run_id(store)
    folder = RunFolder(store.runs_dir / run_id)
    snapshot = write_snapshot(store, filled, folder.path)
    run = Run(id=run_id, stage=filled.stage, config=filled.to_dict(), data_hash=snapshot.data_hash,
              status="prepared", output_dir=str(folder.path.relative_to(store.project_dir)), created_at=now(),
              base=filled.base, seed=filled.seed)
    folder.write_run({"id": run.id, "stage": run.stage, "base": run.base, "seed": run.seed, "config": run.config,
                      "data_hash": run.data_hash, "created_at": run.created_at.isoformat()})
    store.add_run(run)
    return PreparedRun(run=run, folder=folder, snapshot=snapshot, resumed=False)


def sync_run(store: Store, run_id: str) -> Run:
    """Bring the store's row and metrics of a run up to its folder: status, final metrics, output, environment,
    error, and every logged metric (step, name, value)."""
    run = store.get_run(run_id)
    if run is None:
        raise UserError(f"no run {run_id!r} in this project; list the runs with `avr-studio runs DIR`")
    folder = RunFolder(store.project_dir / run.output_dir)
    result = folder.result()
    if result is not None and run.status == result.status and run.finished_at is not None:
        return run  # an ended run already synced: its folder holds nothing newer (and its end time stays)
    events = folder.events()
    rows = [(event.step, name, float(value)) for event in events if event.kind == "metrics"
            for name, value in event.metrics.items() if isinstance(value, int | float)]
    with store.transaction():
        store.replace_run_metrics(run_id, rows)
        environment = folder.read_environment() or None
        if result is not None:
            output = str((folder.path / result.output_dir).relative_to(store.project_dir)) if result.output_dir else None
            store.update_run(run_id, result.status, error=result.error, adapter_path=output,
                             metrics=result.metrics, environment=environment)
        elif events:
            store.update_run(run_id, "running", environment=environment)
    return store.get_run(run_id)  # type: ignore[return-value]


def run_folder(store: Store, run_id: str) -> RunFolder:
    run = store.get_run(run_id)
    if run is None:
        raise UserError(f"no run {run_id!r} in this project; list the runs with `avr-studio runs DIR`")
    return RunFolder(store.project_dir / run.output_dir)


def _matching_runs(store: Store, config: TrainingConfig, digest: str) -> tuple[Run | None, Run | None]:
    """(latest finished, latest unfinished) run of exactly these settings on data with this hash."""
    same = [run for run in store.runs(stage=config.stage) if run.config == config.to_dict() and run.data_hash == digest]
    finished = [run for run in same if run.status == "finished"]
    unfinished = [run for run in same if run.status in UNFINISHED_STATUSES]
    return (finished[-1] if finished else None), (unfinished[-1] if unfinished else None)


def _hash_of(data) -> str:
    return data_hash({"train": data.train} | ({"eval": data.eval} if data.eval else {}))


def _new_run_id(store: Store) -> str:
    while True:
        run_id = random_id()[:12]
        if store.get_run(run_id) is None and not (store.runs_dir / run_id).exists():
            return run_id

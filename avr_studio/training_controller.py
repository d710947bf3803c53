"""Runs training stages, evaluations and merges from the app: the same steps as `avr-studio train | eval |
merge` (`backend.worker.training_stages`, `backend.worker.before_after`), each step a job of the app's worker,
advanced when the worker says the step's job ended.

Everything here runs on the UI thread but only briefly (preparing a run writes its Parquet snapshot;
syncing a run reads its small folder): the training itself runs in the worker process, so curation stays
responsive. The run folders are synced into the store as their events arrive (at most every
`SYNC_INTERVAL_S`) and when a step ends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from avr_studio.context import ProjectContext
from backend import protocol
from backend.errors import UserError
from backend.training.records import event_of
from backend.worker import training_stages as stages

SYNC_INTERVAL_S = 5.0


@dataclass
class _Current:
    """The stage being trained and the job of its step now running."""

    stage_run: stages.StageRun
    step: stages.Step | None = None
    job_id: str | None = None


class TrainingController(QObject):
    """Starts, continues and cancels a stage; evaluates and merges runs; says what happens as signals."""

    sig_stage_started = Signal(str)
    """A stage began or continued (its id)."""

    sig_step_started = Signal(str, str, str)
    """A step's job was sent to the worker (phase, job id, run id or "" for a generation step)."""

    sig_training_event = Signal(object)
    """A TrainingEvent of the running step (metrics for the curves, progress, tokens/s, ETA)."""

    sig_progress = Signal(object)
    """A Progress event of the running step's job (generation steps have no TrainingEvents)."""

    sig_stage_ended = Signal(str, str)
    """The stage ended (status: finished / failed / cancelled, and a sentence for the person)."""

    sig_runs_changed = Signal()
    """Runs were added or their rows changed in the store."""

    sig_evaluation_finished = Signal(str, str)
    """An evaluation's job ended (evaluation id, status); its rows are in the store."""

    sig_merge_finished = Signal(str, str)
    """A merge job ended (status, the folder or what went wrong)."""

    def __init__(self, context: ProjectContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.current: _Current | None = None
        self._evaluations: dict[str, str] = {}  # job id -> evaluation id
        self._merges: dict[str, str] = {}  # job id -> output folder
        self._last_sync = 0.0
        worker = context.worker_client
        if worker is not None:
            worker.sig_result.connect(self._on_result)
            worker.sig_progress.connect(self._on_progress)
            worker.sig_job_finished.connect(lambda e: self._on_job_ended(e.job_id, "finished", ""))
            worker.sig_job_failed.connect(lambda e: self._on_job_ended(e.job_id, "failed",
                                                                        f"{e.title}. {e.what_to_do}"))
            worker.sig_job_cancelled.connect(lambda e: self._on_job_ended(e.job_id, "cancelled", ""))
            worker.sig_process_died.connect(self._on_worker_died)
        context.sig_project_opened.connect(self._on_project_opened)
        context.sig_project_about_to_close.connect(self._forget)

    # --- state ---------------------------------------------------------------------------------
    @property
    def store(self):
        return self.context.store

    @property
    def is_training(self) -> bool:
        return self.current is not None

    def interrupted_stage(self) -> stages.StageRun | None:
        """A stage the last session left unfinished (the app or its worker died): Continue picks it up."""
        if self.store is None or self.current is not None:
            return None
        unfinished = [s for s in stages.stage_runs(self.store) if s.status != "finished"]
        return unfinished[-1] if unfinished else None

    # --- stages --------------------------------------------------------------------------------
    def start(self, options: stages.StageOptions) -> stages.StageRun:
        """Check the data, then begin (or continue) the stage; UserError says why it cannot start."""
        if self.current is not None:
            raise UserError("a stage is already training; wait for it to end or cancel it first")
        stages.preflight(self.store, options)
        stage_run, _continued = stages.begin_stage(self.store, options)
        self._run(stage_run)
        return stage_run

    def continue_stage(self, stage_run: stages.StageRun) -> None:
        """Continue an unfinished stage where it stopped (a run from its last checkpoint)."""
        if self.current is not None:
            raise UserError("a stage is already training; wait for it to end or cancel it first")
        stage_run = replace(stage_run, status="running")
        stages.save_stage(self.store, stage_run)
        self._run(stage_run)

    def cancel(self) -> None:
        """Stop the running step (a training run saves a checkpoint first; Continue resumes it)."""
        if self.current is not None and self.current.job_id is not None and self.context.jobs_service is not None:
            self.context.jobs_service.cancel(self.current.job_id)

    def _run(self, stage_run: stages.StageRun) -> None:
        self.current = _Current(stage_run)
        self.sig_stage_started.emit(stage_run.id)
        self._advance()

    def _advance(self) -> None:
        current = self.current
        try:
            step = stages.next_step(self.store, current.stage_run)
        except UserError as error:
            stages.finish_stage(self.store, current.stage_run, "failed")
            self._end("failed", str(error))
            return
        if step is None:
            stages.finish_stage(self.store, current.stage_run)
            self._end("finished", f"Stage {current.stage_run.options.stage} finished: its model is "
                                  f"{current.stage_run.model}.")
            return
        self.sig_runs_changed.emit()  # a run may have been prepared
        job_id = self._submit(step)
        stages.job_started(self.store, current.stage_run, step, job_id)
        current.step, current.job_id = step, job_id
        self.sig_step_started.emit(step.phase, job_id, getattr(step, "run_id", ""))

    def _submit(self, step: stages.Step) -> str:
        service = self.context.jobs_service
        if isinstance(step, stages.ResumeStep):
            from backend.worker.submission import resume_job

            job = resume_job(self.store, step.job_id)
            self.context.worker_client.submit_job(job.submit_message())
            return job.job_id
        return service.submit(step.request)

    def _end(self, status: str, message: str) -> None:
        self.current = None
        self.sig_runs_changed.emit()
        self.sig_stage_ended.emit(status, message)

    # --- evaluation and merge ----------------------------------------------------------------------
    def evaluate(self, run_id: str, against: str = "base", prompts: int | None = None, scorer=None) -> str:
        """Start a before / after evaluation of a finished run; returns its id."""
        from avr_studio.app_settings import load_app_settings
        from backend.worker.before_after import prepare_evaluation

        generator = replace(load_app_settings().model, name="")
        plan = prepare_evaluation(self.store, run_id, against, prompts, scorer, generator)
        job_id = self.context.jobs_service.submit(plan.request)
        self.store.update_evaluation(plan.evaluation.id, "running", job_id)
        self._evaluations[job_id] = plan.evaluation.id
        return plan.evaluation.id

    def merge(self, run_id: str, out_dir: Path | str) -> str:
        """Save a finished run as a plain model folder (a job of the worker); returns the job id."""
        from backend.job_requests import MergeRequest
        from backend.worker.before_after import finished_generator_run

        run = finished_generator_run(self.store, run_id)
        out = Path(out_dir).expanduser().resolve()
        if out.exists() and any(out.iterdir()):
            raise UserError(f"{out} already exists and is not empty; choose a new folder for the merged model")
        job_id = self.context.jobs_service.submit(MergeRequest(run.id, str(self.store.runs_dir.resolve()), str(out)))
        self._merges[job_id] = str(out)
        return job_id

    # --- worker events -----------------------------------------------------------------------------
    def _on_result(self, event: protocol.Result) -> None:
        current = self.current
        if current is None or event.job_id != current.job_id:
            return
        training_event = event_of(event.record or {})
        if training_event is None:
            return
        self.sig_training_event.emit(training_event)
        if time.monotonic() - self._last_sync >= SYNC_INTERVAL_S or training_event.kind in ("started", "ended"):
            self._sync(training_event.run_id)

    def _on_progress(self, event: protocol.Progress) -> None:
        if self.current is not None and event.job_id == self.current.job_id:
            self.sig_progress.emit(event)

    def _sync(self, run_id: str) -> None:
        from backend.training.runs import sync_run

        self._last_sync = time.monotonic()
        if self.store is not None:
            sync_run(self.store, run_id)
            self.sig_runs_changed.emit()

    def _on_job_ended(self, job_id: str, status: str, message: str) -> None:
        if self.store is None:
            return
        if job_id in self._evaluations:
            self._evaluation_ended(job_id, status)
            return
        if job_id in self._merges:
            folder = self._merges.pop(job_id)
            self.sig_merge_finished.emit(status, folder if status == "finished" else message or status)
            return
        current = self.current
        if current is None or job_id != current.job_id:
            return
        if self.context.jobs_service is not None:
            self.context.jobs_service.flush()  # the step's results are in the store before its pairs
        store = self.store
        stages.job_ended(store, current.stage_run, current.step, store.jobs_dir / job_id, status)
        if status != "finished":
            title = stages.PHASE_TITLES[current.step.phase]
            what = message or ("cancelled; Continue resumes it from its last checkpoint" if status == "cancelled"
                               else status)
            self._end(status, f"{title}: {what}")
            return
        self._advance()

    def _evaluation_ended(self, job_id: str, status: str) -> None:
        from backend.worker.before_after import sync_evaluation

        evaluation_id = self._evaluations.pop(job_id)
        if self.context.jobs_service is not None:
            self.context.jobs_service.flush()
        sync_evaluation(self.store, evaluation_id, self.store.jobs_dir / job_id)
        self.store.update_evaluation(evaluation_id, status)
        self.sig_evaluation_finished.emit(evaluation_id, status)

    def _on_worker_died(self, message: str) -> None:
        if self.current is not None and self.current.step is not None:
            self._on_job_ended(self.current.job_id, "failed", f"the worker stopped ({message}); Continue resumes "
                                                              "the stage from its last checkpoint")

    # --- project -----------------------------------------------------------------------------------
    def _on_project_opened(self) -> None:
        """Bring every run's row up to its folder (a run the last session left mid-way shows where it got)."""
        from backend.training.runs import sync_run

        for run in self.store.runs():
            sync_run(self.store, run.id)
        self.sig_runs_changed.emit()

    def _forget(self) -> None:
        self.current = None
        self._evaluations.clear()
        self._merges.clear()

"""Submits worker jobs for the open project and brings their results into the store.

Jobs are made by `backend.worker.submission.prepare_job`, as the CLI makes them. The GUI process is
the database's only writer, so results are ingested here, on the UI thread, from the job's journal in
small timer-driven batches that keep the window responsive; ingesting also rebuilds the touched
prompts' pairs (`backend.worker.ingest`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from avr_studio.context import ProjectContext
from avr_studio.job_labels import (
    GENERATION_SPEED_SETTING,
    JOB_LABEL_PREFIX,
    GenerationSpeed,
    kind_title,
    measured_speed,
    prompt_names,
)
from backend import protocol
from backend.config import TreeConfig
from backend.curation.ranking import job_scorers
from backend.job_requests import JobRequest
from backend.worker.ingest import ingest_journal
from backend.worker.journal import WORKER_LOG_NAME
from backend.worker.submission import prepare_job

INGEST_INTERVAL_MS = 250  # results arriving within this window are written in one batch
ACTIVE_STATUSES = ("queued", "running")
WORKER_DIED_TITLE = "The worker stopped while this job ran"
RECOVERY_WAIT_S = 5.0  # on open, how long the UI waits for a worker that a killed session left running


@dataclass
class _JobRun:
    """A job submitted in this session: what it runs, and what its progress said about speed."""

    kind: str
    model: str
    prompts: int
    started: float = field(default_factory=time.monotonic)
    tokens_per_s: float | None = None
    nodes: int = 0


def job_label_text(label: object, kind: str) -> str:
    """The row title of a job from its stored label (a dict written at submit), else its kind's title."""
    if isinstance(label, dict):
        names = prompt_names(list(label.get("prompts") or []), total=int(label.get("count") or 0))
        return " · ".join(part for part in (str(label.get("title") or kind_title(kind)), names) if part)
    return kind_title(kind)


def worker_died_advice(message: str) -> str:
    return (f"Cause: {message}. Results written before it stopped were kept. Restart the worker "
            "(Jobs panel) and run the job again; it resumes where it stopped. The Worker Log tab may say why.")


class JobsService(QObject):
    """Creates job rows and folders, sends jobs to the WorkerClient, and ingests their journals."""

    sig_job_submitted = Signal(str, str)
    """A job was created and sent to the worker (job id, kind)."""

    sig_job_status_changed = Signal(str, str)
    """A job's stored status changed (job id, status: running / finished / failed / cancelled)."""

    sig_results_ingested = Signal(str, int)
    """Journal records of a job were written to the store (job id, records seen since last time)."""

    sig_job_note_added = Signal(str, str)
    """A job got a note worth showing (job id, text): a skipped journal line, results refused because
    their tree slot was full, requests that failed. Notes are kept in the store (`store.job_notes`)."""

    sig_resume_failed = Signal(str, str)
    """A job could not be resumed (job id, the one-line reason)."""

    sig_speed_measured = Signal(object)
    """A finished tree job measured the generation speed (job_labels.GenerationSpeed), stored with the project."""

    def __init__(self, context: ProjectContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.worker = context.worker_client
        self._dirty_jobs: dict[str, int] = {}  # job id -> results not yet ingested
        self._prompts_by_node: dict[str, str] = {}  # so a score-only batch still names its prompt
        self._changed_prompts: set[str] = set()
        self._runs: dict[str, _JobRun] = {}  # jobs of this session: what they run and how fast
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(INGEST_INTERVAL_MS)
        self._timer.timeout.connect(self.flush)
        if self.worker is not None:
            self.worker.sig_job_started.connect(self._on_started)
            self.worker.sig_progress.connect(self._on_progress)
            self.worker.sig_result.connect(self._on_result)
            self.worker.sig_job_finished.connect(self._on_finished)
            self.worker.sig_job_failed.connect(self._on_failed)
            self.worker.sig_job_cancelled.connect(self._on_cancelled)
            self.worker.sig_process_died.connect(self._on_process_died)
            self.worker.sig_output_line.connect(self._keep_worker_output)
        context.sig_project_opened.connect(self.recover_interrupted_jobs)

    # --- submitting ----------------------------------------------------------------------------
    def job_dir(self, job_id: str) -> Path:
        return Path(self.context.store.jobs_dir) / job_id

    def submit(self, request: JobRequest) -> str:
        """Prepare the job (folder, request.json, row) and send it to the worker; returns the job id."""
        store = self.context.store
        if store is None:
            raise RuntimeError("open a project before submitting a job")
        job = prepare_job(request, store=store)
        prompts = list(getattr(request, "prompts", None) or [getattr(request, "prompt", None)])
        texts = [prompt.text for prompt in prompts if prompt is not None]
        store.set_setting(JOB_LABEL_PREFIX + job.job_id, {"title": kind_title(job.kind), "prompts": texts[:3],
                                                          "count": len(texts)})
        model = getattr(getattr(request, "model", None), "name", "")
        self._runs[job.job_id] = _JobRun(job.kind, model, len(texts))
        self.worker.submit_job(job.submit_message())
        self.sig_job_submitted.emit(job.job_id, job.kind)
        return job.job_id

    def job_label(self, job_id: str, kind: str) -> str:
        """'Grow trees · 2 prompts: “…”, “…”' for a job the app submitted; the kind's title otherwise."""
        store = self.context.store
        label = store.get_setting(JOB_LABEL_PREFIX + job_id) if store is not None else None
        return job_label_text(label, kind)

    def job_labels(self) -> dict[str, str]:
        """Labels of every job the app submitted in this project, by job id (one query)."""
        store = self.context.store
        if store is None:
            return {}
        stored = store.settings_with_prefix(JOB_LABEL_PREFIX)
        return {key[len(JOB_LABEL_PREFIX):]: job_label_text(value, "") for key, value in stored.items()}

    def generation_speed(self, model: str) -> GenerationSpeed:
        """What the last finished tree job of `model` measured here, else the first-run guess."""
        store = self.context.store
        return GenerationSpeed.from_setting(store.get_setting(GENERATION_SPEED_SETTING) if store else None, model)

    def submit_stage1(self, prompt_ids: list[str], tree: TreeConfig | None = None) -> str:
        """Grow one Stage I tree for each prompt with the generator and sampling from Settings, scored
        by the project's ranking scorer and the scorer of Settings (`job_scorers`)."""
        from avr_studio.app_settings import load_app_settings
        from backend.worker.request_builders import stage1_request

        store = self.context.store
        settings = load_app_settings()
        choice = settings.generation_choice(store, tree or TreeConfig())  # the preset, as the CLI's --preset
        by_id = store.prompts_by_id(prompt_ids)
        request = stage1_request(store, [by_id[pid] for pid in prompt_ids if pid in by_id], choice.model,
                                 job_scorers(store, [settings.scorer]), choice.tree, choice.sampling, choice.templates)
        return self.submit(request)

    def submit_regenerate(self, criticism_id: str) -> str:
        """New improvements of a criticism from its current text, scored like a Stage I job's."""
        from avr_studio.app_settings import load_app_settings
        from backend.worker.request_builders import regenerate_request

        store = self.context.store
        settings = load_app_settings()
        choice = settings.generation_choice(store)
        request = regenerate_request(store, criticism_id, choice.model, job_scorers(store, [settings.scorer]),
                                     choice.sampling)
        return self.submit(request)

    def cancel(self, job_id: str) -> None:
        if self.worker is not None and self.worker.is_running():
            self.worker.cancel_job(job_id)

    def active_job_ids(self) -> list[str]:
        store = self.context.store
        if store is None:
            return []
        return [job.id for job in store.jobs() if job.status in ACTIVE_STATUSES]

    # --- results -------------------------------------------------------------------------------
    def _on_progress(self, event: protocol.Progress) -> None:
        run = self._runs.get(event.job_id)
        if run is not None and event.tokens_per_s:
            run.tokens_per_s = event.tokens_per_s

    def _on_result(self, event: protocol.Result) -> None:
        record = event.record or {}
        run = self._runs.get(event.job_id)
        if run is not None and record.get("type") == "node":
            run.nodes += 1
        prompt_id = record.get("prompt_id") or self._prompts_by_node.get(record.get("node_id", ""))
        if prompt_id:
            self._changed_prompts.add(prompt_id)
            if record.get("type") == "node" and record.get("id"):
                self._prompts_by_node[record["id"]] = prompt_id
        self._dirty_jobs[event.job_id] = self._dirty_jobs.get(event.job_id, 0) + 1
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Ingest every job with new results now (the timer calls this; tests may too)."""
        self._timer.stop()
        store = self.context.store
        if store is None or not self._dirty_jobs:
            return
        dirty, self._dirty_jobs = self._dirty_jobs, {}
        for job_id, count in dirty.items():
            ingest_journal(store, self.job_dir(job_id), job_id,
                           on_warning=lambda text, job_id=job_id: self.sig_job_note_added.emit(job_id, text))
            self.sig_results_ingested.emit(job_id, count)
        changed, self._changed_prompts = self._changed_prompts, set()
        for prompt_id in sorted(changed) or [""]:
            self.context.notify_data_changed(prompt_id)

    def _keep_worker_output(self, line: str) -> None:
        """The worker's own output goes to the running job's worker.log, as a CLI job's does."""
        if self.context.store is None:
            return
        for job_id in self.worker.running_job_ids:
            try:
                with (self.job_dir(job_id) / WORKER_LOG_NAME).open("a", encoding="utf-8") as log:
                    log.write(line + "\n")
            except OSError:
                pass  # the Worker Log tab still shows it

    # --- status --------------------------------------------------------------------------------
    def _set_status(self, job_id: str, status: str, error: str | None = None) -> None:
        if self.context.store is not None:
            self.context.store.update_job(job_id, status, error=error)
        self.sig_job_status_changed.emit(job_id, status)

    def _on_started(self, event: protocol.JobStarted) -> None:
        run = self._runs.get(event.job_id)
        if run is not None:
            run.started = time.monotonic()
        self._set_status(event.job_id, "running")

    def _note_failed_requests(self, event: protocol.JobFinished) -> None:
        """A finished job where some model requests failed (the worker's "k of n"): a note on its row."""
        failed = (event.summary or {}).get("failed_requests", 0)
        store = self.context.store
        if not failed or store is None:
            return
        text = (f"{failed} of {event.summary.get('requests', failed)} model requests failed (first error: "
                f"{event.summary.get('first_error')}). Resume the job to retry them.")
        store.add_job_note(event.job_id, "warning", text)
        self.sig_job_note_added.emit(event.job_id, text)

    def _on_finished(self, event: protocol.JobFinished) -> None:
        self._remember_speed(event.job_id)
        self._end(event.job_id, "finished")
        self._note_failed_requests(event)

    def _remember_speed(self, job_id: str) -> None:
        """A tree job that generated nodes tells how fast trees grow here (the Grow Trees estimate)."""
        run = self._runs.get(job_id)
        store = self.context.store
        if store is None or run is None or run.kind != "stage1" or not run.nodes or not run.tokens_per_s:
            return
        speed = measured_speed(run.model, run.tokens_per_s, time.monotonic() - run.started, run.nodes)
        store.set_setting(GENERATION_SPEED_SETTING, speed.to_setting())
        self.sig_speed_measured.emit(speed)

    def _on_failed(self, event: protocol.JobFailed) -> None:
        self._end(event.job_id, "failed", error=f"{event.title} — {event.what_to_do}")

    def _on_cancelled(self, event: protocol.JobCancelled) -> None:
        self._end(event.job_id, "cancelled")

    def _end(self, job_id: str, status: str, error: str | None = None) -> None:
        self._dirty_jobs.setdefault(job_id, 0)  # a last journal sweep keeps everything the job produced
        self.flush()
        self._set_status(job_id, status, error=error)
        self.context.notify_data_changed("")  # a job may bring a scorer and change many prompts' order

    def _on_process_died(self, message: str) -> None:
        for job_id in self.active_job_ids():
            self._dirty_jobs.setdefault(job_id, 0)
            self.flush()
            self._set_status(job_id, "failed", error=f"{WORKER_DIED_TITLE} — {worker_died_advice(message)}")

    def recover_interrupted_jobs(self) -> None:
        """On open, what a crash or a kill of the last session left (`backend.worker.recovery`): wait a
        moment for its worker, import the journal records it did not see, mark jobs whose worker is
        gone "interrupted" (the Jobs panel offers Resume), remove killed exports' temp files."""
        from backend.worker.recovery import recover_project

        store = self.context.store
        if store is None:
            return
        notes: list[tuple[str, str]] = []
        recovery = recover_project(store, wait_s=RECOVERY_WAIT_S)
        for job_id in recovery.interrupted:
            self.sig_job_status_changed.emit(job_id, "interrupted")
        for job_id, pid in recovery.still_running.items():
            text = (f"Still running in a worker left by an earlier session (pid {pid}); reopen the project once "
                    "it has ended to import the rest of its results.")
            store.add_job_note(job_id, "warning", text)
            notes.append((job_id, text))
        for note in store.job_notes():
            if note.text in recovery.warnings:
                notes.append((note.job_id, note.text))
        for job_id, text in notes:
            self.sig_job_note_added.emit(job_id, text)
        if recovery.imported:
            self.context.notify_data_changed("")

    def resume(self, job_id: str) -> str:
        """Run an interrupted (failed, cancelled) job again in its folder: only what it had not done
        (`backend.worker.submission.resume_job`); UserError if it cannot be resumed."""
        store = self.context.store
        if store is None:
            raise RuntimeError("open a project before resuming a job")
        from backend.worker.submission import resume_job

        job = resume_job(store, job_id)
        self.worker.submit_job(job.submit_message())
        self.sig_job_status_changed.emit(job.job_id, "queued")
        return job.job_id

    def resume_from_panel(self, job_id: str) -> None:
        """The Jobs panel's Resume button: a job that cannot be resumed says why instead."""
        from backend.errors import UserError

        try:
            self.resume(job_id)
        except UserError as exc:
            self.sig_resume_failed.emit(job_id, str(exc))

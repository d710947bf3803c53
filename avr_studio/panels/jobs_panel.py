"""Jobs: one row per worker job with progress, tokens/s, ETA and a cancel button; a failure shows
what happened and what to do, with the traceback behind a Details toggle; a dead worker offers a restart.
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from avr_studio.context import ProjectContext
from avr_studio.job_labels import kind_title
from avr_studio.jobs_service import WORKER_DIED_TITLE, worker_died_advice
from avr_studio.log_lines import library_progress
from backend import protocol
from backend.presets import job_preset

ERROR_STYLE = "color: #b00020;"
RESUMABLE = ("interrupted", "failed", "cancelled")  # backend.worker.submission.RESUMABLE_STATUSES
NOTE_STYLE = "color: #8a5300;"
ENDED_TEXT = {"finished": "Finished", "failed": "Failed", "cancelled": "Cancelled", "queued": "Queued",
              "interrupted": "Interrupted",
              "running": "Running"}


def format_eta(seconds: float | None) -> str:
    """A short human duration: 'ETA 45 s', 'ETA 3 min 05 s', 'ETA 1 h 02 min'."""
    if seconds is None or seconds < 0:
        return "ETA –"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"ETA {seconds} s"
    if seconds < 3600:
        return f"ETA {seconds // 60} min {seconds % 60:02d} s"
    return f"ETA {seconds // 3600} h {seconds % 3600 // 60:02d} min"


_PRESS_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter)


class _ButtonKeys(QObject):
    """Space, Return and Enter press a job's focused button. Without this, Space would reach the main
    window's Skip shortcut (shortcuts win over a button that does not claim the key), and a push button
    outside a dialog ignores Return."""

    def eventFilter(self, button: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in _PRESS_KEYS:
            event.accept()  # the key is the button's, not a shortcut's
            return True
        if event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            button.animateClick()
            return True
        return False


class JobRowWidget(QFrame):
    """One job: title, status, progress bar, speed/ETA line, cancel button, and an error area."""

    sig_cancel_requested = Signal(str)
    """The person asked to cancel this job (job id)."""

    sig_resume_requested = Signal(str)
    """The person asked to finish an interrupted (failed, cancelled) job where it stopped (job id)."""

    def __init__(self, job_id: str, kind: str, label: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_id = job_id
        self.status = "queued"
        self.setObjectName(f"job-{job_id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._first_done: int | None = None  # steps done when this run's first progress came
        self._rate_start: tuple[float, int] | None = None  # (time, steps done) once its first step was done
        self._stats_text = ""  # the job's own progress line; a library's progress is appended to it
        self.library_line = ""
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        # What the job does and to which prompts, then its id in grey (for the job folder and the CLI).
        title, _, names = (label or kind_title(kind)).partition(" · ")
        names_html = f" · {html.escape(names)}" if names else ""
        self.title_label = QLabel(f"<b>{html.escape(title)}</b>{names_html} "
                                  f"<span style='color:gray'>{job_id}</span>")
        self.title_label.setWordWrap(True)
        self.status_label = QLabel("Queued")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this job; results written so far are kept")
        self.cancel_button.clicked.connect(lambda: self.sig_cancel_requested.emit(self.job_id))
        top.addWidget(self.title_label, 1)
        self.preset_label = QLabel()  # the generation preset its nodes record (`show_preset`)
        self.preset_label.setObjectName("jobPreset")
        self.preset_label.setStyleSheet("color: gray;")
        self.preset_label.hide()
        top.addWidget(self.preset_label)
        top.addWidget(self.status_label)
        top.addWidget(self.cancel_button)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Run the job again in its folder: only what it had not done yet")
        self.resume_button.clicked.connect(lambda: self.sig_resume_requested.emit(self.job_id))
        self.resume_button.hide()
        top.addWidget(self.resume_button)
        layout.addLayout(top)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 0)  # busy until the first Progress says how much there is
        layout.addWidget(self.progress_bar)
        self.stats_label = QLabel("")
        self.stats_label.setStyleSheet("color: gray;")
        layout.addWidget(self.stats_label)
        self.error_title = QLabel()
        self.error_title.setStyleSheet(ERROR_STYLE + " font-weight: bold;")
        self.error_title.setWordWrap(True)
        self.what_to_do = QLabel()
        self.what_to_do.setWordWrap(True)
        self.what_to_do.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QPushButton("Show details")
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self._toggle_details)
        self.traceback_view = QPlainTextEdit(readOnly=True)
        self.traceback_view.setMaximumHeight(180)
        self.notes_label = QLabel()  # what ingesting its journal had to say (`show_note`)
        self.notes_label.setObjectName("jobNotes")
        self.notes_label.setWordWrap(True)
        self.notes_label.setStyleSheet(NOTE_STYLE)
        self.notes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for widget in (self.error_title, self.what_to_do, self.details_button, self.traceback_view,
                       self.notes_label):
            widget.hide()
            layout.addWidget(widget)
        self._button_keys = _ButtonKeys(self)
        for button in (self.cancel_button, self.resume_button, self.details_button):
            button.installEventFilter(self._button_keys)
        self.notes: list[str] = []

    def show_note(self, text: str) -> None:
        """A warning about the job's results: a skipped journal line, refused results, failed requests."""
        if text in self.notes:
            return
        self.notes.append(text)
        self.notes_label.setText("\n".join(f"⚠ {note}" for note in self.notes))
        self.notes_label.show()

    def show_preset(self, preset: str) -> None:
        """The generation preset the job runs with, as its nodes record it (e.g. 'paper+custom(...)')."""
        self.preset_label.setText(f"preset {preset}")
        self.preset_label.setToolTip("Generation settings (Settings → Generation, or --preset on the command line)")
        self.preset_label.show()

    def show_queued(self) -> None:
        """Submitted again (resumed): waiting for the worker."""
        self.status = "queued"
        self.status_label.setText("Queued")
        self.status_label.setStyleSheet("")
        self.resume_button.hide()
        self.cancel_button.show()
        for widget in (self.error_title, self.what_to_do, self.details_button, self.traceback_view):
            widget.hide()

    def show_started(self) -> None:
        self.status = "running"
        self.status_label.setText("Running")

    def show_progress(self, event: protocol.Progress, now: float | None = None) -> None:
        self.show_started()
        now = time.monotonic() if now is None else now
        self.progress_bar.setRange(0, max(event.total, 1))
        self.progress_bar.setValue(min(event.done, max(event.total, 1)))
        self.progress_bar.setFormat(f"{event.done} / {event.total}")
        parts = []
        if event.tokens_per_s is not None:
            parts.append(f"{event.tokens_per_s:.0f} tokens/s")
        parts.append(format_eta(self._eta(event, now)))
        if event.message:
            parts.append(event.message)
        self.library_line = ""
        self.stats_label.setText(" · ".join(parts))
        self._stats_text = self.stats_label.text()

    def _eta(self, event: protocol.Progress, now: float) -> float | None:
        """Seconds left, from the pace since this run's first finished step. (The worker's own ETA counts
        the model loading in the first step's time, which doubled the first estimate.)"""
        if self._first_done is None or event.done < self._first_done:
            self._first_done, self._rate_start = event.done, None  # the run starts (or restarts) here
            return None
        if self._rate_start is None:
            if event.done > self._first_done:
                self._rate_start = (now, event.done)  # the first step is done: the pace is measured from here
            return None
        started, done_then = self._rate_start
        steps = event.done - done_then
        if steps <= 0 or now <= started:
            return None
        return (now - started) / steps * max(event.total - event.done, 0)

    def show_library_progress(self, text: str) -> None:
        """A library's progress bar (model loading, a batch) folded into this job's line."""
        self.library_line = text
        base = self._stats_text or "Starting"
        self.stats_label.setText(f"{base} · {text}")

    def show_ended(self, status: str) -> None:
        self.status = status
        self.status_label.setText(ENDED_TEXT.get(status, status))
        self.cancel_button.hide()
        self.resume_button.setVisible(status in RESUMABLE)
        if self.progress_bar.maximum() == 0:  # never got a Progress: don't leave it spinning
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(1 if status == "finished" else 0)
        elif status == "finished":
            self.progress_bar.setValue(self.progress_bar.maximum())

    def show_error(self, title: str, what_to_do: str, traceback: str = "") -> None:
        self.show_ended("failed")
        self.status_label.setStyleSheet(ERROR_STYLE)
        self.error_title.setText(title)
        self.what_to_do.setText(what_to_do)
        self.error_title.show()
        self.what_to_do.setVisible(bool(what_to_do))
        self.traceback_view.setPlainText(traceback)
        self.details_button.setVisible(bool(traceback))

    def _toggle_details(self, shown: bool) -> None:
        self.traceback_view.setVisible(shown)
        self.details_button.setText("Hide details" if shown else "Show details")


class JobsPanel(QWidget):
    """The jobs list of the open project, fed by WorkerClient events and JobsService submissions."""

    sig_cancel_requested = Signal(str)
    """The person asked to cancel a job (job id)."""

    sig_resume_requested = Signal(str)
    """The person asked to resume an interrupted job (job id)."""

    sig_worker_restart_requested = Signal()
    """The person asked to start a fresh worker after the old one died."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.rows: dict[str, JobRowWidget] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._build_worker_banner())
        self.empty_label = QLabel("No jobs yet. Jobs → Grow Trees… starts one.")
        self.empty_label.setStyleSheet("color: gray;")
        layout.addWidget(self.empty_label)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget()
        self.rows_layout = QVBoxLayout(holder)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.addStretch(1)
        self.scroll_area.setWidget(holder)
        layout.addWidget(self.scroll_area, 1)
        self._connect(context)
        self.reload_from_store()

    def _build_worker_banner(self) -> QWidget:
        self.worker_banner = QFrame()
        self.worker_banner.setObjectName("workerBanner")
        self.worker_banner.setStyleSheet("#workerBanner { background: #fdecea; border: 1px solid #f5c2c0; }")
        row = QHBoxLayout(self.worker_banner)
        self.worker_banner_label = QLabel()
        self.worker_banner_label.setWordWrap(True)
        self.worker_banner_label.setStyleSheet(ERROR_STYLE)
        self.restart_button = QPushButton("Restart worker")
        self.restart_button.clicked.connect(self._on_restart_clicked)
        self._button_keys = _ButtonKeys(self)
        self.restart_button.installEventFilter(self._button_keys)
        row.addWidget(self.worker_banner_label, 1)
        row.addWidget(self.restart_button)
        self.worker_banner.hide()
        return self.worker_banner

    def _connect(self, context: ProjectContext) -> None:
        context.sig_project_opened.connect(self.reload_from_store)
        context.sig_project_closed.connect(self.reload_from_store)
        worker = context.worker_client
        if worker is not None:
            worker.sig_job_started.connect(self.on_job_started)
            worker.sig_progress.connect(self.on_progress)
            worker.sig_job_failed.connect(self.on_job_failed)
            worker.sig_job_finished.connect(self.on_job_finished)
            worker.sig_job_cancelled.connect(self.on_job_cancelled)
            worker.sig_process_died.connect(self.on_worker_died)
            worker.sig_process_started.connect(self.worker_banner.hide)
            worker.sig_output_line.connect(self.on_worker_output)
        if context.jobs_service is not None:
            context.jobs_service.sig_job_submitted.connect(self.add_job)
            context.jobs_service.sig_job_status_changed.connect(self.on_job_status_changed)
            context.jobs_service.sig_job_note_added.connect(lambda job_id, text: self._row(job_id).show_note(text))
            self.sig_resume_requested.connect(context.jobs_service.resume_from_panel)
            context.jobs_service.sig_resume_failed.connect(self._show_resume_failure)
            self.sig_cancel_requested.connect(context.jobs_service.cancel)

    # --- rows ----------------------------------------------------------------------------------
    def reload_from_store(self) -> None:
        """Show the project's past jobs, newest first (their final state from the store)."""
        for row in self.rows.values():
            row.deleteLater()
        self.rows.clear()
        store = self.context.store
        if store is not None:
            labels = self.context.jobs_service.job_labels() if self.context.jobs_service is not None else {}
            for job in sorted(store.jobs(), key=lambda j: j.created_at):
                self.add_job(job.id, job.kind, labels.get(job.id, ""))
                self._show_stored_status(job)
        self.empty_label.setVisible(not self.rows)

    def _show_stored_status(self, job) -> None:
        row = self.rows[job.id]
        store = self.context.store
        for note in store.job_notes(job.id) if store is not None else []:
            row.show_note(note.text)
        if job.status == "interrupted":
            row.show_ended("interrupted")
            row.what_to_do.setText(job.error or "")
            row.what_to_do.setVisible(bool(job.error))
        elif job.status == "failed":
            title, _, what = (job.error or "Failed").partition(" — ")
            row.show_error(title, what)
        elif job.status == "running":
            row.show_started()
        elif job.status != "queued":
            row.show_ended(job.status)

    def on_job_status_changed(self, job_id: str, status: str) -> None:
        """The service changed a stored status (e.g. recovery after a crash): show the stored state."""
        store = self.context.store
        job = store.get_job(job_id) if store is not None else None
        if job is not None and status == "queued" and job_id in self.rows:
            self.rows[job_id].show_queued()  # resumed
        elif job is not None and (job_id not in self.rows or status in ("failed", "interrupted")):
            self.add_job(job.id, job.kind)
            self._show_stored_status(job)

    def add_job(self, job_id: str, kind: str, label: str | None = None) -> JobRowWidget:
        if job_id in self.rows:
            return self.rows[job_id]
        service = self.context.jobs_service
        if label is None and service is not None and self.context.store is not None:
            label = service.job_label(job_id, kind)
        row = JobRowWidget(job_id, kind, label or "")
        job = self.context.store.get_job(job_id) if self.context.store is not None else None
        preset = job_preset(job.request) if job is not None else None
        if preset:
            row.show_preset(preset)
        row.sig_cancel_requested.connect(self.sig_cancel_requested)
        row.sig_resume_requested.connect(self.sig_resume_requested)
        self.rows[job_id] = row
        self.rows_layout.insertWidget(0, row)  # newest on top
        row.show()  # a child added to a shown widget stays hidden until shown
        self.empty_label.hide()
        return row

    def focus_newest_job(self) -> bool:
        """Put the keyboard on the newest job's visible button (Cancel while it runs, Resume after it
        stopped, else Show details), or on the worker's Restart when the worker died; False if none."""
        candidates = [self.restart_button]
        for index in range(self.rows_layout.count()):  # newest first
            row = self.rows_layout.itemAt(index).widget()
            if isinstance(row, JobRowWidget):
                candidates += [row.cancel_button, row.resume_button, row.details_button]
        button = next((b for b in candidates if b.isVisibleTo(self) and b.isEnabled()), None)
        if button is None:
            return False
        button.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.scroll_area.ensureWidgetVisible(button)
        return True

    def _show_resume_failure(self, job_id: str, text: str) -> None:
        """Why Resume did nothing, on the job's row, scrolled into the (short) Jobs strip's view."""
        row = self._row(job_id)
        row.show_note(text)
        QTimer.singleShot(0, lambda: self.scroll_area.ensureWidgetVisible(row.notes_label))

    def _row(self, job_id: str) -> JobRowWidget:
        return self.rows.get(job_id) or self.add_job(job_id, "job")

    # --- events (slots; tests may call them with protocol event objects) -------------------------
    def on_job_started(self, event: protocol.JobStarted) -> None:
        self.add_job(event.job_id, event.kind or "job").show_started()

    def on_progress(self, event: protocol.Progress) -> None:
        self._row(event.job_id).show_progress(event)

    def on_job_failed(self, event: protocol.JobFailed) -> None:
        self._row(event.job_id).show_error(event.title, event.what_to_do, event.traceback)

    def on_job_finished(self, event: protocol.JobFinished) -> None:
        self._row(event.job_id).show_ended("finished")

    def on_job_cancelled(self, event: protocol.JobCancelled) -> None:
        self._row(event.job_id).show_ended("cancelled")

    def on_worker_output(self, line: str) -> None:
        """A library's progress bar on the worker's stderr goes to the running job's row."""
        progress = library_progress(line)
        if progress is None:
            return
        for row in self.rows.values():
            if row.status == "running":
                row.show_library_progress(progress.text)

    def on_worker_died(self, message: str) -> None:
        for row in self.rows.values():
            if row.status in ("queued", "running"):
                row.show_error(WORKER_DIED_TITLE, worker_died_advice(message))
        self.worker_banner_label.setText(
            f"{message[:1].upper()}{message[1:]}. Jobs cannot run until the worker is restarted.")
        self.worker_banner.show()

    def _on_restart_clicked(self) -> None:
        self.worker_banner.hide()
        self.sig_worker_restart_requested.emit()

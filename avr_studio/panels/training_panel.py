"""The Training panel: choose a stage and its settings, see before the click what it will use (counts by
kind and by who decided) and how long it should take, train with one click, follow it live (curves,
progress, tokens/s, ETA, cancel), and work with the project's runs (use one for generation, evaluate it
against its base, save it as a model folder, open its folder).

The work happens in `TrainingController` (the same steps as `avr-studio train`); this panel only shows it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from avr_studio.context import ProjectContext
from avr_studio.models.runs_model import STAGE_TITLES, RunsModel
from avr_studio.panels.training_curves import TrainingCurves
from avr_studio.panels.training_form import TrainingForm
from avr_studio.training_controller import TrainingController
from backend import protocol
from backend.errors import UserError
from backend.training.events import TrainingEvent
from backend.worker import training_stages as stages

PLAN_DELAY_MS = 250  # the plan is computed again this long after the last change of a field


def eta_text(seconds: float | None) -> str:
    """
    >>> eta_text(None), eta_text(42), eta_text(3725)
    ('ETA –', 'ETA 42 s', 'ETA 1 h 02 min')
    """
    if seconds is None:
        return "ETA –"
    seconds = round(seconds)
    if seconds < 60:
        return f"ETA {seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"ETA {minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"ETA {hours} h {minutes:02d} min"


class TrainingPanel(QWidget):
    sig_evaluation_shown = Signal(str)
    """An evaluation this panel started has finished: show it (its id)."""

    def __init__(self, context: ProjectContext, controller: TrainingController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.controller = controller
        self.plans: list[stages.PhasePlan] = []
        self.phase = ""

        self.form = TrainingForm()
        self.train_button = QPushButton("Train")
        self.train_button.setDefault(True)
        self.train_button.setToolTip("Train the stage: each phase runs as a job of the worker, so curation goes on")
        settings_box = QGroupBox("Settings")
        settings_layout = QVBoxLayout(settings_box)
        settings_layout.addWidget(self.form)
        settings_layout.addStretch(1)
        settings_layout.addWidget(self.train_button)

        self.plan_label = QLabel()
        self.plan_label.setWordWrap(True)
        self.plan_label.setTextFormat(Qt.TextFormat.RichText)
        self.plan_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.interrupted_label = QLabel()
        self.interrupted_label.setWordWrap(True)
        self.continue_button = QPushButton("Continue")
        interrupted = QHBoxLayout()
        interrupted.addWidget(self.interrupted_label, 1)
        interrupted.addWidget(self.continue_button)
        self.interrupted_box = QWidget()
        self.interrupted_box.setLayout(interrupted)
        self.interrupted_box.setStyleSheet("background: #fff4d6;")
        self.interrupted_box.hide()
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.status_label = QLabel("Nothing is training.")
        self.status_label.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        status = QHBoxLayout()
        status.addWidget(self.progress_bar, 2)
        status.addWidget(self.status_label, 3)
        status.addWidget(self.cancel_button)
        self.curves = TrainingCurves()
        live_box = QGroupBox("What it will use, and how it goes")
        live = QVBoxLayout(live_box)
        live.addWidget(self.interrupted_box)
        live.addWidget(self.plan_label)
        live.addLayout(status)
        live.addStretch(1)
        # The curves get the panel's whole width: beside the settings each plot was ~100 px wide and its
        # title was cut ("Lo", "Reward c").
        curves_box = QGroupBox("Curves")
        curves_layout = QVBoxLayout(curves_box)
        curves_layout.setContentsMargins(4, 4, 4, 4)
        curves_layout.addWidget(self.curves)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(settings_box)
        top.addWidget(live_box)
        top.setStretchFactor(1, 2)

        self.runs_model = RunsModel(self)
        self.runs_view = QTableView()
        self.runs_view.setModel(self.runs_model)
        self.runs_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.runs_view.verticalHeader().hide()
        self.runs_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.runs_view.horizontalHeader().setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)  # final metrics
        self.use_button = QPushButton("Use for generation")
        self.evaluate_button = QPushButton("Evaluate against base")
        self.evaluate_button.setToolTip("Answer the held-out prompts with this run and with its base model, score "
                                        "both, and show them side by side (Before / After)")
        self.merge_button = QPushButton("Save as model folder…")
        self.merge_button.setToolTip("Merge the run's adapters into its base and save a plain model folder")
        self.open_button = QPushButton("Open folder")
        self.run_note = QLabel()
        self.run_note.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.use_button, self.evaluate_button, self.merge_button, self.open_button):
            buttons.addWidget(button)
        buttons.addWidget(self.run_note, 1)
        runs_box = QGroupBox("Runs")
        runs_layout = QVBoxLayout(runs_box)
        runs_layout.addWidget(self.runs_view)
        runs_layout.addLayout(buttons)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(curves_box)
        split.addWidget(runs_box)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

        self._plan_timer = QTimer(self)
        self._plan_timer.setSingleShot(True)
        self._plan_timer.setInterval(PLAN_DELAY_MS)
        self._plan_timer.timeout.connect(self.refresh_plan)
        self.form.sig_options_changed.connect(self._plan_timer.start)
        self.form.stage.currentIndexChanged.connect(lambda _i: self._offer_bases(keep_choice=False))
        self.train_button.clicked.connect(self.start_training)
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.continue_button.clicked.connect(self.continue_training)
        self.use_button.clicked.connect(self.use_for_generation)
        self.evaluate_button.clicked.connect(self.evaluate_selected)
        self.merge_button.clicked.connect(self.merge_selected)
        self.open_button.clicked.connect(self.open_selected_folder)
        self.runs_view.selectionModel().selectionChanged.connect(lambda *_: self._on_run_selected())
        controller.sig_stage_started.connect(self._on_stage_started)
        controller.sig_step_started.connect(self._on_step_started)
        controller.sig_training_event.connect(self.on_training_event)
        controller.sig_progress.connect(self._on_progress)
        controller.sig_stage_ended.connect(self._on_stage_ended)
        controller.sig_runs_changed.connect(self.refresh_runs)
        controller.sig_evaluation_finished.connect(self._on_evaluation_finished)
        controller.sig_merge_finished.connect(self._on_merge_finished)
        context.sig_project_opened.connect(self._on_project_opened)
        context.sig_project_closed.connect(self._on_project_closed)
        if context.store is not None:
            self._on_project_opened()
        else:
            self._on_project_closed()

    # --- project ---------------------------------------------------------------------------------
    def _on_project_opened(self) -> None:
        self._offer_bases(keep_choice=False)
        self.refresh_runs()
        self._show_interrupted()
        self.refresh_plan()
        self._update_buttons()

    def _on_project_closed(self) -> None:
        self.runs_model.refresh(None)
        self.plan_label.setText("Open a project to train.")
        self.interrupted_box.hide()
        self._update_buttons()

    def _offer_bases(self, keep_choice: bool = True) -> None:
        """Offer the embedded model and every finished run; keep the person's choice unless the stage changed
        (Stage II starts from the latest Stage I model)."""
        store = self.context.store
        if store is None:
            return
        chosen = self.form.base_name() if keep_choice else ""
        finished = [run for run in reversed(store.runs()) if run.status == "finished" and run.stage != "reward"]
        names = [(f"run:{run.id}", f"{STAGE_TITLES.get(run.stage, run.stage)} run, {run.created_at:%Y-%m-%d %H:%M}")
                 for run in finished]
        self.form.set_bases(names, chosen or stages.default_base(store, self.form.stage.currentData()))

    def _show_interrupted(self) -> None:
        stage_run = self.controller.interrupted_stage()
        if stage_run is None:
            self.interrupted_box.hide()
            return
        reached = [p for p in stage_run.options.phases if p in stage_run.steps]
        where = stages.PHASE_TITLES[reached[-1]] if reached else "its start"
        self.interrupted_label.setText(
            f"Stage {stage_run.options.stage} ({stage_run.id}) stopped at {where} ({stage_run.status}). "
            "Continue picks it up where it stopped: a run resumes from its last checkpoint.")
        self.interrupted_box.show()

    # --- before the click ------------------------------------------------------------------------
    def generator_settings(self) -> dict:
        """The engine settings of the generation phases: those of File → Settings (the model aside)."""
        from avr_studio.app_settings import load_app_settings

        return {key: value for key, value in load_app_settings().model.to_dict().items() if key != "name"}

    def refresh_plan(self) -> None:
        """Show what the stage would use and how long it should take, or why it cannot start."""
        store = self.context.store
        if store is None:
            return
        try:
            options = self.form.options(self.generator_settings())
            self.plans = stages.plan_stage(store, options)
        except (ValueError, UserError) as error:
            self.plans = []
            self.plan_label.setText(f'<span style="color:#b00020">{error}</span>')
            self._update_buttons()
            return
        lines = []
        for plan in self.plans:
            line = f"<b>{plan.title}</b>: {plan.data}"
            if plan.estimate:
                line += f" <span style='color:#555'>· {plan.estimate}</span>"
            if plan.problem:
                line += f"<br><span style='color:#b00020'>{plan.problem}</span>"
            lines.append(line)
        heldout = next((plan.heldout for plan in self.plans if plan.heldout), None)
        if heldout:
            lines.append(f"<span style='color:#555'>{heldout.capitalize()}.</span>")
        self.plan_label.setText("<br>".join(lines))
        self._update_buttons()

    @property
    def problem(self) -> str | None:
        return next((f"{plan.title}: {plan.problem}" for plan in self.plans if plan.problem), None)

    def _update_buttons(self) -> None:
        has_project = self.context.store is not None
        training = self.controller.is_training
        self.train_button.setEnabled(has_project and not training and bool(self.plans) and self.problem is None)
        self.continue_button.setEnabled(has_project and not training)
        self.cancel_button.setEnabled(training)
        run = self.selected_run()
        finished = run is not None and run.status == "finished"
        finished_generator = finished and run.stage != "reward"
        reward_model = finished and run.stage == "reward"
        self.use_button.setEnabled(finished)
        self.use_button.setText("Use as scorer" if reward_model else "Use for generation")
        self.use_button.setToolTip("Score new answers with this reward model (rm:<id>; File → Settings shows it)"
                                   if reward_model else "Grow trees, chains and refinements with this run "
                                                        "(File → Settings shows it)")
        self.evaluate_button.setEnabled(finished_generator)
        self.merge_button.setEnabled(finished_generator)
        self.open_button.setEnabled(run is not None)

    # --- training --------------------------------------------------------------------------------
    def start_training(self) -> None:
        try:
            self.controller.start(self.form.options(self.generator_settings()))
        except (ValueError, UserError) as error:
            QMessageBox.warning(self, "Training could not start", str(error))
        self._update_buttons()

    def continue_training(self) -> None:
        stage_run = self.controller.interrupted_stage()
        if stage_run is not None:
            self.controller.continue_stage(stage_run)
        self._update_buttons()

    def _on_stage_started(self, _stage_id: str) -> None:
        self.interrupted_box.hide()
        self.status_label.setText("Starting…")
        self.progress_bar.setRange(0, 0)
        self._update_buttons()

    def _on_step_started(self, phase: str, job_id: str, run_id: str) -> None:
        self.phase = phase
        title = stages.PHASE_TITLES[phase]
        self.status_label.setText(f"{title}: waiting for the worker…")
        self.progress_bar.setRange(0, 0)
        if run_id:
            self.curves.show_run(run_id, f"{title} — run {run_id}", self.context.store.run_metrics(run_id))
        self._update_buttons()

    def on_training_event(self, event: TrainingEvent) -> None:
        if event.kind == "metrics":
            self.curves.add_metrics(event.run_id, event.step, event.metrics)
        if event.max_steps:
            self.progress_bar.setRange(0, event.max_steps)
            self.progress_bar.setValue(event.step)
            self.progress_bar.setFormat("step %v / %m")
        speed = f"{event.tokens_per_second:.0f} tokens/s" if event.tokens_per_second else "– tokens/s"
        loss = event.metrics.get("loss")
        self.status_label.setText(f"{stages.PHASE_TITLES.get(self.phase, self.phase)} · {speed} · "
                                  f"{eta_text(event.eta_seconds)}" + (f" · loss {loss:.4g}" if loss is not None else ""))

    def _on_progress(self, event: protocol.Progress) -> None:
        if self.phase in stages.GENERATION_PHASES and event.total:
            self.progress_bar.setRange(0, event.total)
            self.progress_bar.setValue(event.done)
            self.progress_bar.setFormat("%v / %m")
            self.status_label.setText(f"{stages.PHASE_TITLES[self.phase]} · {event.message} · {eta_text(event.eta_s)}")

    def _on_stage_ended(self, status: str, message: str) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1 if status == "finished" else 0)
        self.progress_bar.setFormat("done" if status == "finished" else status)
        self.status_label.setText(message)
        self._offer_bases()
        self._show_interrupted()
        self.refresh_plan()
        self._update_buttons()

    # --- runs ------------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        selected = self.selected_run()
        self.runs_model.refresh(self.context.store)
        if selected is not None:
            row = self.runs_model.row_of(selected.id)
            if row >= 0:
                self.runs_view.selectRow(row)
        self._update_buttons()

    def selected_run(self):
        rows = self.runs_view.selectionModel().selectedRows() if self.runs_view.selectionModel() else []
        return self.runs_model.run_at(rows[0].row()) if rows else None

    def select_run(self, run_id: str) -> None:
        self.runs_view.selectRow(self.runs_model.row_of(run_id))

    def _on_run_selected(self) -> None:
        run = self.selected_run()
        self._update_buttons()
        if run is None or self.controller.is_training or self.context.store is None:
            return
        self.curves.show_run(run.id, f"{STAGE_TITLES.get(run.stage, run.stage)} — run {run.id} ({run.status})",
                             self.context.store.run_metrics(run.id))

    def use_for_generation(self) -> None:
        """The selected run becomes the app's generator (run:<id>), or its scorer (rm:<id>, a reward model)."""
        from avr_studio.app_settings import load_app_settings, save_app_settings
        from backend.config import ScorerSpec

        run = self.selected_run()
        settings = load_app_settings()
        if run.stage == "reward":
            settings.scorer = ScorerSpec(kind="classifier", model=f"rm:{run.id}", batch_size=settings.scorer.batch_size)
            note = f"New answers are now scored by the reward model rm:{run.id} too (File → Settings)."
        else:
            settings.model = replace(settings.model, name=f"run:{run.id}")
            note = f"New trees, chains and refinements now use run:{run.id} (File → Settings)."
        save_app_settings(settings)
        self.run_note.setText(note)

    def evaluate_selected(self) -> None:
        run = self.selected_run()
        try:
            evaluation_id = self.controller.evaluate(run.id)
        except UserError as error:
            QMessageBox.warning(self, "Evaluation could not start", str(error))
            return
        self.run_note.setText(f"Evaluating run {run.id} against its base on the held-out prompts "
                              f"(evaluation {evaluation_id}; see the Jobs panel)…")

    def _on_evaluation_finished(self, evaluation_id: str, status: str) -> None:
        if status == "finished":
            self.run_note.setText(f"Evaluation {evaluation_id} finished: see Before / After.")
            self.sig_evaluation_shown.emit(evaluation_id)
        else:
            self.run_note.setText(f"Evaluation {evaluation_id} {status}; the Jobs panel says why.")

    def merge_selected(self) -> None:
        run = self.selected_run()
        folder = QFileDialog.getExistingDirectory(self, "Folder to hold the merged model (a new, empty one)")
        if not folder:
            return
        target = Path(folder)
        if any(target.iterdir()):
            target = target / f"run-{run.id}"
        try:
            self.controller.merge(run.id, target)
        except UserError as error:
            QMessageBox.warning(self, "Could not save the model", str(error))
            return
        self.run_note.setText(f"Saving run {run.id} as a model folder in {target}…")

    def _on_merge_finished(self, status: str, detail: str) -> None:
        self.run_note.setText(f"Saved the model folder {detail}." if status == "finished"
                              else f"Saving the model folder {status}: {detail}")

    def run_folder(self, run) -> Path:
        return self.context.store.project_dir / run.output_dir

    def open_selected_folder(self) -> None:
        run = self.selected_run()
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.run_folder(run))))

"""What the shell's menu actions do: open, create and switch projects, the demo project, settings,
the shortcut sheet, growing trees and restarting the worker. Errors a person can fix become dialogs.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from avr_studio import demo
from avr_studio.app_settings import AppSettings, add_recent_project, recent_projects
from avr_studio.commands.ranking import SwitchRankingScorerCommand, switch_message
from avr_studio.context import ProjectContext
from avr_studio.dialogs import run_modal
from avr_studio.dialogs.demo_model_dialog import show_demo_model_dialog
from avr_studio.dialogs.grow_trees_dialog import GrowTreesDialog
from avr_studio.dialogs.new_project_dialog import NewProjectDialog
from avr_studio.dialogs.settings_dialog import SettingsDialog
from avr_studio.dialogs.shortcuts_dialog import ShortcutsDialog
from avr_studio.jobs_service import JobsService
from avr_studio.main_window import MainWindow
from backend.curation.ranking import pin_ranking_scorer, ranking_scorer
from backend.engines.loading import generator_problem, scorer_problem
from backend.errors import UserError

LAST_PLACE_SETTING = "last_place"  # project setting: the prompt and node the person was at when it closed


class ProjectController(QObject):
    """Connects the window's actions to the context and services; owns no widgets of its own."""

    sig_demo_job_started = Signal(str)
    """A first-run Stage I job was started on the demo project (job id)."""

    def __init__(self, window: MainWindow, context: ProjectContext, jobs_service: JobsService,
                 settings: AppSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.context = context
        self.jobs_service = jobs_service
        self.settings = settings
        actions = window.actions_by_id
        handlers = {
            "file.new_project": self.new_project, "file.open_project": self.choose_and_open_project,
            "file.open_demo": self.open_demo_project, "file.export": self.show_export,
            "file.settings": self.show_settings, "file.quit": window.close,
            "jobs.grow_trees": self.grow_trees, "jobs.restart_worker": self.restart_worker,
            "help.shortcuts": self.show_shortcuts, "help.demo_model": self.show_demo_model_info,
            "curate.ranking_scorer": self.choose_ranking_scorer,
        }
        for action_id, handler in handlers.items():
            actions[action_id].triggered.connect(lambda _checked=False, h=handler: h())
        window.jobs_panel.sig_worker_restart_requested.connect(self.restart_worker)
        context.sig_project_about_to_close.connect(self._remember_place)
        if context.worker_client is not None:
            context.worker_client.sig_process_died.connect(self._on_worker_died)
        self._refresh_recent_menu()

    # --- projects ------------------------------------------------------------------------------
    def show_user_error(self, title: str, error: Exception) -> None:
        QMessageBox.warning(self.window, title, str(error))

    def _may_switch_project(self) -> bool:
        if self.window.running_job_ids():
            QMessageBox.information(self.window, "A job is running",
                                    "Wait for the running job to end, or cancel it in the Jobs panel, "
                                    "before opening another project.")
            return False
        return True

    def open_project(self, project_dir: str | Path) -> bool:
        """Open a project folder; a locked or invalid folder shows its message and returns False."""
        from backend.store import Store

        current = self.context.store
        if current is not None and Path(project_dir).expanduser().resolve() == Path(current.project_dir):
            return True  # already open; a second connection to the same file would fight the first
        if not self._may_switch_project():
            return False
        try:
            store = Store.open(project_dir)
        except UserError as exc:  # ProjectLockedError included: its text names the other process
            self.show_user_error("Cannot open project", exc)
            return False
        self._adopt(store)
        return True

    def _adopt(self, store) -> None:
        pin_ranking_scorer(store)  # from now on a job with another scorer cannot re-rank the project
        self.context.open_store(store)
        add_recent_project(store.project_dir)
        self._refresh_recent_menu()
        self._return_to_place(store)

    def _return_to_place(self, store) -> None:
        """Open on the prompt (and node) the person left the project at."""
        place = store.get_setting(LAST_PLACE_SETTING)
        if not isinstance(place, dict) or not place.get("prompt_id"):
            return
        if store.get_prompt(str(place["prompt_id"])) is None:
            return
        self.context.select_prompt(str(place["prompt_id"]))
        if place.get("node_id") in self.context.current_prompt.trees.by_id:
            self.context.select_node(str(place["node_id"]))

    def _remember_place(self) -> None:
        store = self.context.store
        if store is not None and self.context.current_prompt_id:
            store.set_setting(LAST_PLACE_SETTING, {"prompt_id": self.context.current_prompt_id,
                                                   "node_id": self.context.current_node_id})

    def choose_and_open_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Open AvR Studio project")
        if folder:
            self.open_project(folder)

    def create_project(self, project_dir: Path, prompts_file: Path | None = None) -> bool:
        from backend.store import Store

        if not self._may_switch_project():
            return False
        try:
            store = Store.create(project_dir)
        except UserError as exc:
            self.show_user_error("Cannot create project", exc)
            return False
        self._adopt(store)
        if prompts_file is not None:
            self._import_prompts(prompts_file)
        return True

    def _import_prompts(self, prompts_file: Path) -> None:
        from backend.io.importers import import_file

        try:
            import_file(self.context.store, prompts_file)
        except UserError as exc:
            self.show_user_error("Some prompts could not be imported", exc)
        self.context.notify_data_changed("")

    def new_project(self) -> None:
        dialog = NewProjectDialog(self.window)
        if run_modal(dialog) and dialog.project_dir is not None:
            self.create_project(dialog.project_dir, dialog.prompts_file)

    def open_demo_project(self, start_jobs: bool = True) -> bool:
        """Open (first run: create) the demo project; grow a few trees if it has too few."""
        if not self._may_switch_project():
            return False
        try:
            setup = demo.open_or_create_demo_project()
        except UserError as exc:
            self.show_user_error("Cannot open the demo project", exc)
            return False
        self._adopt(setup.store)
        if start_jobs:
            self.start_demo_trees()
        return True

    def start_demo_trees(self) -> str | None:
        prompt_ids = demo.prompts_to_grow(self.context.store)
        if not prompt_ids:
            return None
        try:
            job_id = self.jobs_service.submit_stage1(prompt_ids)
        except UserError as exc:  # e.g. a setting the job cannot run with; its message says what to do
            self.show_user_error("Cannot grow the demo trees", exc)
            return None
        self.window.statusBar().showMessage(
            f"Growing {len(prompt_ids)} demo trees with the bundled model in the background…", 10000)
        self.window.docks["jobs"].raise_()
        self.sig_demo_job_started.emit(job_id)
        return job_id

    def _refresh_recent_menu(self) -> None:
        self.window.set_recent_projects(recent_projects(), self.open_project)

    # --- dialogs -------------------------------------------------------------------------------
    def show_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self.window)
        dialog.sig_settings_saved.connect(self._on_settings_saved)
        run_modal(dialog)

    def _on_settings_saved(self, settings: AppSettings) -> None:
        worker = self.context.worker_client
        interpreter_changed = settings.effective_interpreter != self.settings.effective_interpreter
        self.settings = settings
        self.window.update_demo_notice(settings)
        if worker is not None:
            worker.interpreter = settings.effective_interpreter
            if interpreter_changed and worker.is_running() and not worker.running_job_ids:
                worker.stop()  # the next job starts the worker with the new interpreter

    def show_shortcuts(self) -> None:
        run_modal(ShortcutsDialog(self.window))

    def show_demo_model_info(self) -> None:
        if show_demo_model_dialog(self.window):
            self.show_settings()

    def show_export(self) -> None:
        from avr_studio.dialogs.export_dialog import ExportDialog

        if self.context.store is not None:
            run_modal(ExportDialog(self.context.store, self.window))

    # --- jobs ----------------------------------------------------------------------------------
    def grow_trees(self) -> None:
        store = self.context.store
        if store is None:
            return
        from backend.curation.growth import count_prompts_to_grow

        without_tree = count_prompts_to_grow(store)  # no tree yet, or an unfinished one (grown first)
        if not without_tree:
            QMessageBox.information(self.window, "Grow trees", "Every prompt already has a complete tree.")
            return
        ranking = ranking_scorer(store)
        scorers = [ranking] if ranking else []
        if self.settings.scorer.label not in scorers:
            scorers.append(self.settings.scorer.label)
        model, scorer = self.settings.model, self.settings.scorer
        problem = generator_problem(model.name, model.engine) or scorer_problem(scorer.kind, scorer.model)
        dialog = GrowTreesDialog(self.jobs_service.generation_speed(model.name), without_tree, scorers,
                                 f"{model.name} · {model.engine}", problem, self.window)
        if not run_modal(dialog):
            return
        prompt_ids = demo.prompts_without_trees(store, dialog.count)
        if not prompt_ids:
            QMessageBox.information(self.window, "Grow trees", "Every prompt already has a complete tree.")
            return
        try:
            self.jobs_service.submit_stage1(prompt_ids)
        except UserError as exc:
            self.show_user_error("Cannot grow trees", exc)
            return
        self.window.docks["jobs"].raise_()

    # --- ranking scorer -------------------------------------------------------------------------
    def choose_ranking_scorer(self) -> None:
        """Ask which scorer ranks the project; the switch is an undoable command that rebuilds the pairs."""
        store = self.context.store
        if store is None:
            return
        scorers = store.scorers()
        current = ranking_scorer(store)
        if len(scorers) < 2:
            QMessageBox.information(self.window, "Ranking scorer",
                                    f"This project has scores from {current or 'no scorer'} only. Score its "
                                    "trees with another scorer (avr-studio score) to rank by that one.")
            return
        if self.window.running_job_ids():
            QMessageBox.information(self.window, "A job is running",
                                    "Wait for the running job to end before switching the ranking scorer: "
                                    "its results are ranked as they arrive.")
            return
        chosen, ok = QInputDialog.getItem(
            self.window, "Ranking scorer",
            "Rank every node, and decide the reward's pairs, by:\n(the person's verdicts are kept; Ctrl+Z "
            "switches back)", scorers, scorers.index(current) if current in scorers else 0, False)
        if ok and chosen != current:
            self.switch_ranking_scorer(chosen)

    def switch_ranking_scorer(self, scorer: str) -> None:
        self.context.undo_stack.push(SwitchRankingScorerCommand(self.context.store, scorer, self._on_ranking_switched))

    def _on_ranking_switched(self, switch) -> None:
        self.context.current_prompt.ranking_changed()
        self.context.notify_data_changed("")  # every prompt's rewards and pairs follow the new scorer
        self.window.statusBar().showMessage(switch_message(switch), 15000)

    def restart_worker(self) -> None:
        worker = self.context.worker_client
        if worker is not None:
            worker.restart()
            self.window.statusBar().showMessage("Worker restarted.", 5000)

    def _on_worker_died(self, message: str) -> None:
        self.window.docks["jobs"].show()
        self.window.docks["jobs"].raise_()
        self.window.statusBar().showMessage(f"The worker stopped: {message}. Restart it from the Jobs panel.")

"""Builds the services (WorkerClient, ProjectContext, JobsService), injects them into the window,
and opens the first project: `--project DIR`, else the last one used, else the demo project.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from PySide6.QtWidgets import QApplication

from avr_studio.app_settings import AppSettings, load_app_settings, recent_projects
from avr_studio.context import ProjectContext
from avr_studio.jobs_service import JobsService
from avr_studio.main_window import MainWindow
from avr_studio.project_controller import ProjectController
from avr_studio.worker_client import WorkerClient


@dataclass
class Shell:
    """Everything run_app builds; tests build it too."""

    context: ProjectContext
    worker: WorkerClient
    jobs_service: JobsService
    window: MainWindow
    controller: ProjectController


def build_shell(settings: AppSettings | None = None) -> Shell:
    settings = settings or load_app_settings()
    worker = WorkerClient(settings.effective_interpreter)  # started by the first job, not at launch
    context = ProjectContext(worker_client=worker)
    jobs_service = JobsService(context)
    context.jobs_service = jobs_service
    window = MainWindow(context, settings)
    controller = ProjectController(window, context, jobs_service, settings, parent=window)
    return Shell(context, worker, jobs_service, window, controller)


def open_first_project(shell: Shell, project_dir: str | None, start_jobs: bool = True) -> bool:
    if project_dir:
        return shell.controller.open_project(project_dir)
    recent = recent_projects()
    if recent and shell.controller.open_project(recent[0]):
        return True
    return shell.controller.open_demo_project(start_jobs=start_jobs)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="avr-studio", description="Open the AvR Studio window.")
    parser.add_argument("--project", metavar="DIR", help="open this project folder")
    return parser.parse_args(argv)


def run_app(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("AvR Studio")
    shell = build_shell()
    shell.window.show()
    open_first_project(shell, args.project)
    return app.exec()

"""`Store`: one project folder and its DuckDB file, with every named query the app needs.

The queries live in small mixins, one per concern; this module owns opening, creating and closing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backend.errors import UserError
from backend.store.annotation_batches import AnnotationBatchQueries
from backend.store.connection import Database
from backend.store.curation import AnnotationQueries
from backend.store.evaluations import EvaluationQueries
from backend.store.exports import ExportQueries
from backend.store.jobs import JobQueries
from backend.store.loading import LoadingQueries
from backend.store.migrations import migrate, schema_version
from backend.store.nodes import NodeQueries
from backend.store.pair_tallies import PairTallyQueries
from backend.store.prompt_context import PromptContextQueries
from backend.store.prompt_scores import PromptScoreQueries
from backend.store.prompts import PromptQueries
from backend.store.references import ReferenceQueries
from backend.store.results import ResultQueries
from backend.store.reward_debug import RewardDebugQueries
from backend.store.rewards import RewardQueries
from backend.store.runs import RunQueries
from backend.store.scores import ScoreQueries
from backend.store.settings import SettingQueries
from backend.store.summaries import SummaryQueries
from backend.store.templates import TemplateQueries, default_templates

DB_FILE = "project.duckdb"
PROJECT_SUBDIRS = ("jobs", "runs", "exports")


class Store(PromptQueries, NodeQueries, ScoreQueries, AnnotationQueries, SummaryQueries, ResultQueries,
            RewardQueries, TemplateQueries, JobQueries, RunQueries, LoadingQueries, ExportQueries, SettingQueries,
            ReferenceQueries, PairTallyQueries, PromptScoreQueries, PromptContextQueries, RewardDebugQueries,
            EvaluationQueries, AnnotationBatchQueries):
    """An open project. Only one process may hold it; use `with Store.open(dir) as store:`."""

    def __init__(self, db: Database, project_dir: Path) -> None:
        self._db = db
        self.project_dir = project_dir

    @staticmethod
    def is_project(project_dir: Path | str) -> bool:
        return (Path(project_dir) / DB_FILE).is_file()

    @classmethod
    def create(cls, project_dir: Path | str) -> Store:
        """Make a new project: the folder layout, the schema and the default templates."""
        project_dir = Path(project_dir).expanduser().resolve()
        if cls.is_project(project_dir):
            raise UserError(f"{project_dir} is already an AvR Studio project; open it instead of creating it.")
        if project_dir.exists() and not project_dir.is_dir():
            raise UserError(f"{project_dir} is a file, not a folder; choose a new or empty folder for the project.")
        project_dir.mkdir(parents=True, exist_ok=True)
        for name in PROJECT_SUBDIRS:
            (project_dir / name).mkdir(exist_ok=True)
        store = cls(Database.open(project_dir / DB_FILE), project_dir)
        try:
            migrate(store._db)
            store.save_templates(default_templates(), make_current=True)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def open(cls, project_dir: Path | str) -> Store:
        """Open an existing project and bring its schema up to date.

        Raises UserError if the folder is not a project and ProjectLockedError if another process has it.
        """
        project_dir = Path(project_dir).expanduser().resolve()
        if not cls.is_project(project_dir):
            raise UserError(
                f"{project_dir} is not an AvR Studio project (it has no {DB_FILE}); "
                "choose a project folder, or create one with `avr-studio init`."
            )
        for name in PROJECT_SUBDIRS:
            (project_dir / name).mkdir(exist_ok=True)
        store = cls(Database.open(project_dir / DB_FILE), project_dir)
        try:
            migrate(store._db)
        except BaseException:
            store.close()
            raise
        return store

    @property
    def db_path(self) -> Path:
        return self.project_dir / DB_FILE

    @property
    def jobs_dir(self) -> Path:
        return self.project_dir / "jobs"

    @property
    def runs_dir(self) -> Path:
        return self.project_dir / "runs"

    @property
    def exports_dir(self) -> Path:
        return self.project_dir / "exports"

    def schema_version(self) -> int:
        return schema_version(self._db)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen together or not at all; nested blocks join the outer one."""
        with self._db.transaction():
            yield

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file (after a big import, queries read it faster)."""
        self._db.execute("CHECKPOINT")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None  # type: ignore[assignment]

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

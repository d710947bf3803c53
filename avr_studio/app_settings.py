"""Per-user settings (models, scorer, sampling, worker interpreter, recent projects) kept with
QSettings in an INI file under the data dir, and validated by the backend.config dataclasses.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSettings

from backend.config import ModelSpec, SamplingConfig, ScorerSpec
from backend.paths import data_dir

MAX_RECENT_PROJECTS = 8


@dataclass
class AppSettings:
    model: ModelSpec = field(default_factory=ModelSpec)
    scorer: ScorerSpec = field(default_factory=ScorerSpec)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    worker_interpreter: str = ""  # "" = the interpreter running the app

    @property
    def effective_interpreter(self) -> str:
        return self.worker_interpreter or sys.executable

    def validate(self) -> None:
        """Raise ValueError (with the config's own how-to-fix text) for a bad interpreter path."""
        if self.worker_interpreter and not Path(self.worker_interpreter).exists():
            raise ValueError(f"worker interpreter not found: {self.worker_interpreter} "
                             "(leave it empty to use the app's own Python)")


def qsettings() -> QSettings:
    """The settings file; its location follows AVR_STUDIO_DATA_DIR so tests never touch the user's."""
    return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)


def _load_json(settings: QSettings, key: str) -> dict:
    raw = settings.value(key, "")
    try:
        return json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return {}


def load_app_settings() -> AppSettings:
    """Read the stored settings; a stored value that no longer validates falls back to defaults."""
    settings = qsettings()
    loaded = AppSettings()
    for attr, cls in (("model", ModelSpec), ("scorer", ScorerSpec), ("sampling", SamplingConfig)):
        try:
            setattr(loaded, attr, cls.from_dict(_load_json(settings, attr)))
        except (TypeError, ValueError):
            pass  # an old or hand-edited file must never stop the app from opening
    loaded.worker_interpreter = str(settings.value("worker_interpreter", "") or "")
    return loaded


def save_app_settings(app_settings: AppSettings) -> None:
    settings = qsettings()
    settings.setValue("model", json.dumps(app_settings.model.to_dict()))
    settings.setValue("scorer", json.dumps(app_settings.scorer.to_dict()))
    settings.setValue("sampling", json.dumps(app_settings.sampling.to_dict()))
    settings.setValue("worker_interpreter", app_settings.worker_interpreter)
    settings.sync()


def recent_projects() -> list[str]:
    """Recently opened project folders, newest first, skipping ones that no longer exist."""
    raw = _load_json_list(qsettings().value("recent_projects", ""))
    return [path for path in raw if Path(path).is_dir()]


def add_recent_project(project_dir: str | Path) -> None:
    path = str(Path(project_dir).resolve())
    settings = qsettings()
    paths = [p for p in _load_json_list(settings.value("recent_projects", "")) if p != path]
    settings.setValue("recent_projects", json.dumps([path, *paths][:MAX_RECENT_PROJECTS]))
    settings.sync()


def _load_json_list(raw: object) -> list[str]:
    try:
        value = json.loads(raw) if raw else []
    except (TypeError, ValueError):
        return []
    return [str(v) for v in value] if isinstance(value, list) else []

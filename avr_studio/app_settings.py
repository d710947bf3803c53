"""Per-user settings (models, scorer, generation preset and sampling, worker interpreter, recent
projects) kept with QSettings in an INI file under the data dir, and validated by the backend.config
dataclasses and `backend.presets.resolve_preset`.

Generation settings are a preset (`paper`, `cpu-demo`, or `auto`: the model's default) and the values
the person sees in Settings; jobs get them through `backend.worker.request_builders.generation_choice`,
which records any value that differs from the preset as a change (`paper+custom(...)`).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSettings

from backend.config import ModelSpec, SamplingConfig, ScorerSpec
from backend.paths import data_dir
from backend.presets import AUTO, PRESET_CHOICES, SAMPLING_OVERRIDES

MAX_RECENT_PROJECTS = 8


@dataclass
class AppSettings:
    model: ModelSpec = field(default_factory=ModelSpec)  # its rating_mode is a generation setting
    scorer: ScorerSpec = field(default_factory=ScorerSpec)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)  # with the seed; `preset` is not read
    worker_interpreter: str = ""  # "" = the interpreter running the app
    preset: str = AUTO  # backend.presets.PRESET_CHOICES
    criticism_samples: int = 5  # samples of a criticism in all, to find its rating (the presets': 5)

    @property
    def effective_interpreter(self) -> str:
        return self.worker_interpreter or sys.executable

    def generation_overrides(self) -> dict:
        """The generation values of these settings, for `generation_choice` (it records the ones that
        differ from the preset)."""
        values = {key: getattr(self.sampling, key) for key in SAMPLING_OVERRIDES}
        return {**values, "rating_mode": self.model.rating_mode, "criticism_samples": self.criticism_samples}

    def generation_choice(self, store, tree=None):
        """What a job of the app generates with: the one path the CLI takes too."""
        from backend.worker.request_builders import generation_choice

        return generation_choice(store, self.model, self.preset, self.generation_overrides(), self.sampling.seed,
                                 tree)

    def problems(self) -> dict[str, str]:
        """What is wrong with settings that are not config fields, by name; {} when all is well."""
        problems = {}
        if self.worker_interpreter and not Path(self.worker_interpreter).exists():
            problems["worker_interpreter"] = (f"worker interpreter not found: {self.worker_interpreter} "
                                              "(leave it empty to use the app's own Python)")
        if self.preset not in PRESET_CHOICES:
            problems["preset"] = f"preset must be one of {', '.join(PRESET_CHOICES)}, not {self.preset!r}"
        return problems

    def validate(self) -> None:
        """Raise ValueError (with the setting's own how-to-fix text) for a bad interpreter path or preset."""
        problems = self.problems()
        if problems:
            raise ValueError(next(iter(problems.values())))


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
    generation = _load_json(settings, "generation")
    if generation.get("preset") in PRESET_CHOICES:
        loaded.preset = generation["preset"]
    if isinstance(generation.get("criticism_samples"), int) and generation["criticism_samples"] >= 1:
        loaded.criticism_samples = generation["criticism_samples"]
    return loaded


def save_app_settings(app_settings: AppSettings) -> None:
    settings = qsettings()
    settings.setValue("model", json.dumps(app_settings.model.to_dict()))
    settings.setValue("scorer", json.dumps(app_settings.scorer.to_dict()))
    settings.setValue("sampling", json.dumps(app_settings.sampling.to_dict()))
    settings.setValue("worker_interpreter", app_settings.worker_interpreter)
    settings.setValue("generation", json.dumps({"preset": app_settings.preset,
                                                "criticism_samples": app_settings.criticism_samples}))
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

"""Keeps the last generator and the last scorer loaded between jobs, so a second job starts at once.

One of each at most (memory); a job that failed or was cancelled discards the generator, whose
internal queues may hold its leftovers. `AVR_WORKER_KEEP_MODELS=0` turns the cache off.

A trained run of the project is a model too: a generator named `run:<id>` loads the run's base with its
adapters merged in (a plain folder made once, `runs/<id>/merged/`), and a scorer named `rm:<id>` loads a
reward-model run's classifier (`backend.training.models`). The names stay in the request, so every node
and score records the run it came from; only the worker turns them into folders.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from backend.errors import UserError

RUN_PREFIX = "run:"  # backend.training.config.RUN_PREFIX (not imported: that module is bigger than this need)
REWARD_MODEL_PREFIX = "rm:"
_PROJECT_MARKER = "project.duckdb"  # backend.store.store.DB_FILE; a job folder sits in <project>/jobs/


def project_of_job(job_dir: Path | str) -> Path | None:
    """The project folder a job folder belongs to, or None for a job outside any project (refine).

    >>> project_of_job("/nowhere/jobs/stage1-1") is None
    True
    """
    project = Path(job_dir).parent.parent
    return project if (project / _PROJECT_MARKER).is_file() else None


def _needs_project(name: str, project_dir: Path | None) -> Path:
    if project_dir is None:
        raise UserError(f"{name} names a trained run of a project, and this job belongs to no project; run it "
                        "in the project that trained the run (e.g. `avr-studio refine --project DIR`)")
    return project_dir


def resolved_model(spec, project_dir: Path | None):
    """`spec` with a `run:<id>` name replaced by the run's plain model folder (merged on first use)."""
    if not spec.name.startswith(RUN_PREFIX):
        return spec
    if spec.engine == "openai":
        raise UserError(f"{spec.name} is a trained run on this machine; a server engine cannot load it. Serve "
                        "its merged folder (avr-studio merge) and name that model, or use the transformers engine")
    from backend.training.models import run_model_dir

    return replace(spec, name=str(run_model_dir(_needs_project(spec.name, project_dir), spec.name)))


def resolved_scorer(spec, project_dir: Path | None):
    """`spec` with an `rm:<id>` model (a reward-model run: its classifier folder) or a `run:<id>` model (a
    likelihood scorer on a trained run: its merged folder) replaced by the folder to load."""
    if spec.model.startswith(REWARD_MODEL_PREFIX) or (spec.kind == "classifier" and spec.model.startswith(RUN_PREFIX)):
        from backend.training.models import reward_model_dir

        project = _needs_project(spec.model, project_dir)
        return replace(spec, kind="classifier", model=str(reward_model_dir(project, spec.model)))
    if spec.model.startswith(RUN_PREFIX):
        from backend.training.models import run_model_dir

        return replace(spec, model=str(run_model_dir(_needs_project(spec.model, project_dir), spec.model)))
    return spec


def _key(spec: Any) -> str:
    return json.dumps(spec.to_dict(), sort_keys=True)


class ModelCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engine: tuple[str, Any] | None = None
        self._scorer: tuple[str, Any] | None = None

    @property
    def enabled(self) -> bool:
        return os.environ.get("AVR_WORKER_KEEP_MODELS", "1") != "0"

    def engine(self, spec, project_dir: Path | None = None):
        """The generator of `spec` (a `run:<id>` of the project in `project_dir` resolved first)."""
        from backend.engines import make_engine

        with self._lock:
            spec = resolved_model(spec, project_dir)
            if self._engine is not None and self._engine[0] == _key(spec):
                return self._engine[1]
            self._close("_engine")
            engine = make_engine(spec)
            if self.enabled:
                self._engine = (_key(spec), engine)
            return engine

    def scorer(self, spec, project_dir: Path | None = None):
        """The scorer of `spec` (an `rm:<id>` or `run:<id>` model of the project resolved first)."""
        from backend.scorers import make_scorer

        with self._lock:
            spec = resolved_scorer(spec, project_dir)
            if self._scorer is not None and self._scorer[0] == _key(spec):
                return self._scorer[1]
            self._close("_scorer")
            scorer = make_scorer(spec)
            if self.enabled:
                self._scorer = (_key(spec), scorer)
            return scorer

    def release(self, thing: Any) -> None:
        """A job is done with `thing`: close it unless the cache keeps it."""
        with self._lock:
            kept = [entry[1] for entry in (self._engine, self._scorer) if entry is not None]
        if not any(thing is k for k in kept):
            close = getattr(thing, "close", None)
            if close is not None:
                close()

    def discard_engine(self) -> None:
        with self._lock:
            self._close("_engine")

    def close_all(self) -> None:
        with self._lock:
            self._close("_engine")
            self._close("_scorer")

    def _close(self, slot: str) -> None:
        entry = getattr(self, slot)
        setattr(self, slot, None)
        if entry is not None:
            entry[1].close()


MODELS = ModelCache()

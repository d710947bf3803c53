"""The layout of one run's folder, `runs/<id>/`, and reading / writing its small files (stdlib only).

    run.json          id, stage, base, seed, the exact config (preset filled), data hash, created time
    data/             the Parquet snapshot the run reads (train.parquet, eval.parquet) and its manifest.json
    environment.json  package versions, Python, device and process count of the latest training session
    events.jsonl      every TrainingEvent, one JSON object per line, appended as they happen
    checkpoints/      checkpoint-N/ folders of the Trainer (resumable: weights, optimizer, scheduler, RNG)
    adapter/          the trained LoRA adapter and tokenizer (LoRA runs)
    model/            a whole trained model folder (full fine-tuning, and every reward model)
    merged/           base + adapter merged into a plain model folder, made on first use for generation
    result.json       the RunResult of the session that ended it

The folder is the source of truth: the store's `runs` row is synced from it (`backend.training.runs`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from backend.training.events import RunResult, TrainingEvent

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
CHECKPOINT_STATE = "trainer_state.json"  # the Trainer writes it last: a checkpoint without it is incomplete


class RunFolder:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def runs_dir(self) -> Path:
        """The project's runs/ folder: where a 'run:<id>' base is looked up."""
        return self.path.parent

    # --- paths -----------------------------------------------------------------------------------
    @property
    def run_json(self) -> Path:
        return self.path / "run.json"

    @property
    def environment_json(self) -> Path:
        return self.path / "environment.json"

    @property
    def events_path(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def result_json(self) -> Path:
        return self.path / "result.json"

    def output_path(self, kind: str) -> Path:
        """'adapter', 'model' or 'merged'."""
        return self.path / kind

    # --- small files ------------------------------------------------------------------------------
    def read_run(self) -> dict[str, Any]:
        return _read_json(self.run_json)

    def write_run(self, info: dict[str, Any]) -> None:
        _write_json(self.run_json, info)

    def read_environment(self) -> dict[str, Any]:
        return _read_json(self.environment_json) if self.environment_json.is_file() else {}

    def write_environment(self, info: dict[str, Any]) -> None:
        _write_json(self.environment_json, info)

    def result(self) -> RunResult | None:
        if not self.result_json.is_file():
            return None
        return RunResult.from_dict(_read_json(self.result_json))

    def write_result(self, result: RunResult) -> None:
        _write_json(self.result_json, result.to_dict())

    def clear_result(self) -> None:
        """A resumed session removes the previous session's ending (cancelled or failed)."""
        self.result_json.unlink(missing_ok=True)

    def append_event(self, event: TrainingEvent) -> None:
        with self.events_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")

    def events(self) -> list[TrainingEvent]:
        """Every complete event line (a line torn by a crash is skipped)."""
        if not self.events_path.is_file():
            return []
        found = []
        for line in self.events_path.read_text(encoding="utf-8").splitlines():
            try:
                found.append(TrainingEvent.from_dict(json.loads(line)))
            except (ValueError, TypeError):
                continue
        return found

    # --- checkpoints ------------------------------------------------------------------------------
    def checkpoints(self) -> list[tuple[int, Path]]:
        """Complete checkpoints as (step, folder), oldest first."""
        if not self.checkpoints_dir.is_dir():
            return []
        found = []
        for child in self.checkpoints_dir.iterdir():
            match = _CHECKPOINT.match(child.name)
            if match and (child / CHECKPOINT_STATE).is_file():
                found.append((int(match.group(1)), child))
        return sorted(found)

    def last_checkpoint(self) -> tuple[int, Path] | None:
        found = self.checkpoints()
        return found[-1] if found else None


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Write beside the target and rename: a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(temp, path)

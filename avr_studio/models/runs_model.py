"""The project's training runs as a table (stage, base, config, data hash, final metrics, status), read
from the store; `refresh` reloads it (a project has a handful of runs, so no paging)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from backend.domain import Run

COLUMNS = ("Run", "Stage", "Status", "Base", "Config", "Data", "Final metrics", "Created")
# The final figures worth a column, in the order shown (whichever a run has).
SHOWN_METRICS = (("train_loss", "loss"), ("rewards/accuracies", "acc"), ("rewards/margins", "margin"),
                 ("mean_token_accuracy", "token acc"), ("heldout_agreement", "agreement"),
                 ("train_tokens_per_second", "tok/s"))
STAGE_TITLES = {"rsft": "I · RSFT", "dpo": "I · DPO", "long_sft": "II · SFT", "long_dpo": "II · DPO",
                "reward": "Reward model"}


def config_text(config: dict) -> str:
    """The settings a person compares runs by.

    >>> config_text({"preset": "cpu-small", "lora": True, "epochs": 1.0, "learning_rate": 5e-05, "beta": 0.1,
    ...              "stage": "dpo", "max_steps": None})
    'cpu-small · LoRA · 1 epoch · lr 5e-05 · β 0.1'
    """
    parts = [str(config.get("preset", "")), "LoRA" if config.get("lora") else "full"]
    if config.get("max_steps"):
        parts.append(f"{config['max_steps']} steps")
    elif config.get("epochs"):
        epochs = config["epochs"]
        parts.append(f"{epochs:g} epoch{'s' if epochs != 1 else ''}")
    if config.get("learning_rate"):
        parts.append(f"lr {config['learning_rate']:g}")
    if config.get("stage") in ("dpo", "long_dpo"):
        parts.append(f"β {config.get('beta', 0.1):g}")
    return " · ".join(parts)


def metrics_text(metrics: dict) -> str:
    """
    >>> metrics_text({"train_loss": 0.6931, "rewards/accuracies": 0.75, "epoch": 1})
    'loss 0.693 · acc 0.75'
    """
    return " · ".join(f"{label} {metrics[key]:.3g}" for key, label in SHOWN_METRICS
                      if isinstance(metrics.get(key), int | float))


class RunsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.runs: list[Run] = []

    def refresh(self, store) -> None:
        self.beginResetModel()
        self.runs = list(reversed(store.runs())) if store is not None else []  # newest first
        self.endResetModel()

    def run_at(self, row: int) -> Run | None:
        return self.runs[row] if 0 <= row < len(self.runs) else None

    def row_of(self, run_id: str) -> int:
        return next((row for row, run in enumerate(self.runs) if run.id == run_id), -1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        run = self.run_at(index.row())
        if run is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return (run.id, STAGE_TITLES.get(run.stage, run.stage), run.status, run.base, config_text(run.config),
                    run.data_hash, metrics_text(run.metrics), f"{run.created_at:%Y-%m-%d %H:%M}")[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == 2 and run.error:
                return run.error
            if index.column() == 6:
                return "\n".join(f"{key}: {value}" for key, value in sorted(run.metrics.items()))
            if index.column() == 4:
                return "\n".join(f"{key}: {value}" for key, value in sorted(run.config.items()))
        return None

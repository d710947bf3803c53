"""Live training curves: one small pyqtgraph plot per figure TRL logs (loss, rewards of the chosen and the
rejected side, their margin, accuracy, learning rate), drawn for one run at a time: the running one as its
events arrive, or a finished one from its stored metrics."""

from __future__ import annotations

from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

# (plot name, title, the TRL metric names it draws: the first one a run logs). SFT logs a token accuracy,
# DPO rewards/*, the reward trainer accuracy and margin.
CURVES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("loss", "Loss", ("loss",)),
    ("chosen", "Reward of chosen", ("rewards/chosen",)),
    ("rejected", "Reward of rejected", ("rewards/rejected",)),
    ("margins", "Reward margin", ("rewards/margins", "margin")),
    ("accuracies", "Accuracy", ("rewards/accuracies", "accuracy", "mean_token_accuracy")),
    ("learning_rate", "Learning rate", ("learning_rate",)),
)
COLUMNS = 3


class TrainingCurves(QWidget):
    """`points[plot name]` maps step -> value (a step logged again after a resume keeps its last value)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_id: str | None = None
        self.points: dict[str, dict[int, float]] = {name: {} for name, _, _ in CURVES}
        self.plots: dict[str, pg.PlotWidget] = {}
        self._lines: dict[str, pg.PlotDataItem] = {}
        self.caption = QLabel("No run yet: curves appear here as a run trains.")
        self.caption.setStyleSheet("color: #555;")
        grid = QGridLayout()
        grid.setSpacing(4)
        for i, (name, title, _) in enumerate(CURVES):
            plot = pg.PlotWidget(background="w")
            plot.setTitle(title, size="9pt", color="#333")
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMinimumSize(180, 120)
            plot.setLabel("bottom", "step")
            for axis in ("left", "bottom"):
                plot.getAxis(axis).enableAutoSIPrefix(False)
            self._lines[name] = plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2), symbol="o", symbolSize=4,
                                          symbolBrush="#1f77b4", symbolPen=None)
            self.plots[name] = plot
            grid.addWidget(plot, i // COLUMNS, i % COLUMNS)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addLayout(grid)

    def show_run(self, run_id: str, caption: str, metrics: Iterable[tuple[int, str, float]] = ()) -> None:
        """Start drawing `run_id`: its stored (step, name, value) metrics, if any."""
        self.run_id = run_id
        self.caption.setText(caption)
        self.points = {name: {} for name, _, _ in CURVES}
        rows = list(metrics)
        names = {name for _, name, _ in rows}
        for plot_name, _, metric_names in CURVES:
            chosen = next((m for m in metric_names if m in names), None)
            if chosen is not None:
                self.points[plot_name] = {step: value for step, name, value in rows if name == chosen}
        self._redraw()

    def add_metrics(self, run_id: str, step: int, metrics: dict[str, float]) -> None:
        """One logged step of the running run (ignored when another run is shown)."""
        if run_id != self.run_id:
            return
        for plot_name, _, metric_names in CURVES:
            value = next((metrics[m] for m in metric_names if isinstance(metrics.get(m), int | float)), None)
            if value is not None:
                self.points[plot_name][step] = float(value)
        self._redraw()

    def _redraw(self) -> None:
        for name, line in self._lines.items():
            steps = sorted(self.points[name])
            line.setData(steps, [self.points[name][s] for s in steps])

"""Live training curves: one small pyqtgraph plot per figure TRL logs (loss, rewards of the chosen and the
rejected side, their margin, accuracy, learning rate), drawn for one run at a time: the running one as its
events arrive, or a finished one from its stored metrics.

A plot's redraw repaints its axes and labels: about 8 ms a plot on an idle core, three times that while a
run trains on the same cores, so redrawing all six for each logged step held the UI thread for 130-300 ms
at once. A logged step only marks its plots stale; a short timer redraws one stale plot per turn of the
event loop (each turn paints just that plot), and none while the curves are hidden (another tab is shown).
"""

from __future__ import annotations

from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QShowEvent
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
REDRAW_GAP_MS = 15  # between two plots' redraws: the event loop paints the first before the next is drawn


class TrainingCurves(QWidget):
    """`points[plot name]` maps step -> value (a step logged again after a resume keeps its last value)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_id: str | None = None
        self.points: dict[str, dict[int, float]] = {name: {} for name, _, _ in CURVES}
        self.plots: dict[str, pg.PlotWidget] = {}
        self._lines: dict[str, pg.PlotDataItem] = {}
        self._stale: list[str] = []  # plots whose points changed since they were last drawn, oldest first
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_GAP_MS)
        self._redraw_timer.timeout.connect(self._redraw_next)
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
        self._mark_stale([name for name, _, _ in CURVES])

    def add_metrics(self, run_id: str, step: int, metrics: dict[str, float]) -> None:
        """One logged step of the running run (ignored when another run is shown)."""
        if run_id != self.run_id:
            return
        changed = []
        for plot_name, _, metric_names in CURVES:
            value = next((metrics[m] for m in metric_names if isinstance(metrics.get(m), int | float)), None)
            if value is not None:
                self.points[plot_name][step] = float(value)
                changed.append(plot_name)
        self._mark_stale(changed)

    @property
    def drawn_everything(self) -> bool:
        """Whether every plot shows its current points (nothing waits to be redrawn)."""
        return not self._stale

    def drawn_points(self, name: str) -> dict[int, float]:
        """What the plot `name` shows now, step -> value."""
        steps, values = self._lines[name].getData()
        return {} if steps is None else {int(step): float(value) for step, value in zip(steps, values, strict=True)}

    def _mark_stale(self, names: list[str]) -> None:
        self._stale.extend(name for name in names if name not in self._stale)
        if self._stale and self.isVisible() and not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _redraw_next(self) -> None:
        if not self._stale or not self.isVisible():
            return
        name = self._stale.pop(0)
        steps = sorted(self.points[name])
        self._lines[name].setData(steps, [self.points[name][s] for s in steps])
        if self._stale:
            self._redraw_timer.start()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self._redraw_timer.start()

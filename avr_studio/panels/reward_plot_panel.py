"""Histograms of rewards R(x, y) and of gains Δ = R(x, y') − R(x, y) for the project or the current
prompt: the quickest way to see whether a scorer separates answers at all.

The current prompt's come from the shared trees (`context.current_prompt`, no query); the project's
from two DuckDB aggregates (`backend/store/rewards.py`) on a pool thread. Both are read only while
the panel is on screen, so a panel in an unselected tab costs a prompt switch nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from avr_studio.background import BackgroundTask
from avr_studio.context import ProjectContext
from avr_studio.panels.on_screen import is_on_screen
from backend.curation.prompt_trees import PromptTrees
from backend.domain import TREE_ANSWER_KINDS

PROJECT_SCOPE, PROMPT_SCOPE = "project", "prompt"
BINS = 30


@dataclass
class RewardSample:
    rewards: list[float] = field(default_factory=list)  # scores of answers (responses, improvements)
    gains: list[float] = field(default_factory=list)  # Δ of each scored improvement


def prompt_sample(trees: PromptTrees) -> RewardSample:
    """The rewards of a prompt's scored answers and the gains of its scored improvements."""
    sample = RewardSample()
    for tree_node in trees.nodes():
        if tree_node.kind in TREE_ANSWER_KINDS and tree_node.score is not None:
            sample.rewards.append(tree_node.score)
            gain = trees.reward(tree_node.id).gain
            if tree_node.kind == "improvement" and gain is not None:
                sample.gains.append(gain)
    return sample


def project_sample(store, scorer: str) -> RewardSample:
    return RewardSample(store.answer_rewards(scorer), store.improvement_gains(scorer))


class RewardPlotPanel(QWidget):
    """Two histograms (rewards, gains) with a scope switch and a scorer choice."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.sample = RewardSample()
        self._task: BackgroundTask | None = None
        self._pool = QThreadPool(self)  # own pool, so closing the project waits for this panel's scan only
        self._pool.setMaxThreadCount(1)
        self._rescan = False  # data changed while a scan ran
        self._stale_scopes: set[str] = {PROJECT_SCOPE, PROMPT_SCOPE}  # drawn again when next shown
        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        self.scope_combo = QComboBox()
        self.scope_combo.addItem("Whole project", PROJECT_SCOPE)
        self.scope_combo.addItem("Current prompt", PROMPT_SCOPE)
        self.scorer_combo = QComboBox()
        self.scorer_combo.setToolTip("Which scorer's rewards to plot")
        controls.addWidget(QLabel("Show"))
        controls.addWidget(self.scope_combo, 1)
        controls.addWidget(QLabel("Scorer"))
        controls.addWidget(self.scorer_combo, 1)
        layout.addLayout(controls)
        self.reward_plot = self._make_plot("Reward R(x, y) of answers", "reward")
        self.gain_plot = self._make_plot("Gain Δ = R(x, y′) − R(x, y) of improvements", "Δ")
        self.gain_plot.addItem(pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#888", style=pg.QtCore.Qt.DashLine)))
        # Side by side: the dock shares a short bottom strip with the jobs list.
        plots = QHBoxLayout()
        plots.addWidget(self.reward_plot, 1)
        plots.addWidget(self.gain_plot, 1)
        layout.addLayout(plots, 1)
        self.summary_label = QLabel("No scores yet.")
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        self._refresh_timer = QTimer(self, singleShot=True, interval=300)  # coalesce bursts of results
        self._refresh_timer.timeout.connect(self.refresh)
        self.scope_combo.currentIndexChanged.connect(self.refresh)
        self.scorer_combo.currentIndexChanged.connect(self.refresh)
        self._current = context.current_prompt
        self._current.sig_scorers_changed.connect(self._fill_scorers)
        self._current.sig_trees_changed.connect(self._on_trees_changed)
        context.sig_project_about_to_close.connect(self._finish_scan)
        context.sig_data_changed.connect(lambda _prompt_id: self._mark_stale(PROJECT_SCOPE))
        self._fill_scorers()

    def _make_plot(self, title: str, x_label: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(background="w")
        plot.setTitle(title, color="#333", size="9pt")
        plot.setLabel("bottom", x_label)
        plot.setLabel("left", "count")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setMinimumHeight(80)
        return plot

    # --- data ----------------------------------------------------------------------------------
    @property
    def scope(self) -> str:
        return self.scope_combo.currentData()

    def set_scope(self, scope: str) -> None:
        self.scope_combo.setCurrentIndex(self.scope_combo.findData(scope))

    def _fill_scorers(self) -> None:
        self.scorer_combo.blockSignals(True)
        self.scorer_combo.clear()
        self.scorer_combo.addItems(self._current.scorers)
        if self._current.default_scorer:
            self.scorer_combo.setCurrentText(self._current.default_scorer)
        self.scorer_combo.blockSignals(False)
        self._mark_stale(self.scope)

    def _on_trees_changed(self, _prompt_id: str) -> None:
        self._mark_stale(PROMPT_SCOPE)

    def _mark_stale(self, scope: str) -> None:
        """What `scope` shows may be out of date: redraw now if it is on screen, else when shown."""
        self._stale_scopes.add(scope)
        if scope == self.scope and is_on_screen(self):
            if scope == PROMPT_SCOPE:
                self.refresh()
            else:
                self._refresh_timer.start()

    def on_screen_changed(self, on_screen: bool) -> None:
        """The panel's tab was selected (True) or left (False); the main window calls this."""
        if on_screen and self.scope in self._stale_scopes:
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.on_screen_changed(True)

    def refresh(self) -> None:
        """Recompute the sample: the current prompt's from its trees, the project's on a pool thread."""
        self._stale_scopes.discard(self.scope)
        store = self.context.store
        scorer = self.scorer_combo.currentText()
        if store is None or not scorer:
            self._show(RewardSample())
            return
        if self.scope == PROMPT_SCOPE:
            trees = self._current.trees
            if trees.scorer != scorer:  # the plot shows another scorer than the tree panel
                trees = PromptTrees.load(store, trees.prompt_id, scorer) if trees.prompt_id else trees
            self._show(prompt_sample(trees))
            return
        if self._task is not None:
            self._rescan = True  # one scan at a time; rescan when it ends
            return
        self._task = BackgroundTask(lambda: project_sample(store, scorer), pool=self._pool)
        # Bound methods, not lambdas: Qt then queues the results to this panel's (the UI) thread.
        self._task.sig_task_finished.connect(self._on_scan_finished)
        self._task.sig_task_failed.connect(self._on_scan_failed)
        self._task.start()

    def _finish_scan(self) -> None:
        """The store closes next: a scan must not be reading it then (DuckDB would crash)."""
        while self._pool.activeThreadCount():
            time.sleep(0.01)  # sleeping releases the GIL, which the scan needs to finish
        self._task = None
        self._rescan = False

    def _on_scan_finished(self, sample: RewardSample) -> None:
        if self.sender() is not self._task:
            return  # a scan of a project that has been closed since
        self._task = None
        if self._rescan:
            self._rescan = False
            self.refresh()
            return
        if self.scope == PROJECT_SCOPE:
            self._show(sample)

    def _on_scan_failed(self, exc: Exception, _traceback: str) -> None:
        if self.sender() is not self._task:
            return
        self._task = None
        self.summary_label.setText(f"Could not read the scores: {exc}")

    # --- drawing -------------------------------------------------------------------------------
    def _show(self, sample: RewardSample) -> None:
        self.sample = sample
        self._draw(self.reward_plot, sample.rewards, "#3b7dd8")
        self._draw(self.gain_plot, sample.gains, "#2e9e5b")
        if not sample.rewards:
            self.summary_label.setText("No scores yet: grow or score some trees.")
            return
        text = f"{len(sample.rewards)} answers, mean reward {np.mean(sample.rewards):.3f}"
        if sample.gains:
            improving = sum(g > 0 for g in sample.gains)
            text += (f" · {len(sample.gains)} improvements, {improving} with Δ > 0 "
                     f"({100 * improving / len(sample.gains):.0f}%), mean Δ {np.mean(sample.gains):+.3f}")
        self.summary_label.setText(text)

    def _draw(self, plot: pg.PlotWidget, values: list[float], color: str) -> None:
        for item in [i for i in plot.listDataItems() + plot.items() if isinstance(i, pg.BarGraphItem)]:
            plot.removeItem(item)
        if not values:
            return
        counts, edges = np.histogram(values, bins=min(BINS, max(5, len(values) // 2)))
        plot.addItem(pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=counts, brush=color, pen="w"))

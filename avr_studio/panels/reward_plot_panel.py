"""Histograms of rewards R(x, y) and of gains Δ = R(x, y') − R(x, y) for the project or the current
prompt: the quickest way to see whether a scorer separates answers at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from avr_studio.background import BackgroundTask
from avr_studio.context import ProjectContext
from backend.domain import Node

ANSWER_KINDS = ("response", "improvement")
PROJECT_SCOPE, PROMPT_SCOPE = "project", "prompt"
MAX_PROMPTS_SCANNED = 5000  # a bound on the project-wide scan until the store has an aggregate query
BINS = 30


@dataclass
class RewardSample:
    rewards: list[float] = field(default_factory=list)  # scores of answers (responses, improvements)
    gains: list[float] = field(default_factory=list)  # Δ of each scored improvement

    def extend(self, other: RewardSample) -> None:
        self.rewards.extend(other.rewards)
        self.gains.extend(other.gains)


def rewards_and_gains(nodes: Iterable[Node], scores: dict[str, float]) -> RewardSample:
    """Answer rewards and improvement gains of one prompt's nodes.

    An improvement's gain is its score minus the score of the answer its criticism judged:
    >>> y = Node("y", "p", "response", "a"); c = Node("c", "p", "criticism", "b", parent_id="y")
    >>> i = Node("i", "p", "improvement", "c", parent_id="c")
    >>> rewards_and_gains([y, c, i], {"y": 1.0, "i": 1.5})
    RewardSample(rewards=[1.0, 1.5], gains=[0.5])
    """
    by_id = {node.id: node for node in nodes}
    sample = RewardSample()
    for node in by_id.values():
        if node.kind not in ANSWER_KINDS or node.id not in scores:
            continue
        sample.rewards.append(scores[node.id])
        criticism = by_id.get(node.parent_id or "")
        judged = criticism.parent_id if criticism is not None else None
        if node.kind == "improvement" and judged in scores:
            sample.gains.append(scores[node.id] - scores[judged])
    return sample


def collect_sample(store, prompt_ids: list[str], scorer: str | None) -> RewardSample:
    sample = RewardSample()
    for prompt_id in prompt_ids:
        scores = store.scores_for_prompt(prompt_id, scorer)
        if scores:
            sample.extend(rewards_and_gains(store.nodes_for_prompt(prompt_id), scores))
    return sample


class RewardPlotPanel(QWidget):
    """Two histograms (rewards, gains) with a scope switch and a scorer choice."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.sample = RewardSample()
        self._task: BackgroundTask | None = None
        self._pool = QThreadPool(self)  # own pool, so closing the project waits for this panel's scan only
        self._pool.setMaxThreadCount(1)
        self._stale = False
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
        context.sig_project_opened.connect(self._on_project_opened)
        context.sig_project_about_to_close.connect(self._finish_scan)
        context.sig_project_closed.connect(self._on_project_opened)
        context.sig_prompt_selected.connect(self._on_prompt_selected)
        context.sig_data_changed.connect(lambda _prompt_id: self._refresh_timer.start())
        self._on_project_opened()

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

    def _on_project_opened(self) -> None:
        store = self.context.store
        self.scorer_combo.blockSignals(True)
        self.scorer_combo.clear()
        if store is not None:
            default = store.default_scorer()
            for scorer in store.scorers():
                self.scorer_combo.addItem(scorer)
            if default:
                self.scorer_combo.setCurrentText(default)
        self.scorer_combo.blockSignals(False)
        self.refresh()

    def _on_prompt_selected(self, _prompt_id: str) -> None:
        if self.scope == PROMPT_SCOPE:
            self.refresh()

    def refresh(self) -> None:
        """Recompute the sample: the current prompt inline, the whole project on a pool thread."""
        store = self.context.store
        if store is None:
            self._show(RewardSample())
            return
        if self.scorer_combo.count() != len(store.scorers()):
            self._on_project_opened()  # a job brought a new scorer
            return
        scorer = self.scorer_combo.currentText() or None
        if self.scope == PROMPT_SCOPE:
            prompt_id = self.context.current_prompt_id
            self._show(collect_sample(store, [prompt_id], scorer) if prompt_id else RewardSample())
            return
        if self._task is not None:
            self._stale = True  # one scan at a time; rescan when it ends
            return
        self._task = BackgroundTask(
            lambda: collect_sample(store, store.prompt_ids(limit=MAX_PROMPTS_SCANNED), scorer), pool=self._pool)
        # Bound methods, not lambdas: Qt then queues the results to this panel's (the UI) thread.
        self._task.sig_task_finished.connect(self._on_scan_finished)
        self._task.sig_task_failed.connect(self._on_scan_failed)
        self._task.start()

    def _finish_scan(self) -> None:
        """The store closes next: a scan must not be reading it then (DuckDB would crash)."""
        while self._pool.activeThreadCount():
            time.sleep(0.01)  # sleeping releases the GIL, which the scan needs to finish
        self._task = None
        self._stale = False

    def _on_scan_finished(self, sample: RewardSample) -> None:
        if self.sender() is not self._task:
            return  # a scan of a project that has been closed since
        self._task = None
        if self._stale:
            self._stale = False
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

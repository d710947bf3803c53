"""Reward debugging you can act on: where the reward gains (Δ histogram), whether refinement helps
(before / after), whether the scorer likes length (reward against length, r per scorer), whether a
criticism's self-rating means anything (against the mean reward of its improvements), how two scorers
agree, how Stage II climbs round by round, and the disagreement queue: a person's verdicts the reward
contradicts, largest margin first, walked with one key (J).

The figures come from DuckDB aggregates (`backend/store/reward_debug.py`) read on a pool thread, only
while the tab is on screen. Selecting points (drag a rectangle; click a bar or a point) filters the
prompt list to their prompts; every plot saves PNG, SVG and its data as CSV.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from avr_studio.background import BackgroundTask
from avr_studio.context import ProjectContext
from avr_studio.panels.debug_plot import DebugPlot
from avr_studio.panels.on_screen import is_on_screen
from backend.store.reward_debug import Disagreement, Histogram, PlotPoints

PROJECT_SCOPE, PROMPT_SCOPE = "project", "prompt"
SCATTERS = ("before_after", "length", "self_rating", "scorers")
# (name, title, x label, y label); "{a}" / "{b}" are the two scorers compared
PLOTS: tuple[tuple[str, str, str, str], ...] = (
    ("gains", "Gain Δ of improvements", "Δ = R(x, y′) − R(x, y)", "improvements"),
    ("before_after", "Before / after refinement", "R(x, y) of the answer", "best R(x, y′)"),
    ("length", "Reward against length (length bias)", "answer length (characters)", "R(x, y)"),
    ("self_rating", "Criticism self-rating against realised value", "self-rating (1–10)",
     "mean R of its y′"),
    ("scorers", "Scorer against scorer", "{a}", "{b}"),
    ("rounds", "Reward by round (Stage II)", "round", "R(x, y)"),
)
QUEUE_COLUMNS = ("Margin", "Verdict", "Kind", "R", "Sibling R", "Text", "Prompt")
HISTOGRAM_BINS = 40
PLOT_COLUMN_WIDTH = 320  # the plots reflow into as many columns of at least this width as fit (1 to 3)


@dataclass
class DebugData:
    """Everything the tab draws, read in one go off the UI thread."""

    scorer: str
    other: str | None
    prompt_id: str | None
    histogram: Histogram | None = None
    points: dict[str, PlotPoints] = field(default_factory=dict)
    length_correlations: dict[str, tuple[float | None, int]] = field(default_factory=dict)
    rounds: list[tuple] = field(default_factory=list)
    rating_means: list[tuple[int, int, float]] = field(default_factory=list)
    queue: list[Disagreement] = field(default_factory=list)
    seconds: float = 0.0


def load_debug_data(store, scorer: str, other: str | None, prompt_id: str | None) -> DebugData:
    started = time.perf_counter()
    _first_read_on_this_thread(lambda: store.curation_progress())
    data = DebugData(scorer, other, prompt_id)
    data.histogram = store.gain_histogram(scorer, prompt_id=prompt_id, bins=HISTOGRAM_BINS)
    for name in SCATTERS:
        if name != "scorers" or other:
            data.points[name] = store.plot_points(name, scorer, other=other, prompt_id=prompt_id)
    data.length_correlations = store.length_correlations(prompt_id=prompt_id)
    data.rounds = store.rewards_by_round(scorer, prompt_id=prompt_id)
    data.rating_means = store.self_rating_means(scorer, prompt_id=prompt_id)
    data.queue = store.disagreements(scorer, prompt_id=prompt_id)
    data.seconds = time.perf_counter() - started
    return data


def _first_read_on_this_thread(read, attempts: int = 50) -> None:
    """A pool thread's first read opens its own DuckDB cursor from the project's connection, and DuckDB
    refuses ("connection is busy") while the UI thread is in the middle of a query: try again shortly."""
    for attempt in range(attempts):
        try:
            read()
            return
        except Exception as exc:  # the store's adapter raises DuckDB's own error; only "busy" is retried
            if "busy" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.02)


def _r(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


class RewardDebugPanel(QWidget):
    """Six plots over the project (or the current prompt) under one scorer, and the disagreement queue."""

    sig_prompts_selected = Signal(object, str)
    """Points were selected: (prompt ids, what was selected, in words); the prompt list shows only those."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reward_debug_panel")
        self.context = context
        self._current = context.current_prompt
        self.data: DebugData | None = None
        self._task: BackgroundTask | None = None
        self._pool = QThreadPool(self)  # own pool: closing the project waits for this panel's read only
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(500)  # its thread ends when idle: none is left running at exit
        self._rescan = False
        self._stale = True
        self.queue_row = -1

        self.scope_combo = QComboBox()
        self.scope_combo.addItem("Whole project", PROJECT_SCOPE)
        self.scope_combo.addItem("Current prompt", PROMPT_SCOPE)
        self.scorer_combo = QComboBox()
        self.scorer_combo.setToolTip("Whose rewards to plot (the project's ranking scorer at first)")
        self.other_combo = QComboBox()
        self.other_combo.setToolTip("The second scorer of the scorer-against-scorer plot")
        for combo in (self.scope_combo, self.scorer_combo, self.other_combo):  # scorer names are read whole
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.status_label = QLabel()
        self.status_label.setStyleSheet("color: #555;")
        self.status_label.setWordWrap(True)
        controls = QHBoxLayout()
        for label, widget in (("Show", self.scope_combo), ("Scorer", self.scorer_combo),
                              ("against", self.other_combo)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addStretch(1)

        self.plots: dict[str, DebugPlot] = {}
        grid_holder = QWidget()
        self.grid = grid = QGridLayout(grid_holder)
        grid.setContentsMargins(0, 0, 0, 0)
        self.plot_columns = 3
        for index, (name, title, x_label, y_label) in enumerate(PLOTS):
            plot = DebugPlot(name, title, x_label, y_label)
            plot.sig_region_selected.connect(self._on_region_selected)
            plot.sig_point_clicked.connect(self._on_point_clicked)
            self.plots[name] = plot
            grid.addWidget(plot, index // 3, index % 3)
        self.queue_label = QLabel(wordWrap=True)
        self.queue_table = QTableWidget(0, len(QUEUE_COLUMNS))
        self.queue_table.setHorizontalHeaderLabels(QUEUE_COLUMNS)
        self.queue_table.verticalHeader().hide()
        self.queue_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.queue_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.queue_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.queue_table.setWordWrap(False)
        header = self.queue_table.horizontalHeader()
        for column in range(len(QUEUE_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)  # the node's text and the prompt's
        header.setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        queue_holder = QWidget()
        queue_box = QVBoxLayout(queue_holder)
        queue_box.setContentsMargins(0, 0, 0, 0)
        queue_box.addWidget(self.queue_label)
        queue_box.addWidget(self.queue_table, 1)
        # The plots scroll rather than push the window wider than the screen when the tab is narrow.
        self.grid_scroll = grid_scroll = QScrollArea()
        grid_scroll.setWidgetResizable(True)
        grid_scroll.setFrameShape(QFrame.Shape.NoFrame)
        grid_scroll.setWidget(grid_holder)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(grid_scroll)
        splitter.addWidget(queue_holder)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.status_label)  # on a line of its own: beside the combos it squeezed them
        layout.addWidget(splitter, 1)

        self._refresh_timer = QTimer(self, singleShot=True, interval=400)  # coalesce bursts of results
        self._refresh_timer.timeout.connect(self.refresh)
        self.scope_combo.currentIndexChanged.connect(lambda _i: self._mark_stale())
        self.scorer_combo.currentIndexChanged.connect(lambda _i: (self._fill_others(), self._mark_stale()))
        self.other_combo.currentIndexChanged.connect(lambda _i: self._mark_stale())
        self.queue_table.cellDoubleClicked.connect(lambda row, _column: self.open_disagreement(row))
        self._current.sig_scorers_changed.connect(self._fill_scorers)
        self._current.sig_trees_changed.connect(self._on_trees_changed)
        context.sig_data_changed.connect(lambda _prompt_id: self._mark_stale(later=True))
        context.sig_project_about_to_close.connect(self._finish_read)
        self._fill_scorers()

    # --- public --------------------------------------------------------------------------------
    @property
    def scope(self) -> str:
        return self.scope_combo.currentData()

    def set_scope(self, scope: str) -> None:
        self.scope_combo.setCurrentIndex(self.scope_combo.findData(scope))

    def on_screen_changed(self, on_screen: bool) -> None:
        """The tab was selected (True) or left (False); the main window calls this."""
        if on_screen and self._stale:
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.on_screen_changed(True)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._reflow_plots(event.size().width())

    def _reflow_plots(self, width: int) -> None:
        """Three plots a row where the tab is wide, fewer where it is narrow: the plots scroll down,
        never sideways (a third of a narrow tab cut each plot in half)."""
        scrollbar = self.grid_scroll.verticalScrollBar().sizeHint().width()
        columns = max(1, min(3, (width - scrollbar) // PLOT_COLUMN_WIDTH))
        if columns == self.plot_columns:
            return
        self.plot_columns = columns
        for plot in self.plots.values():
            self.grid.removeWidget(plot)
        for index, plot in enumerate(self.plots.values()):
            self.grid.addWidget(plot, index // columns, index % columns)
        for column in range(3):
            self.grid.setColumnStretch(column, 1 if column < columns else 0)

    def refresh(self) -> None:
        """Read every aggregate again (on the panel's pool thread) and redraw when they arrive."""
        self._stale = False
        store, scorer = self.context.store, self.scorer_combo.currentText()
        if store is None or not scorer:
            self._show(None)
            return
        if self._task is not None:
            self._rescan = True
            return
        other = self.other_combo.currentText() or None
        prompt_id = self.context.current_prompt_id if self.scope == PROMPT_SCOPE else None
        self.status_label.setText("Reading…")
        self._task = BackgroundTask(lambda: load_debug_data(store, scorer, other, prompt_id), pool=self._pool)
        self._task.sig_task_finished.connect(self._on_read)
        self._task.sig_task_failed.connect(self._on_read_failed)
        self._task.start()

    def wait_for_data(self) -> DebugData | None:
        """Block until a read in flight has been drawn (tests and the disagreement key use it)."""
        while self._task is not None:
            QCoreApplication.processEvents()  # the result arrives as a queued signal
            time.sleep(0.005)
        return self.data

    def next_disagreement(self) -> None:
        """J: open the next node of the disagreement queue (reading it first if the tab never showed)."""
        if self.data is None or self._stale:
            self.refresh()
            self.wait_for_data()
        queue = self.data.queue if self.data is not None else []
        if not queue:
            self.queue_label.setText("No disagreements: every judged node agrees with the reward's ranking.")
            return
        self.open_disagreement((self.queue_row + 1) % len(queue))

    def open_disagreement(self, row: int) -> None:
        queue = self.data.queue if self.data is not None else []
        if not 0 <= row < len(queue):
            return
        self.queue_row = row
        self.queue_table.selectRow(row)
        item = queue[row]
        self.context.select_prompt(item.prompt_id)
        self.context.select_node(item.node_id)

    # --- reading -------------------------------------------------------------------------------
    def _fill_scorers(self) -> None:
        scorers = self._current.scorers
        self.scorer_combo.blockSignals(True)
        self.scorer_combo.clear()
        self.scorer_combo.addItems(scorers)
        if self._current.scorer:
            self.scorer_combo.setCurrentText(self._current.scorer)  # the ranking scorer at first
        self.scorer_combo.blockSignals(False)
        self._fill_others()
        self._mark_stale()

    def _fill_others(self) -> None:
        """The second scorer: any other than the one plotted ("" when the project has one scorer)."""
        others = [s for s in self._current.scorers if s != self.scorer_combo.currentText()]
        self.other_combo.blockSignals(True)
        chosen = self.other_combo.currentText()
        self.other_combo.clear()
        self.other_combo.addItems(others)
        if chosen in others:
            self.other_combo.setCurrentText(chosen)
        self.other_combo.setEnabled(bool(others))
        self.other_combo.blockSignals(False)

    def _on_trees_changed(self, _prompt_id: str) -> None:
        if self.scope == PROMPT_SCOPE:
            self._mark_stale()

    def _mark_stale(self, later: bool = False) -> None:
        self._stale = True
        if is_on_screen(self):
            if later:
                self._refresh_timer.start()
            else:
                self.refresh()

    def _finish_read(self) -> None:
        """The store closes next: a read must not be running then."""
        while self._pool.activeThreadCount():
            time.sleep(0.01)  # sleeping releases the GIL, which the read needs to finish
        self._task = None
        self._rescan = False

    def _on_read(self, data: DebugData) -> None:
        if self.sender() is not self._task:
            return  # a read of a project closed since
        self._task = None
        if self._rescan:
            self._rescan = False
            self.refresh()
            return
        self._show(data)

    def _on_read_failed(self, exc: Exception, _traceback: str) -> None:
        if self.sender() is not self._task:
            return
        self._task = None
        self.status_label.setText(f"Could not read the scores: {exc}")

    # --- drawing -------------------------------------------------------------------------------
    def _show(self, data: DebugData | None) -> None:
        self.data = data
        for plot in self.plots.values():
            plot.clear()
            plot.set_figures("")
        if data is None:
            self.status_label.setText("No scores yet: grow or score some trees.")
            self._show_queue([])
            return
        where = "this prompt" if data.prompt_id else "the whole project"
        self.status_label.setText(f"{data.scorer} over {where} · read in {data.seconds * 1000:.0f} ms")
        self._draw_gains(data)
        self._draw_before_after(data)
        self._draw_length(data)
        self._draw_self_rating(data)
        self._draw_scorers(data)
        self._draw_rounds(data)
        self._show_queue(data.queue)

    def _draw_gains(self, data: DebugData) -> None:
        plot, histogram = self.plots["gains"], data.histogram
        if histogram is None or not histogram.total:
            plot.set_figures("No scored improvement yet.")
            return
        plot.draw_bars(histogram.edges, histogram.counts)
        plot.draw_vertical(0.0)
        share = 100 * histogram.positive / histogram.total
        plot.set_figures(f"{histogram.total:,} improvements · {histogram.positive:,} with Δ > 0 ({share:.0f}%) · "
                         f"mean Δ {histogram.mean:+.3f}")
        plot.set_data(["bin_start", "bin_end", "improvements"],
                      [(float(a), float(b), int(c)) for a, b, c in
                       zip(histogram.edges[:-1], histogram.edges[1:], histogram.counts, strict=True)])

    def _scatter(self, name: str, data: DebugData, x_name: str, y_name: str) -> PlotPoints | None:
        plot, points = self.plots[name], data.points.get(name)
        if points is None or not points.total:
            return None
        plot.draw_points(points.x, points.y)
        note = f"a sample of {len(points.x):,} of {points.total:,} points" if len(points.x) < points.total else ""
        plot.set_data(["prompt_id", x_name, y_name],
                      list(zip(points.prompt_ids, points.x.tolist(), points.y.tolist(), strict=True)), note)
        return points

    def _draw_before_after(self, data: DebugData) -> None:
        plot = self.plots["before_after"]
        points = self._scatter("before_after", data, "answer_reward", "best_refinement_reward")
        if points is None:
            plot.set_figures("No scored answer with scored improvements yet.")
            return
        low = float(min(points.x.min(), points.y.min()))
        high = float(max(points.x.max(), points.y.max()))
        plot.draw_line([low, high], [low, high], "#888", dashed=True, key="diagonal")  # above: refinement helped
        share = 100 * points.above_diagonal / points.total
        plot.set_figures(f"{points.total:,} answers · {points.above_diagonal:,} beaten by their best refinement "
                         f"({share:.0f}%, above the dashed line) · r = {_r(points.correlation)}")

    def _draw_length(self, data: DebugData) -> None:
        plot = self.plots["length"]
        points = self._scatter("length", data, "length_chars", "reward")
        if points is None:
            plot.set_figures("No scored answer yet.")
            return
        others = " · ".join(f"{scorer}: r = {_r(r)}" for scorer, (r, _n) in data.length_correlations.items()
                            if scorer != data.scorer)
        plot.set_figures(f"length bias r = {_r(points.correlation)} over {points.total:,} answers"
                         + (f" · {others}" if others else ""))

    def _draw_self_rating(self, data: DebugData) -> None:
        plot = self.plots["self_rating"]
        points = self._scatter("self_rating", data, "self_rating", "mean_improvement_reward")
        if points is None:
            plot.set_figures("No rated criticism with scored improvements yet.")
            return
        if data.rating_means:
            ratings, _counts, means = zip(*data.rating_means, strict=True)
            plot.draw_line(ratings, means, "#b3261e", width=2.5, key="means")
        plot.set_figures(f"{points.total:,} criticisms · r = {_r(points.correlation)} · red: mean by rating "
                         "(a useful self-rating climbs)")

    def _draw_scorers(self, data: DebugData) -> None:
        plot = self.plots["scorers"]
        plot.plot.setLabel("bottom", data.scorer)
        plot.plot.setLabel("left", data.other or "another scorer")
        if not data.other:
            plot.set_figures("Only one scorer in this project: score the trees with another to compare.")
            return
        points = self._scatter("scorers", data, data.scorer, data.other)
        if points is None:
            plot.set_figures(f"No answer scored by both {data.scorer} and {data.other}.")
            return
        plot.set_figures(f"{points.total:,} answers scored by both · r = {_r(points.correlation)}")

    def _draw_rounds(self, data: DebugData) -> None:
        plot = self.plots["rounds"]
        if not data.rounds:
            plot.set_figures("No scored answer yet.")
            return
        rounds = np.array([row[0] for row in data.rounds], float)
        q1, median, q3 = (np.array([row[i] for row in data.rounds]) for i in (3, 4, 5))

        # per round: the quartiles as a bar, the median as a dot, the mean as a line
        plot.draw_line(np.repeat(rounds, 2), np.column_stack([q1, q3]).ravel(), "#3b7dd8", width=3,
                       key="quartiles", connect="pairs")
        plot.draw_points(rounds, median, "#3b7dd8", key="medians", size=9)
        plot.draw_line(rounds, [row[2] for row in data.rounds], "#1b7f3b", width=2, key="means")
        means = ", ".join(f"{row[0]}: {row[2]:.3f} ({row[1]:,})" for row in data.rounds[:6])
        plot.set_figures(f"mean R by round (answers): {means}" +
                         ("" if len(data.rounds) > 1 else " · no Stage II rounds yet"))
        plot.set_data(["round", "answers", "mean", "q1", "median", "q3"], [tuple(row) for row in data.rounds])

    def _show_queue(self, queue: list[Disagreement]) -> None:
        self.queue_row = -1
        self.queue_label.setText(
            f"<b>Disagreement queue</b>: {len(queue)} judged node(s) the reward ranks against the person, "
            "largest margin first · <b>J</b> opens the next" if queue else
            "<b>Disagreement queue</b>: empty — no accepted node the reward ranks low, no rejected one it ranks high.")
        self.queue_table.setRowCount(len(queue))
        for row, item in enumerate(queue):
            cells = (f"{item.margin:.3f}", item.verdict, item.kind, f"{item.reward:.3f}", f"{item.other:.3f}",
                     " ".join(item.text.split()), " ".join(item.prompt_text.split()))
            for column, text in enumerate(cells):
                self.queue_table.setItem(row, column, QTableWidgetItem(text))

    # --- selecting -----------------------------------------------------------------------------
    def _selection_args(self) -> dict:
        data = self.data
        return {"other": data.other, "prompt_id": data.prompt_id} if data is not None else {}

    def _on_region_selected(self, name: str, rect: QRectF) -> None:
        if self.data is None or self.context.store is None:
            return
        if name == "scorers" and not self.data.other:
            return
        x_range = (rect.left(), rect.right())
        y_range = None if name == "gains" else (rect.top(), rect.bottom())  # a bar: its whole height
        ids = self.context.store.prompts_in_region(name, self.data.scorer, x_range, y_range,
                                                   **self._selection_args())
        title = dict((n, t) for n, t, _x, _y in PLOTS)[name]
        self.sig_prompts_selected.emit(ids, f"{len(ids):,} prompts selected in “{title}”")

    def _on_point_clicked(self, name: str, point: QPointF) -> None:
        data = self.data
        if data is None:
            return
        if name == "gains" and data.histogram is not None and data.histogram.total:
            edges = data.histogram.edges
            index = int(np.searchsorted(edges, point.x(), side="right")) - 1
            if 0 <= index < len(edges) - 1:
                self._on_region_selected(name, QRectF(QPointF(edges[index], 0), QPointF(edges[index + 1], 0)))
            return
        if name == "rounds":
            rounded = round(point.x())
            self._on_region_selected(name, QRectF(QPointF(rounded - 0.01, -1e300), QPointF(rounded + 0.01, 1e300)))
            return
        points = data.points.get(name)
        if points is None or not len(points.x):
            return
        # the drawn point nearest the click, in screen-independent units (each axis scaled by its spread)
        x_span = float(np.ptp(points.x)) or 1.0
        y_span = float(np.ptp(points.y)) or 1.0
        distance = ((points.x - point.x()) / x_span) ** 2 + ((points.y - point.y()) / y_span) ** 2
        nearest = int(np.argmin(distance))
        prompt_id = points.prompt_ids[nearest]
        self.sig_prompts_selected.emit([prompt_id], "1 prompt picked in a plot")
        self.context.select_prompt(prompt_id)

"""The project's prompts as a sortable, filterable, lazily loaded table; picking a row picks the prompt."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from avr_studio.models.prompt_list_model import COLUMNS, HIDDEN_AT_FIRST, TEXT_COLUMN, PromptListModel
from backend.store import PromptFilter
from backend.store.summaries import STATES as PROMPT_STATES

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext

SEARCH_DEBOUNCE_MS = 250  # one query per pause in typing, not one per key


class PromptListPanel(QWidget):
    """Filter bar over a PromptListModel table; the selected row becomes the context's prompt."""

    sig_counts_changed = Signal(str)
    """The "N of M prompts" line changed (the main window shows it in its status bar)."""

    def __init__(self, context: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("prompt_list_panel")
        self._context = context
        self.model = PromptListModel(parent=self)

        self.search_edit = QLineEdit(placeholderText="Search prompts…", clearButtonEnabled=True)
        self.state_combo = QComboBox()
        self.state_combo.addItem("Any state", None)
        for state in PROMPT_STATES:
            self.state_combo.addItem(state.replace("_", " ").capitalize(), state)
        self.improving_check = QCheckBox("Only improving")
        self.improving_check.setToolTip("Only prompts with at least one refinement that beats its answer (Δ > 0)")
        self.min_gain_spin = QDoubleSpinBox(decimals=3, singleStep=0.05, minimum=-1000.0, maximum=1000.0)
        self.min_gain_spin.setMinimum(-1000.0)
        self.min_gain_spin.setSpecialValueText("any")  # shown at the minimum: no Δ filter
        self.min_gain_spin.setValue(self.min_gain_spin.minimum())
        self.min_gain_spin.setToolTip("Only prompts whose best refinement gains at least this much")
        self.count_label = QLabel()
        # A selection made in a reward plot limits the list to its prompts until cleared.
        self.selection_ids: tuple[str, ...] | None = None
        self.selection_label = QLabel()
        self.selection_label.setStyleSheet("color: #1f5fbf;")
        self.clear_selection_button = QPushButton("Show all")
        self.clear_selection_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.clear_selection_button.clicked.connect(lambda: self.show_only(None))
        self.selection_bar = QWidget()
        selection_row = QHBoxLayout(self.selection_bar)
        selection_row.setContentsMargins(0, 0, 0, 0)
        selection_row.addWidget(self.selection_label, 1)
        selection_row.addWidget(self.clear_selection_button)
        self.selection_bar.hide()

        # Two rows: the panel usually lives in a narrow dock, and the search field needs the width.
        bar = QHBoxLayout()
        bar.addWidget(self.state_combo)
        bar.addWidget(self.improving_check)
        bar.addStretch(1)
        bar.addWidget(QLabel("min Δ"))
        bar.addWidget(self.min_gain_spin)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # Until a header is clicked, prompts stay in the order they were added (the store's default).
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)  # Tab leaves the list for the next pane (the tree)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(TEXT_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(36)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)  # right-click: pick columns
        for column in range(1, len(COLUMNS)):
            # sized to the rows shown after each reload, not on every change: a resize-to-contents
            # column measured every fetched row again on each verdict (30 ms per key)
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            # The prompt's text needs the narrow dock's width: a few number columns wait in the menu.
            toggle = QAction(COLUMNS[column][0], header, checkable=True,
                             checked=column not in HIDDEN_AT_FIRST)
            toggle.toggled.connect(lambda on, c=column: self.table.setColumnHidden(c, not on))
            header.addAction(toggle)
            self.table.setColumnHidden(column, column in HIDDEN_AT_FIRST)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search_edit)
        layout.addLayout(bar)
        layout.addWidget(self.selection_bar)
        layout.addWidget(self.table)
        layout.addWidget(self.count_label)

        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.apply_filter)
        self.search_edit.textChanged.connect(self._search_timer.start)
        self.state_combo.currentIndexChanged.connect(self.apply_filter)
        self.improving_check.toggled.connect(self.apply_filter)
        self.min_gain_spin.valueChanged.connect(self.apply_filter)
        self.model.sig_counts_changed.connect(self._show_counts)
        self.model.modelReset.connect(self._fit_number_columns)
        self.model.headerDataChanged.connect(lambda *_: self._fit_number_columns())
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

        self.progress = (0, 0)  # (prompts fully decided, prompts with trees): set by the curation flow
        context.current_prompt.sig_scorers_changed.connect(
            lambda: self.model.set_scorer_label(context.current_prompt.scorer))
        context.sig_project_opened.connect(self._on_project_opened)
        context.sig_project_closed.connect(lambda: self.model.set_store(None))
        context.sig_prompt_selected.connect(self._select_prompt_row)
        context.sig_data_changed.connect(self._on_data_changed)
        if context.store is not None:
            self._on_project_opened()

    # --- filter --------------------------------------------------------------------------------
    def current_filter(self) -> PromptFilter:
        """The filter the bar shows right now."""
        min_gain = self.min_gain_spin.value()
        return PromptFilter(
            text=self.search_edit.text().strip(),
            state=self.state_combo.currentData(),
            min_gain=None if min_gain <= self.min_gain_spin.minimum() else min_gain,
            has_improving=True if self.improving_check.isChecked() else None,
            prompt_ids=self.selection_ids,
        )

    def show_only(self, prompt_ids, description: str = "") -> None:
        """Limit the list to these prompts (a selection in a reward plot); None shows them all again."""
        self.selection_ids = None if prompt_ids is None else tuple(prompt_ids)
        self.selection_label.setText(description or f"{len(prompt_ids or ()):,} prompts selected")
        self.selection_bar.setVisible(self.selection_ids is not None)
        self.apply_filter()

    def apply_filter(self) -> None:
        self._search_timer.stop()
        self.model.set_filter(self.current_filter())

    # --- reactions -----------------------------------------------------------------------------
    def _on_project_opened(self) -> None:
        self.selection_ids = None
        self.selection_bar.hide()
        self.model.set_store(self._context.store, self.current_filter())

    def _on_data_changed(self, prompt_id: str) -> None:
        if prompt_id:
            self.model.refresh_prompt(prompt_id)
        else:  # many prompts changed (an import, a finished job): counts and order may differ
            self.model.reload()

    def show_progress(self, decided: int, trees: int) -> None:
        """The "curated k of n" counter: prompts whose every node is decided, of prompts with trees."""
        self.progress = (decided, trees)
        self._show_counts(self.model.matching_count, self.model.total_count)

    def _fit_number_columns(self) -> None:
        for column in range(1, len(COLUMNS)):
            if not self.table.isColumnHidden(column):
                self.table.resizeColumnToContents(column)

    def _show_counts(self, matching: int, total: int) -> None:
        decided, trees = self.progress
        text = f"{matching:,} of {total:,} prompts"
        if trees:
            text += f" · curated {decided:,} of {trees:,} trees"
        self.count_label.setText(text)
        self.sig_counts_changed.emit(text)
        # Counts follow every reload (sort, filter); the reset forgot the selection, so restore it.
        self._select_prompt_row(self._context.current_prompt_id or "")

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        prompt_id = self.model.prompt_id(current.row()) if current.isValid() else None
        if prompt_id:
            self._context.select_prompt(prompt_id)

    def _select_prompt_row(self, prompt_id: str) -> None:
        row = self.model.row_of(prompt_id)
        if row < 0 or self.table.currentIndex().row() == row:
            return
        self.table.selectionModel().setCurrentIndex(
            self.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(self.model.index(row, 0))

"""Lazy table of prompt summaries: rows arrive from the Store in pages as the view scrolls.

Sorting and filtering are done by the Store (the table may hold 100k prompts); the model only keeps
the pages fetched so far and resets when the sort or the filter changes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from backend.store import PromptFilter

if TYPE_CHECKING:
    from backend.store import PromptSummary, Store

_ROOT = QModelIndex()  # the invisible root, as a shared default argument
PAGE_SIZE = 200
GAIN_UP = QColor("#1b7f3b")
GAIN_DOWN = QColor("#b3261e")

# (header, PromptSummary field, Store sort key, tooltip). "{scorer}" in a header or tooltip is the
# ranking scorer: every reward in the list is under that one scorer, and the header says which.
COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("Prompt · rewards by {short}", "text", "text", "The prompt's text (the whole text is above the compare "
     "view); every reward in the list is under the ranking scorer {scorer}"),
    ("R", "best_reward", "best_reward", "Best reward: the highest R(x, y) of any answer in the prompt's "
     "trees, under the ranking scorer {scorer}"),
    ("Δ", "best_gain", "best_gain", "Best Δ: the reward gain of the best refinement over the answer it "
     "improves, under the ranking scorer {scorer}"),
    ("Improving", "n_improving", "n_improving", "Refinements that beat the answer they improve (Δ > 0)"),
    ("Nodes", "n_nodes", "n_nodes", "Nodes in the prompt's trees"),
    ("State", "state", "state", "Curation state: how far a person has looked at this prompt"),
    ("Done", "n_undecided", "undecided", "Decided: nodes with a verdict (accept, reject or skip) of the nodes "
     "that take one; ✓ when every one has"),
)
TEXT_COLUMN, REWARD_COLUMN, GAIN_COLUMN, IMPROVING_COLUMN, NODES_COLUMN, STATE_COLUMN, DECIDED_COLUMN = range(7)
HIDDEN_AT_FIRST = (IMPROVING_COLUMN, NODES_COLUMN, STATE_COLUMN)  # the header's right-click menu shows them

PROMPT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
"""data(index, PROMPT_ID_ROLE) gives the row's prompt id."""


class PromptListModel(QAbstractTableModel):
    """Prompt summaries from `Store.list_prompt_summaries`, fetched PAGE_SIZE rows at a time."""

    sig_counts_changed = Signal(int, int)
    """Rows matching the filter and prompts in the project changed: (matching, total)."""

    def __init__(self, store: Store | None = None, parent=None) -> None:
        super().__init__(parent)
        self._store: Store | None = None
        self._rows: list[PromptSummary] = []
        self._matching = 0
        self._total = 0
        self._filter: PromptFilter | None = None
        self._sort_key = "added"  # import order until a header is clicked
        self._descending = False
        self.scorer_label = ""  # the ranking scorer, named in the reward headers
        if store is not None:
            self.set_store(store)

    # --- what the model shows ------------------------------------------------------------------
    @property
    def matching_count(self) -> int:
        return self._matching

    @property
    def total_count(self) -> int:
        return self._total

    def set_store(self, store: Store | None, prompt_filter: PromptFilter | None = None) -> None:
        """Show `store` (through `prompt_filter`): one reload, as a project opens."""
        self._store = store
        self._filter = prompt_filter
        self.reload()

    def set_scorer_label(self, scorer: str | None) -> None:
        """Name the ranking scorer in the reward columns' headers."""
        self.scorer_label = scorer or ""
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, TEXT_COLUMN, GAIN_COLUMN)

    def set_filter(self, prompt_filter: PromptFilter) -> None:
        self._filter = prompt_filter
        self.reload()

    def prompt_id(self, row: int) -> str | None:
        return self._rows[row].id if 0 <= row < len(self._rows) else None

    def summary(self, row: int) -> PromptSummary | None:
        """The fetched summary of a row (None past the fetched rows)."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, prompt_id: str) -> int:
        """The row of a fetched prompt, or -1 when it is not (yet) fetched."""
        return next((i for i, summary in enumerate(self._rows) if summary.id == prompt_id), -1)

    def reload(self) -> None:
        """Drop every fetched page and start again from the first (after a sort, filter or import)."""
        self.beginResetModel()
        self._rows = []
        self._matching = self._total = 0
        if self._store is not None:
            prompt_filter = self._filter or PromptFilter()
            self._matching = self._store.count_prompt_summaries(prompt_filter)
            unfiltered = replace(prompt_filter, scorer=None) == PromptFilter()  # the scorer keeps every row
            self._total = self._matching if unfiltered else self._store.count_prompt_summaries(PromptFilter())
            # The first page comes with the reset (views would ask for it at once anyway).
            self._rows = self._store.list_prompt_summaries(prompt_filter, self._sort_key, self._descending,
                                                           0, PAGE_SIZE)
        self.endResetModel()
        self.sig_counts_changed.emit(self._matching, self._total)

    def refresh_prompt(self, prompt_id: str) -> None:
        """Re-read one fetched prompt's summary in place (its curation state or rewards changed).

        The row stays where it is even if the new values would sort it elsewhere: rows jumping
        away while a person curates them would be worse than a briefly stale order.
        """
        row = self.row_of(prompt_id)
        if row < 0 or self._store is None:
            return
        summary = self._store.prompt_summary(prompt_id, (self._filter or PromptFilter()).scorer)
        if summary is not None:
            self._rows[row] = summary
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    # --- lazy loading --------------------------------------------------------------------------
    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> bool:
        return not parent.isValid() and len(self._rows) < self._matching

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> None:
        if parent.isValid() or self._store is None:
            return
        page = self._store.list_prompt_summaries(self._filter or PromptFilter(), self._sort_key,
                                                 self._descending, len(self._rows), PAGE_SIZE)
        if not page:  # the table shrank under us; stop asking
            self._matching = len(self._rows)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    # --- QAbstractTableModel -------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        scorer = self.scorer_label or "none yet"
        short = self.scorer_label or "no scorer yet"
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0].format(short=short)
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][3].format(scorer=scorer)
        if role == Qt.ItemDataRole.TextAlignmentRole and section == TEXT_COLUMN:  # a long header elides at its end
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        summary = self._rows[index.row()]
        column = index.column()
        value = getattr(summary, COLUMNS[column][1])
        if role == Qt.ItemDataRole.DisplayRole:
            if column == DECIDED_COLUMN:
                return self._decided(summary)
            return self._display(column, value)
        if role == Qt.ItemDataRole.ToolTipRole and column == TEXT_COLUMN:
            return summary.text[:2000]
        if role == Qt.ItemDataRole.ForegroundRole and column == GAIN_COLUMN and value:
            return GAIN_UP if value > 0 else GAIN_DOWN
        if role == Qt.ItemDataRole.ForegroundRole and column == DECIDED_COLUMN and summary.n_judgeable \
                and not summary.n_undecided:
            return GAIN_UP
        if role == Qt.ItemDataRole.TextAlignmentRole and column not in (TEXT_COLUMN, STATE_COLUMN):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == PROMPT_ID_ROLE:
            return summary.id
        return None

    @staticmethod
    def _decided(summary: PromptSummary) -> str:
        """'5/7' decided of those that take a verdict, '✓ 7' when all are, '' with no nodes."""
        if not summary.n_judgeable:
            return ""
        decided = summary.n_judgeable - summary.n_undecided
        return f"✓ {decided}" if not summary.n_undecided else f"{decided}/{summary.n_judgeable}"

    @staticmethod
    def _display(column: int, value: Any) -> str:
        if column == TEXT_COLUMN:
            return " ".join(str(value).split())[:200]  # one line; the tooltip holds the rest
        if column == REWARD_COLUMN:
            return "—" if value is None else f"{value:.3f}"
        if column == GAIN_COLUMN:
            return "—" if value is None else f"{value:+.3f}"
        if column == STATE_COLUMN:
            return str(value or "").replace("_", " ")
        return str(value)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Ask the Store for a new order; the fetched pages no longer apply, so start again."""
        self._sort_key = COLUMNS[column][2] if 0 <= column < len(COLUMNS) else "added"
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

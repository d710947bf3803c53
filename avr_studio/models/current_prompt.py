"""The current prompt's trees, loaded once per change and shared by every panel that shows them.

The tree, node editor, compare, pairs and reward panels are views of this one model: a prompt switch
or a data change reads the trees once (three queries, `PromptTrees.load`) and each panel redraws
from `trees` when `sig_trees_changed` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from backend.curation.prompt_trees import PromptTrees

if TYPE_CHECKING:  # the store imports duckdb; type hints only
    from backend.store import Store

# What the model reads on a change: the open store (None when closed) and the current prompt's id ("" when none).
SelectionSource = Callable[[], "tuple[Store | None, str]"]

EMPTY = PromptTrees("", [])


class CurrentPromptModel(QObject):
    """`trees` of the current prompt, ranked by the project's ranking scorer
    (`backend.curation.ranking`): every panel shows the same scores. The project context owns it and
    calls `project_opened`, `project_closed`, `reload` and `data_changed` from its own signals."""

    sig_trees_changed = Signal(str)
    """The current prompt's trees were (re)loaded; argument: the prompt id ("" when none)."""

    sig_scorers_changed = Signal()
    """The project's scorers or its ranking scorer changed (a project opened, a job brought a new
    scorer, the ranking scorer was switched)."""

    def __init__(self, selection: SelectionSource, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._selection = selection
        self.trees: PromptTrees = EMPTY
        self.scorers: list[str] = []  # every scorer with scores in the project
        self.default_scorer: str | None = None  # the project's ranking scorer (Store.default_scorer)
        self.loads = 0  # how many times the trees were read (tests count them)

    @property
    def prompt_id(self) -> str:
        return self.trees.prompt_id

    @property
    def scorer(self) -> str | None:
        """The scorer whose scores rank the nodes: the project's ranking scorer."""
        return self.default_scorer

    def ranking_changed(self) -> None:
        """The project's ranking scorer was switched: read it again and reload the trees."""
        self._read_scorers()
        self.reload()

    def reload(self) -> None:
        """Read the current prompt's trees again and tell the panels."""
        store, prompt_id = self._selection()
        if store is None or not prompt_id:
            self.trees = EMPTY
        else:
            self.trees = PromptTrees.load(store, prompt_id, self.scorer)
            self.loads += 1
        self.sig_trees_changed.emit(self.trees.prompt_id)

    # --- reactions to the context's signals -----------------------------------------------------------------------------
    def _read_scorers(self) -> None:
        store, _prompt_id = self._selection()
        self.scorers = store.scorers() if store is not None else []
        self.default_scorer = store.default_scorer() if store is not None else None
        self.sig_scorers_changed.emit()

    def project_opened(self) -> None:
        self._read_scorers()
        self.reload()

    def project_closed(self) -> None:
        self.scorers, self.default_scorer = [], None
        self.sig_scorers_changed.emit()
        self.reload()

    def data_changed(self, prompt_id: str) -> None:
        if not prompt_id or self.default_scorer is None:  # a job or an import may have brought a scorer
            self._read_scorers()
        if self.prompt_id and prompt_id in ("", self.prompt_id):
            self.reload()

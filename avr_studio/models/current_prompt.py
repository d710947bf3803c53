"""The current prompt's trees, loaded once per change and shared by every panel that shows them.

The tree, node editor, compare, pairs and reward panels are views of this one model: a prompt switch
or a data change reads the trees once (three queries, `PromptTrees.load`) and each panel redraws
from `trees` when `sig_trees_changed` says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from backend.curation.prompt_trees import PromptTrees

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext

EMPTY = PromptTrees("", [])


class CurrentPromptModel(QObject):
    """`trees` of `context.current_prompt_id`, ranked by the project's ranking scorer
    (`backend.curation.ranking`): every panel shows the same scores."""

    sig_trees_changed = Signal(str)
    """The current prompt's trees were (re)loaded; argument: the prompt id ("" when none)."""

    sig_scorers_changed = Signal()
    """The project's scorers or its ranking scorer changed (a project opened, a job brought a new
    scorer, the ranking scorer was switched)."""

    def __init__(self, context: ProjectContext) -> None:
        super().__init__(context)
        self._context = context
        self.trees: PromptTrees = EMPTY
        self.scorers: list[str] = []  # every scorer with scores in the project
        self.default_scorer: str | None = None  # the project's ranking scorer (Store.default_scorer)
        self.loads = 0  # how many times the trees were read (tests count them)
        context.sig_project_opened.connect(self._on_project_opened)
        context.sig_project_closed.connect(self._on_project_closed)
        context.sig_prompt_selected.connect(lambda _prompt_id: self.reload())
        context.sig_data_changed.connect(self._on_data_changed)

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
        store = self._context.store
        prompt_id = self._context.current_prompt_id or ""
        if store is None or not prompt_id:
            self.trees = EMPTY
        else:
            self.trees = PromptTrees.load(store, prompt_id, self.scorer)
            self.loads += 1
        self.sig_trees_changed.emit(self.trees.prompt_id)

    # --- reactions -----------------------------------------------------------------------------
    def _read_scorers(self) -> None:
        store = self._context.store
        self.scorers = store.scorers() if store is not None else []
        self.default_scorer = store.default_scorer() if store is not None else None
        self.sig_scorers_changed.emit()

    def _on_project_opened(self) -> None:
        self._read_scorers()
        self.reload()

    def _on_project_closed(self) -> None:
        self.scorers, self.default_scorer = [], None
        self.sig_scorers_changed.emit()
        self.reload()

    def _on_data_changed(self, prompt_id: str) -> None:
        if not prompt_id or self.default_scorer is None:  # a job or an import may have brought a scorer
            self._read_scorers()
        if self.prompt_id and prompt_id in ("", self.prompt_id):
            self.reload()

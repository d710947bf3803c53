"""The curation flow: one key per decision. After a verdict the next undecided node of the tree is
selected, then the next prompt (in the prompt list's order and filter) that still has one; N / P move
to the next / previous prompt; a new prompt opens on its first undecided node; and the "curated k of n"
counter follows every change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from backend.curation.undecided import next_undecided

if TYPE_CHECKING:
    from avr_studio.context import ProjectContext
    from avr_studio.models.prompt_list_model import PromptListModel

MAX_PAGES_SEARCHED = 25  # pages of the prompt list fetched while looking for an undecided prompt


class CurationFlow(QObject):
    """Moves the selection for the person; owns no widget."""

    sig_progress_changed = Signal(int, int)
    """(prompts whose every node is decided, prompts with nodes to decide) changed."""

    sig_message = Signal(str)
    """Something the status bar should say (e.g. every tree is curated)."""

    def __init__(self, context: ProjectContext, prompts: PromptListModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._prompts = prompts
        self._current = context.current_prompt
        self._shown_prompt = ""
        self.progress = (0, 0)
        self._current.sig_trees_changed.connect(self._on_trees_changed)
        context.sig_data_changed.connect(lambda _prompt_id: self.refresh_progress())
        context.sig_project_opened.connect(self.refresh_progress)
        # After the opening's own selection (the place the person left), so that one wins.
        context.sig_project_opened.connect(lambda: QTimer.singleShot(0, self.open_first_undecided))
        context.sig_project_closed.connect(self.refresh_progress)

    # --- moves ---------------------------------------------------------------------------------
    def after_verdict(self, node_id: str) -> None:
        """A verdict was given on `node_id`: show the next undecided node, here or in the next prompt."""
        following = next_undecided(self._current.trees, node_id)
        if following is not None:
            self._context.select_node(following)
        else:
            self.next_prompt(undecided_only=True)

    def next_prompt(self, undecided_only: bool = False) -> bool:
        """Select the prompt after the current one in the list (with `undecided_only`, the next one
        that still has an undecided node, wrapping round to the top); False when there is none."""
        model, start = self._prompts, self._prompts.row_of(self._context.current_prompt_id or "")
        row = start + 1
        pages = 0
        while True:
            if row >= model.rowCount():
                if model.canFetchMore() and pages < MAX_PAGES_SEARCHED:
                    model.fetchMore()
                    pages += 1
                    continue
                break
            summary = model.summary(row)
            if summary is not None and (not undecided_only or summary.n_undecided > 0):
                self._context.select_prompt(summary.id)
                return True
            row += 1
        if undecided_only:  # wrap round: an earlier prompt may still wait
            for earlier in range(0, max(start, 0)):
                summary = model.summary(earlier)
                if summary is not None and summary.n_undecided > 0:
                    self._context.select_prompt(summary.id)
                    return True
            done, total = self.progress
            self.sig_message.emit(f"Every tree in this list is curated ({done} of {total} in the project).")
        return False

    def open_first_undecided(self) -> None:
        """A project just opened with no prompt selected: put the first one with an undecided node up."""
        if self._context.store is not None and not self._context.current_prompt_id:
            self.next_prompt(undecided_only=True)

    def previous_prompt(self) -> bool:
        row = self._prompts.row_of(self._context.current_prompt_id or "")
        summary = self._prompts.summary(row - 1) if row > 0 else None
        if summary is None:
            return False
        self._context.select_prompt(summary.id)
        return True

    # --- reactions -----------------------------------------------------------------------------
    def _on_trees_changed(self, prompt_id: str) -> None:
        # A prompt just opened with nothing selected: put its first undecided node (else its answer)
        # in front of the person, so the next key decides something.
        if prompt_id == self._shown_prompt:
            return
        self._shown_prompt = prompt_id
        trees = self._current.trees
        if not prompt_id or self._context.current_node_id in trees.by_id or not trees.roots:
            return
        self._context.select_node(next_undecided(trees) or trees.roots[0].id)

    def refresh_progress(self) -> None:
        store = self._context.store
        progress = store.curation_progress() if store is not None else (0, 0)
        if progress != self.progress:
            self.progress = progress
            self.sig_progress_changed.emit(*progress)

"""The shared state every panel sees: the open project's Store, the undo stack, the current
selection, the current prompt's trees and the worker client. Panels talk to each other only through
this object's signals (and those of `current_prompt`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QUndoStack

from avr_studio.models.current_prompt import CurrentPromptModel

if TYPE_CHECKING:  # the store imports duckdb; keep this module importable without it for type hints
    from avr_studio.worker_client import WorkerClient
    from backend.store import Store


class ProjectContext(QObject):
    """Holds the open project and the current selection; the one hub the GUI panels share.

    Curation edits go through `undo_stack` (one QUndoCommand per action). Anything that writes
    nodes, scores or annotations for a prompt emits `sig_data_changed(prompt_id)` so views refresh.
    """

    sig_project_opened = Signal()
    """A project was opened (or replaced); `store` is now valid. Panels reload everything."""

    sig_project_about_to_close = Signal()
    """The store is about to close: finish (wait for) any background read of it now, and write what
    must not be lost (a draft being typed, the prompt to return to)."""

    sig_project_closed = Signal()
    """The project was closed; `store` is None. Panels clear themselves."""

    sig_prompt_selected = Signal(str)
    """The current prompt changed; the argument is its id."""

    sig_node_selected = Signal(str)
    """The current node changed; the argument is its id ("" when nothing is selected)."""

    sig_compare_requested = Signal(str, str)
    """A panel asks to show two nodes side by side (left node id, right node id)."""

    sig_data_changed = Signal(str)
    """A prompt's data changed (nodes, scores or annotations written); argument: the prompt id,
    or "" when many prompts changed at once (an import, a finished job)."""

    def __init__(self, store: Store | None = None, worker_client: WorkerClient | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store: Store | None = None
        self.undo_stack = QUndoStack(self)
        self.worker_client: WorkerClient | None = worker_client
        # The app's avr_studio.jobs_service.JobsService, set once a project is open (that module builds
        # on this one, so it is not imported here).
        self.jobs_service = None
        self.current_prompt_id: str | None = None
        self.current_node_id: str | None = None
        self.compared_node_ids: tuple[str, str] | None = None
        # The main window fills this from actions.py; panels connect to the shared QActions
        # (`context.action("curate.accept")`) instead of making their own, so each key has one owner.
        self.actions: dict[str, QAction] = {}
        # The current prompt's trees, loaded once per change for every panel (made before any
        # panel connects, so it reloads before they redraw).
        self.current_prompt = CurrentPromptModel(lambda: (self.store, self.current_prompt_id or ""), self)
        self.sig_project_opened.connect(self.current_prompt.project_opened)
        self.sig_project_closed.connect(self.current_prompt.project_closed)
        self.sig_prompt_selected.connect(lambda _prompt_id: self.current_prompt.reload())
        self.sig_data_changed.connect(self.current_prompt.data_changed)
        if store is not None:
            self.open_store(store)

    # --- project -------------------------------------------------------------------------------
    @property
    def has_project(self) -> bool:
        return self.store is not None

    @property
    def project_name(self) -> str:
        return self.store.project_dir.name if self.store is not None else ""

    def open_store(self, store: Store) -> None:
        """Adopt an already-opened Store (the caller opened it and handled ProjectLockedError)."""
        if self.store is not None:
            self.close_store()
        self.store = store
        self.undo_stack.clear()  # commands of another project must never replay on this one
        self.current_prompt_id = None
        self.current_node_id = None
        self.compared_node_ids = None
        self.sig_project_opened.emit()

    def close_store(self) -> None:
        """Close the project's database (releasing its lock) and tell the panels."""
        if self.store is None:
            return
        # First the panels finish with the store (a draft being typed is saved, which may push one
        # more command), then the commands of this project are dropped: none may replay on a closed store.
        self.sig_project_about_to_close.emit()
        self.undo_stack.clear()
        store, self.store = self.store, None
        self.current_prompt_id = None
        self.current_node_id = None
        store.close()
        self.sig_project_closed.emit()

    def action(self, action_id: str) -> QAction | None:
        """The window's QAction for an id of actions.ACTIONS (None in a bare test context)."""
        return self.actions.get(action_id)

    # --- selection -----------------------------------------------------------------------------
    def select_prompt(self, prompt_id: str) -> None:
        """Make `prompt_id` current; emits sig_prompt_selected only when it changes."""
        if prompt_id == self.current_prompt_id:
            return
        self.current_prompt_id = prompt_id
        self.current_node_id = None
        self.sig_prompt_selected.emit(prompt_id)

    def select_node(self, node_id: str) -> None:
        """Make `node_id` current ("" clears); emits sig_node_selected only when it changes."""
        node_id = node_id or ""
        if node_id == (self.current_node_id or ""):
            return
        self.current_node_id = node_id or None
        self.sig_node_selected.emit(node_id)

    def request_compare(self, left_node_id: str, right_node_id: str) -> None:
        self.compared_node_ids = (left_node_id, right_node_id)
        self.sig_compare_requested.emit(left_node_id, right_node_id)

    def notify_data_changed(self, prompt_id: str = "") -> None:
        """Tell every view that a prompt's data changed ("" = many prompts)."""
        self.sig_data_changed.emit(prompt_id)

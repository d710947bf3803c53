"""Every user action in one table: id, label, shortcut, menu and a one-line description.

The main window builds its menus from this table and the `?` sheet lists it, so a shortcut
documented anywhere is the shortcut that works. Panels look their QActions up by id.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence


@dataclass(frozen=True)
class ActionSpec:
    id: str
    label: str
    shortcut: str  # QKeySequence text ("" for none)
    menu: str  # "File", "Edit", "Curate", "Jobs", "View", "Help"
    description: str
    # Curation keys are single letters: scope them to the window so typing in an editor still works.
    window_scope: bool = True
    button: str = ""  # the short label of a panel button that triggers it (the node editor's)

    @property
    def button_text(self) -> str:
        """The button's text with the key, e.g. "Accept (A)"."""
        key = native_shortcut_text(self)
        return f"{self.button} ({key})" if key else self.button


ACTIONS: tuple[ActionSpec, ...] = (
    # File
    ActionSpec("file.new_project", "&New Project…", "Ctrl+N", "File", "Create an empty project folder."),
    ActionSpec("file.open_project", "&Open Project…", "Ctrl+O", "File", "Open an existing project folder."),
    ActionSpec("file.open_demo", "Open &Demo Project", "", "File", "Open (or create) the bundled demo project."),
    ActionSpec("file.export", "&Export Pairs…", "Ctrl+Shift+E", "File", "Write curated pairs and SFT data to files."),
    ActionSpec("file.settings", "&Settings…", "Ctrl+,", "File", "Models, scorers, worker interpreter, sampling."),
    ActionSpec("file.quit", "&Quit", "Ctrl+Q", "File", "Close the window (asks first if a job is running)."),
    # Edit
    ActionSpec("edit.undo", "&Undo", "Ctrl+Z", "Edit", "Undo the last curation action."),
    ActionSpec("edit.redo", "&Redo", "Ctrl+Shift+Z", "Edit", "Redo the last undone curation action."),
    # Curate
    ActionSpec("curate.accept", "&Accept Node", "A", "Curate", "Accept the selected criticism or improvement.",
               button="Accept"),
    ActionSpec("curate.reject", "Re&ject Node", "X", "Curate", "Reject the selected criticism or improvement.",
               button="Reject"),
    ActionSpec("curate.skip", "&Skip Node", "Space", "Curate", "Mark the selected node as seen, no verdict.",
               button="Skip"),
    ActionSpec("curate.edit", "&Edit Node", "E", "Curate", "Edit the selected node's text (keeps the original).",
               button="Edit"),
    ActionSpec("curate.commit", "&Commit Edit", "Ctrl+Return", "Curate", "Save the edit being typed.",
               button="Commit"),
    ActionSpec("curate.cancel", "&Cancel Edit", "Esc", "Curate", "Drop the edit being typed.", button="Cancel"),
    ActionSpec("curate.regenerate", "&Regenerate Improvements", "R", "Curate",
               "Generate new improvements from the selected (edited) criticism.", button="Regenerate"),
    ActionSpec("curate.toggle_diff", "Toggle &Diff", "D", "Curate", "Show or hide the word diff in the compare view."),
    ActionSpec("curate.next_prompt", "&Next Prompt", "N", "Curate",
               "Go to the next prompt in the list (its first undecided node)."),
    ActionSpec("curate.previous_prompt", "&Previous Prompt", "P", "Curate",
               "Go to the previous prompt in the list (its first undecided node)."),
    ActionSpec("curate.next_disagreement", "Next Disa&greement", "J", "Curate",
               "Walk the disagreement queue: the next node where the person and the reward disagree most."),
    ActionSpec("curate.ranking_scorer", "Ranking &Scorer…", "", "Curate",
               "Choose the scorer that ranks every node and decides the reward's pairs (undoable)."),
    # Jobs
    ActionSpec("jobs.grow_trees", "&Grow Trees…", "Ctrl+G", "Jobs", "Run Stage I trees on prompts without one."),
    ActionSpec("jobs.restart_worker", "Restart &Worker", "", "Jobs", "Start a fresh worker process."),
    # View
    ActionSpec("view.focus_prompts", "Go to &Prompts", "Ctrl+1", "View", "Put the keyboard in the prompt list."),
    ActionSpec("view.focus_tree", "Go to &Tree", "Ctrl+2", "View", "Put the keyboard in the tree."),
    ActionSpec("view.focus_compare", "Go to &Compare", "Ctrl+3", "View",
               "Show the compare view and put the keyboard in it (arrows scroll the texts)."),
    ActionSpec("view.tree_picture", "Tree P&icture", "Ctrl+4", "View",
               "Show the whole tree as a picture (two trees side by side on request)."),
    ActionSpec("view.reward_debugging", "&Reward Debugging", "Ctrl+5", "View",
               "Show the reward plots and the disagreement queue."),
    ActionSpec("view.training", "T&raining", "Ctrl+6", "View",
               "Train a stage, follow its curves, and work with the project's runs."),
    ActionSpec("view.before_after", "&Before / After", "Ctrl+7", "View",
               "A trained run's answers next to its base model's, on the held-out prompts."),
    ActionSpec("view.focus_jobs", "Go to &Jobs", "Ctrl+8", "View",
               "Put the keyboard on the newest job's button (Cancel, or Resume once it stopped); Space presses it."),
    ActionSpec("view.reward_scope", "Rewards of Current &Prompt Only", "", "View",
               "Plot the current prompt instead of the whole project."),
    # Help
    ActionSpec("help.shortcuts", "&Keyboard Shortcuts", "?", "Help", "Show this list of shortcuts."),
    ActionSpec("help.demo_model", "About the &Demo Model", "", "Help",
               "The bundled 135M model and how to use a bigger one."),
)

ACTIONS_BY_ID: dict[str, ActionSpec] = {spec.id: spec for spec in ACTIONS}

# Keys that move around rather than act (no menu entry); the `?` sheet lists them after the actions.
NAVIGATION_KEYS: tuple[tuple[str, str], ...] = (
    ("↑ / ↓", "Tree: previous / next sibling; prompt list: previous / next prompt"),
    ("←", "Tree: up to the parent node"),
    ("→", "Tree: down to the first child node"),
    ("Tab / Shift+Tab", "Next / previous pane (prompt list → tree → …)"),
    ("Page Up / Page Down", "Compare view (after Ctrl+3): scroll both texts"),
    ("Ctrl+Return / Esc", "While editing: save / drop the edit (the keyboard returns to the tree)"),
)
MENU_ORDER: tuple[str, ...] = ("File", "Edit", "Curate", "Jobs", "View", "Help")


def native_shortcut_text(spec: ActionSpec) -> str:
    """The shortcut as the platform writes it (Ctrl shows as ⌘ on macOS)."""
    return QKeySequence(spec.shortcut).toString(QKeySequence.SequenceFormat.NativeText) if spec.shortcut else ""


def create_actions(parent: QObject) -> dict[str, QAction]:
    """One QAction per table row, parented to `parent` (the main window), keyed by id."""
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        action = QAction(spec.label, parent)
        action.setObjectName(spec.id)
        action.setToolTip(f"{spec.description} ({spec.shortcut})" if spec.shortcut else spec.description)
        action.setStatusTip(spec.description)
        if spec.shortcut:
            action.setShortcut(QKeySequence(spec.shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut if spec.window_scope
                                      else Qt.ShortcutContext.ApplicationShortcut)
        actions[spec.id] = action
    return actions

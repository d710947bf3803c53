"""The main window: docks for the panels, menus built from actions.py, and the status bar.
Features live in the panels; project opening and closing live in ProjectController.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QToolBar,
    QWidget,
)

from avr_studio.actions import ACTIONS, MENU_ORDER, create_actions
from avr_studio.app_settings import AppSettings, qsettings
from avr_studio.context import ProjectContext
from avr_studio.curation_flow import CurationFlow
from avr_studio.dialogs.demo_model_dialog import DEMO_MODEL_NOTICE
from avr_studio.panels.before_after_panel import BeforeAfterPanel
from avr_studio.panels.compare_panel import ComparePanel
from avr_studio.panels.jobs_panel import JobsPanel
from avr_studio.panels.node_editor_panel import NodeEditorPanel
from avr_studio.panels.pairs_panel import PairsPanel
from avr_studio.panels.prompt_list_panel import PromptListPanel
from avr_studio.panels.reward_debug_panel import PROJECT_SCOPE, PROMPT_SCOPE, RewardDebugPanel
from avr_studio.panels.training_panel import TrainingPanel
from avr_studio.panels.tree_panel import TreePanel
from avr_studio.panels.tree_picture_panel import TreePicturePanel
from avr_studio.panels.worker_log_panel import WorkerLogPanel
from avr_studio.training_controller import TrainingController
from backend.config import EMBEDDED_MODEL

APP_NAME = "AvR Studio"
LEFT, RIGHT, BOTTOM = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                       Qt.DockWidgetArea.BottomDockWidgetArea)
# (name, title, area, tabbed with). The compare view is the central widget. One tab group only:
# Qt 6.12 leaves a stray, visible tab bar behind when a window builds a second one before it is shown.
DOCK_LAYOUT = (
    ("prompts", "Prompts", LEFT, None),
    ("tree", "Tree", LEFT, None),
    ("node_editor", "Node", RIGHT, None),
    ("jobs", "Jobs", BOTTOM, None),
    ("pairs", "Pairs", BOTTOM, "jobs"),
    ("worker_log", "Worker Log", BOTTOM, "jobs"),
)
CENTRAL_MIN_WIDTH = 420
# The central area's tabs: the compare view, and the two views that need its room.
COMPARE_TAB, PICTURE_TAB, REWARDS_TAB, TRAINING_TAB, BEFORE_AFTER_TAB = range(5)


class DemoModelBanner(QFrame):
    """A one-line notice over the main view while the bundled 135M model is the generator."""

    sig_dismiss_requested = Signal()
    """The person asked to hide the notice for this session."""

    def __init__(self, on_learn_more, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("demoModelBanner")
        self.setStyleSheet("#demoModelBanner { background: #fff8e1; border-bottom: 1px solid #f0d98c; }")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel(DEMO_MODEL_NOTICE)
        self.label.setWordWrap(True)
        learn_more = QPushButton("Learn more…")
        learn_more.clicked.connect(on_learn_more)
        hide = QPushButton("Hide")
        hide.clicked.connect(self.sig_dismiss_requested)
        for button in (learn_more, hide):  # the keyboard belongs to the curation (Space skips a node)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row.addWidget(self.label, 1)
        row.addWidget(learn_more)
        row.addWidget(hide)


class MainWindow(QMainWindow):
    """Docks, menus and status bar around a ProjectContext. Everything is saved as it happens,
    so the title never carries a modified marker."""

    def __init__(self, context: ProjectContext, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.settings = settings
        self.setObjectName("MainWindow")
        self.resize(1400, 900)
        self.setDockNestingEnabled(True)
        self.actions_by_id = create_actions(self)
        context.actions.update(self.actions_by_id)
        self.addActions(list(self.actions_by_id.values()))  # shortcuts work even with menus hidden
        self.docks: dict[str, QDockWidget] = {}
        self._build_central()
        self._build_docks()
        self._build_menus()
        self._build_status_bar()
        self._wire_undo()
        self._wire_flow()
        self._wire_focus()
        context.sig_project_opened.connect(self.refresh_project_display)
        context.sig_project_closed.connect(self.refresh_project_display)
        context.sig_data_changed.connect(lambda _prompt_id: self.refresh_stats())
        self.update_demo_notice(settings)
        self.refresh_project_display()
        self._restore_layout()

    # --- building ------------------------------------------------------------------------------
    def _build_central(self) -> None:
        # The notice sits in a fixed tool bar so it spans the whole window, above every dock.
        self.demo_banner = DemoModelBanner(lambda: self.actions_by_id["help.demo_model"].trigger())
        self.demo_bar = QToolBar("Demo model notice", self)
        self.demo_bar.setObjectName("demoModelBar")
        self.demo_bar.setMovable(False)
        self.demo_bar.setFloatable(False)
        self.demo_bar.addWidget(self.demo_banner)
        self.demo_banner.sig_dismiss_requested.connect(self.demo_bar.hide)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.demo_bar)
        self.compare_panel = ComparePanel(self.context)
        self.tree_picture_panel = TreePicturePanel(self.context)
        self.reward_plot_panel = RewardDebugPanel(self.context)
        self.central_tabs = QTabWidget()
        self.central_tabs.setObjectName("centralTabs")
        self.central_tabs.setDocumentMode(True)
        self.central_tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.central_tabs.addTab(self.compare_panel, "Compare")
        self.central_tabs.addTab(self.tree_picture_panel, "Tree Picture")
        self.central_tabs.addTab(self.reward_plot_panel, "Reward Debugging")
        # Training runs in the worker; its controller advances a stage's jobs (backend.worker.training_stages).
        self.training = TrainingController(self.context, self)
        self.training_panel = TrainingPanel(self.context, self.training)
        self.before_after_panel = BeforeAfterPanel(self.context, self.training)
        self.central_tabs.addTab(self.training_panel, "Training")
        self.central_tabs.addTab(self.before_after_panel, "Before / After")
        self.training_panel.sig_evaluation_shown.connect(
            lambda _evaluation_id: self.central_tabs.setCurrentIndex(BEFORE_AFTER_TAB))
        self.central_tabs.currentChanged.connect(self._on_central_tab_changed)
        # The widest page must not push the window past the screen (the docks keep their room): a page
        # narrower than its layout wants is clipped at its right edge instead.
        self.central_tabs.setMinimumWidth(CENTRAL_MIN_WIDTH)
        self.setCentralWidget(self.central_tabs)

    def add_dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea,
                 tab_with: str | None = None) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")  # saveState() keys on object names
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        if tab_with is not None:  # tabify at once: tabifying docks laid side by side leaves stray tab bars
            self.tabifyDockWidget(self.docks[tab_with], dock)
        self.docks[name] = dock
        return dock

    def _build_docks(self) -> None:
        self.jobs_panel = JobsPanel(self.context)
        self.worker_log = WorkerLogPanel(self.context)
        self.panels: dict[str, QWidget] = {
            "prompts": PromptListPanel(self.context), "tree": TreePanel(self.context),
            "node_editor": NodeEditorPanel(self.context), "pairs": PairsPanel(self.context),
            "jobs": self.jobs_panel, "worker_log": self.worker_log, "rewards": self.reward_plot_panel,
            "tree_picture": self.tree_picture_panel}
        for name, title, area, tab_with in DOCK_LAYOUT:
            dock = self.add_dock(name, title, self.panels[name], area, tab_with)
            if hasattr(self.panels[name], "on_screen_changed"):  # a panel that reads only when seen
                dock.visibilityChanged.connect(self.panels[name].on_screen_changed)
        self.splitDockWidget(self.docks["prompts"], self.docks["tree"], Qt.Orientation.Vertical)
        # "N of M prompts · curated k of n trees" under the current filter
        self.panels["prompts"].sig_counts_changed.connect(lambda text: self.statusBar().showMessage(text))
        self.docks["jobs"].raise_()
        self.reward_plot_panel.sig_prompts_selected.connect(self.panels["prompts"].show_only)
        scope = self.actions_by_id["view.reward_scope"]
        scope.setCheckable(True)
        scope.toggled.connect(lambda only_prompt: self.reward_plot_panel.set_scope(
            PROMPT_SCOPE if only_prompt else PROJECT_SCOPE))
        self.reward_plot_panel.scope_combo.currentIndexChanged.connect(
            lambda _i: scope.setChecked(self.reward_plot_panel.scope == PROMPT_SCOPE))

    def _build_menus(self) -> None:
        menus = {name: self.menuBar().addMenu(f"&{name}") for name in MENU_ORDER}
        for spec in ACTIONS:
            menus[spec.menu].addAction(self.actions_by_id[spec.id])
            if spec.id == "file.open_project":
                self.recent_menu = QMenu("Open &Recent", self)
                menus["File"].addMenu(self.recent_menu)
            if spec.id in ("file.open_demo", "file.export", "edit.redo", "curate.cancel"):
                menus[spec.menu].addSeparator()
        view = menus["View"]
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        self.menus = menus

    def _build_status_bar(self) -> None:
        # Both labels share one laid-out container: two separate permanent widgets overlapped
        # when the project label's text grew after the first layout.
        self.project_label = QLabel()
        self.demo_status_label = QLabel("<a href='#'>Demo model (135M) — learn more</a>")
        self.demo_status_label.linkActivated.connect(lambda _: self.actions_by_id["help.demo_model"].trigger())
        permanent = QWidget()
        row = QHBoxLayout(permanent)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(16)
        row.addWidget(self.project_label)
        row.addWidget(self.demo_status_label)
        self.statusBar().addPermanentWidget(permanent)

    def _wire_undo(self) -> None:
        stack = self.context.undo_stack
        undo, redo = self.actions_by_id["edit.undo"], self.actions_by_id["edit.redo"]
        undo.triggered.connect(self.undo)
        redo.triggered.connect(stack.redo)
        stack.canUndoChanged.connect(undo.setEnabled)
        stack.canRedoChanged.connect(redo.setEnabled)
        # The Edit menu names what Undo and Redo will do ("Undo Accept criticism").
        stack.undoTextChanged.connect(self._name_undo)
        stack.redoTextChanged.connect(self._name_redo)
        undo.setEnabled(stack.canUndo())
        redo.setEnabled(stack.canRedo())

    def _name_undo(self, text: str) -> None:
        self.actions_by_id["edit.undo"].setText(f"&Undo {text}" if text else "&Undo")

    def _name_redo(self, text: str) -> None:
        self.actions_by_id["edit.redo"].setText(f"&Redo {text}" if text else "&Redo")

    def undo(self) -> None:
        """Undo the last command; undoing an edit that improvements were regenerated from asks first."""
        from avr_studio.commands.regenerated_undo import confirm_undo

        if confirm_undo(self, self.context):
            self.context.undo_stack.undo()

    def _wire_flow(self) -> None:
        """One key per decision: after a verdict the flow shows the next undecided node or prompt."""
        prompts, editor = self.panels["prompts"], self.panels["node_editor"]
        self.flow = CurationFlow(self.context, prompts.model, self)
        editor.sig_verdict_given.connect(self.flow.after_verdict)
        self.flow.sig_progress_changed.connect(prompts.show_progress)
        self.flow.sig_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.actions_by_id["curate.next_prompt"].triggered.connect(lambda: self.flow.next_prompt())
        self.actions_by_id["curate.previous_prompt"].triggered.connect(lambda: self.flow.previous_prompt())
        self.actions_by_id["curate.next_disagreement"].triggered.connect(self.reward_plot_panel.next_disagreement)

    def _wire_focus(self) -> None:
        """Ctrl+1/2/3 reach the panes; an edit hands the keyboard back to the tree; Tab goes list → tree."""
        tree_view = self.panels["tree"].view
        handlers = {
            "view.focus_prompts": lambda: self._focus(self.docks["prompts"], self.panels["prompts"].table),
            "view.focus_tree": self.focus_tree,
            "view.focus_compare": lambda: (self.central_tabs.setCurrentIndex(COMPARE_TAB),
                                           self.compare_panel.focus_texts()),
            "view.tree_picture": lambda: (self.central_tabs.setCurrentIndex(PICTURE_TAB),
                                          self.tree_picture_panel.focus_canvas()),
            "view.reward_debugging": lambda: self.central_tabs.setCurrentIndex(REWARDS_TAB),
            "view.training": lambda: self.central_tabs.setCurrentIndex(TRAINING_TAB),
            "view.before_after": lambda: self.central_tabs.setCurrentIndex(BEFORE_AFTER_TAB),
            "view.focus_jobs": self.focus_jobs,
        }
        for action_id, handler in handlers.items():
            self.actions_by_id[action_id].triggered.connect(lambda _checked=False, h=handler: h())
        self.panels["node_editor"].sig_edit_finished.connect(lambda _node_id: self.focus_tree())
        self.setTabOrder(self.panels["prompts"].table, tree_view)
        self.context.sig_project_opened.connect(lambda: QTimer.singleShot(0, self.focus_tree))
        QTimer.singleShot(0, self.focus_tree)  # at launch the keys go to the tree, never to a banner button
        self._on_central_tab_changed(self.central_tabs.currentIndex())

    def focus_jobs(self) -> None:
        """Ctrl+8: the keyboard on the newest job's Cancel or Resume (Space presses it)."""
        self.docks["jobs"].show()
        self.docks["jobs"].raise_()
        if not self.jobs_panel.focus_newest_job():
            self.statusBar().showMessage("No jobs yet: Ctrl+G grows trees.", 5000)

    def focus_tree(self) -> None:
        self._focus(self.docks["tree"], self.panels["tree"].view)

    def _focus(self, dock: QDockWidget, widget: QWidget) -> None:
        dock.show()
        dock.raise_()
        widget.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_central_tab_changed(self, index: int) -> None:
        self.panels["node_editor"].set_text_shown_elsewhere(index == COMPARE_TAB)
        for panel in (self.tree_picture_panel, self.reward_plot_panel):
            panel.on_screen_changed(self.central_tabs.currentWidget() is panel)

    # --- state shown ---------------------------------------------------------------------------
    def update_demo_notice(self, settings: AppSettings) -> None:
        self.settings = settings
        is_demo = settings.model.name in (EMBEDDED_MODEL, "embedded")
        self.demo_bar.setVisible(is_demo)
        self.demo_status_label.setVisible(is_demo)

    def refresh_project_display(self) -> None:
        name = self.context.project_name
        self.setWindowTitle(f"{name} — {APP_NAME}" if name else APP_NAME)
        for action_id in ("file.export", "jobs.grow_trees"):
            self.actions_by_id[action_id].setEnabled(self.context.has_project)
        self.refresh_stats()

    def refresh_stats(self) -> None:
        store = self.context.store
        if store is None:
            self.project_label.setText("No project open")
            return
        self.project_label.setText(f"{store.project_dir.name}: {store.count_prompts()} prompts")

    def set_recent_projects(self, paths: list[str], on_open) -> None:
        self.recent_menu.clear()
        for path in paths:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _checked=False, p=path: on_open(p))
        self.recent_menu.setEnabled(bool(paths))

    # --- layout and closing ----------------------------------------------------------------------
    def _restore_layout(self) -> None:
        state = qsettings().value("window/state")
        geometry = qsettings().value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and self.restoreState(state):
            return
        # Dock sizes only apply once the window has its size, so the first layout waits for show().
        QTimer.singleShot(0, self._apply_default_dock_sizes)

    def _apply_default_dock_sizes(self) -> None:
        # The side-by-side compare view (central) gets the most room; jobs need only a strip.
        width = self.width()
        # the node panel shrinks to its buttons (its text is read in the compare view)
        self.resizeDocks([self.docks["prompts"], self.docks["node_editor"]],
                         [int(width * 0.28), int(width * 0.22)], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["prompts"], self.docks["tree"]], [420, 330], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["jobs"]], [170], Qt.Orientation.Vertical)

    def running_job_ids(self) -> list[str]:
        worker = self.context.worker_client
        return sorted(worker.running_job_ids) if worker is not None and worker.is_running() else []

    def confirm_close_with_running_jobs(self) -> bool:
        running = self.running_job_ids()
        if not running:
            return True
        answer = QMessageBox.question(
            self, "A job is running",
            f"{len(running)} job(s) are still running. Close anyway?\n\n"
            "The jobs stop now; everything they produced so far is already saved.",
            QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Close

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_close_with_running_jobs():
            event.ignore()
            return
        settings = qsettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        if self.context.worker_client is not None:
            self.context.worker_client.stop()
        self.context.close_store()
        event.accept()

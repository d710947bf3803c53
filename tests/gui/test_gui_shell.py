"""The app shell: main window on a fresh project, menus and the `?` sheet, closing with a running job,
a locked project, `--project`, recent projects, and the first-run demo project."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox, QPushButton

from avr_studio import demo
from avr_studio.actions import ACTIONS
from avr_studio.app import build_shell, open_first_project, parse_args
from avr_studio.app_settings import AppSettings, recent_projects
from avr_studio.dialogs.shortcuts_dialog import ShortcutsDialog
from backend.domain import Prompt
from backend.store import Store
from tests.gui.screens import save_screenshot

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("own_data_dir")


@pytest.fixture
def shell(qtbot):
    built = build_shell(AppSettings())
    qtbot.addWidget(built.window)
    built.window.show()
    yield built
    built.worker.stop()


def make_project(folder: Path, prompts=("Name two uses of baking soda.", "What is 2 + 2?")) -> Path:
    store = Store.create(folder)
    store.add_prompts([Prompt.from_text(text, source="test") for text in prompts])
    store.close()
    return folder


def test_main_window_opens_a_fresh_project_with_its_docks(shell, qtbot, tmp_path):
    project = make_project(tmp_path / "fresh")

    assert shell.controller.open_project(project)

    window = shell.window
    assert window.windowTitle() == "fresh — AvR Studio"
    assert "*" not in window.windowTitle()
    for name in ("prompts", "tree", "node_editor", "pairs", "jobs", "worker_log"):
        assert name in window.docks
    # the views that need room are tabs of the central area, beside the compare view
    assert [window.central_tabs.tabText(i) for i in range(window.central_tabs.count())] == [
        "Compare", "Tree Picture", "Reward Debugging", "Training", "Before / After"]
    assert window.docks["jobs"].isVisible()
    assert window.project_label.text() == "fresh: 2 prompts"
    assert shell.context.store.count_prompts() == 2
    assert window.demo_bar.isVisible()  # the default generator is the bundled demo model
    assert str(project.resolve()) in recent_projects()
    # The default dock sizes apply once the window is laid out: the jobs strip does not eat the window.
    qtbot.waitUntil(lambda: window.docks["jobs"].height() < window.height() // 3)
    save_screenshot(window, "shell_main_window")


def test_every_action_is_in_a_menu_and_on_the_shortcut_sheet(shell, qtbot):
    menu_actions = {a.objectName() for menu in shell.window.menus.values() for a in menu.actions()}
    assert {spec.id for spec in ACTIONS} <= menu_actions

    dialog = ShortcutsDialog(shell.window)
    qtbot.addWidget(dialog)
    dialog.show()
    listed = dialog.listed_labels()
    assert len(listed) == len(ACTIONS)
    for spec in ACTIONS:
        assert any(label.endswith(spec.label.replace("&", "").rstrip("…")) for label in listed), spec.id
    shortcuts = {dialog.table.item(row, 0).text() for row in range(dialog.table.rowCount())}
    assert {"A", "X", "Space", "E", "R", "D", "?", "Esc", "Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+Return"} <= shortcuts
    save_screenshot(dialog, "shell_shortcuts_dialog")


def test_undo_actions_follow_the_undo_stack(shell, tmp_path):
    from PySide6.QtGui import QUndoCommand

    shell.controller.open_project(make_project(tmp_path / "p"))
    undo = shell.window.actions_by_id["edit.undo"]
    assert not undo.isEnabled()
    shell.context.undo_stack.push(QUndoCommand("nothing"))
    assert undo.isEnabled()
    undo.trigger()
    assert shell.window.actions_by_id["edit.redo"].isEnabled()


def test_closing_with_a_running_job_asks_first(shell, monkeypatch):
    asked = []

    def answer(choice):
        def question(*args, **kwargs):
            asked.append(args[1])
            return choice
        return question

    monkeypatch.setattr(shell.window, "running_job_ids", lambda: ["stage1-abc"])
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    assert not shell.window.close()
    assert shell.window.isVisible()
    assert asked == ["A job is running"]

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Close))
    assert shell.window.close()
    assert len(asked) == 2


def test_closing_without_jobs_does_not_ask(shell, tmp_path, monkeypatch):
    shell.controller.open_project(make_project(tmp_path / "p"))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("must not ask"))
    assert shell.window.close()
    assert shell.context.store is None  # the project's lock is released on close


LOCK_HOLDER = textwrap.dedent("""
    import sys, time
    from backend.store import Store
    store = Store.open(sys.argv[1])
    print("locked", flush=True)
    sys.stdin.readline()
""")


def test_a_locked_project_shows_its_message_not_a_traceback(shell, tmp_path, monkeypatch):
    project = make_project(tmp_path / "locked")
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(project)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        warnings = []
        monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append((title, text)))

        assert not shell.controller.open_project(project)

        assert len(warnings) == 1
        title, text = warnings[0]
        assert title == "Cannot open project"
        assert "Traceback" not in text and str(holder.pid) in text
        assert shell.context.store is None
        assert shell.window.windowTitle() == "AvR Studio"
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_project_flag_opens_that_project(shell, tmp_path):
    project = make_project(tmp_path / "flagged")
    args = parse_args(["--project", str(project)])

    assert open_first_project(shell, args.project)

    assert shell.context.store.project_dir == project.resolve()
    assert shell.window.windowTitle().startswith("flagged")


def test_open_recent_menu_lists_and_reopens_projects(shell, tmp_path):
    first, second = make_project(tmp_path / "first"), make_project(tmp_path / "second")
    shell.controller.open_project(first)
    shell.controller.open_project(second)

    entries = [action.text() for action in shell.window.recent_menu.actions()]
    assert entries == [str(second.resolve()), str(first.resolve())]
    shell.window.recent_menu.actions()[1].trigger()
    assert shell.context.project_name == "first"


def test_first_run_creates_the_demo_project_from_the_prompt_file(shell, tmp_path, monkeypatch):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(f'{{"prompt": "Demo question {i}?"}}\n' for i in range(12)), encoding="utf-8")
    monkeypatch.setattr(demo, "default_prompts_file", lambda: prompts)
    monkeypatch.setattr(demo, "default_trees_file", lambda: tmp_path / "no-trees.jsonl")
    submitted = []
    monkeypatch.setattr(shell.jobs_service, "submit_stage1", lambda ids: submitted.append(ids) or "job-1")

    with_signal = []
    shell.controller.sig_demo_job_started.connect(with_signal.append)
    assert open_first_project(shell, None)  # no --project, no recent project: the demo

    store = shell.context.store
    assert store.project_dir == demo.demo_project_dir().resolve()
    assert store.count_prompts() == 12
    assert shell.window.windowTitle() == "demo-project — AvR Studio"
    # Too few trees: a background Stage I job for a few prompts is started.
    assert len(submitted) == 1 and len(submitted[0]) == demo.DEMO_JOB_PROMPTS
    assert with_signal == ["job-1"]
    save_screenshot(shell.window, "shell_demo_project")

    # The second start reopens the same project without importing again.
    shell.context.close_store()
    setup = demo.open_or_create_demo_project()
    assert not setup.created and setup.store.count_prompts() == 12
    setup.store.close()


def test_demo_model_learn_more_explains_how_to_use_a_bigger_model(shell, monkeypatch):
    shown = []
    monkeypatch.setattr("avr_studio.project_controller.show_demo_model_dialog",
                        lambda parent: shown.append(parent) or False)
    learn_more = next(b for b in shell.window.demo_banner.findChildren(QPushButton) if b.text() == "Learn more…")
    learn_more.click()
    assert shown == [shell.window]

    from avr_studio.dialogs.demo_model_dialog import DEMO_MODEL_DETAILS

    assert "vllm serve" in DEMO_MODEL_DETAILS and "Settings" in DEMO_MODEL_DETAILS


def test_pregenerated_demo_trees_are_imported_and_no_job_starts(shell, tmp_path, monkeypatch):
    import json

    from backend import protocol
    from backend.domain import Node, Score

    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "What is the capital of Canada?"}\n', encoding="utf-8")
    prompt_id = Prompt.from_text("What is the capital of Canada?").id
    response = Node("n-y", prompt_id, "response", "Ottawa.")
    criticism = Node("n-c", prompt_id, "criticism", "Correct but terse.", parent_id="n-y")
    improvement = Node("n-i", prompt_id, "improvement", "Ottawa is Canada's capital.", parent_id="n-c")
    records = [protocol.node_record(n) for n in (response, criticism, improvement)]
    records += [protocol.score_record(Score("n-y", "imported", 0.1)), protocol.score_record(Score("n-i", "imported", 0.4))]
    trees = tmp_path / "trees.jsonl"
    trees.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    monkeypatch.setattr(demo, "default_prompts_file", lambda: prompts)
    monkeypatch.setattr(demo, "default_trees_file", lambda: trees)
    monkeypatch.setattr(demo, "MIN_DEMO_TREES", 1)
    monkeypatch.setattr(shell.jobs_service, "submit_stage1", lambda ids: pytest.fail("enough trees: no job"))

    assert shell.controller.open_demo_project()

    store = shell.context.store
    assert sorted(n.kind for n in store.nodes_for_prompt(prompt_id)) == ["criticism", "improvement", "response"]
    assert store.scores_for_prompt(prompt_id, "imported") == {"n-y": 0.1, "n-i": 0.4}
    assert demo.prompts_to_grow(store, min_trees=1) == []


def test_the_console_entry_opens_the_app_for_project_flag(monkeypatch):
    import avr_studio.app
    from avr_studio.entry import main

    calls = []
    monkeypatch.setattr(avr_studio.app, "run_app", lambda argv=None: calls.append(argv) or 0)
    assert main(["--project", "/tmp/some-project"]) == 0
    assert main([]) == 0
    assert calls == [["--project", "/tmp/some-project"], []]


def test_new_project_dialog_creates_a_project_and_imports_its_prompts(shell, qtbot, tmp_path, monkeypatch):
    from avr_studio.dialogs.new_project_dialog import NewProjectDialog

    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "Say hi."}\n{"prompt": "Say bye."}\n', encoding="utf-8")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file.txt").write_text("x")

    def fill_and_accept(dialog):
        save_screenshot(dialog, "shell_new_project_dialog")
        dialog.location_edit.setText(str(tmp_path))
        dialog.name_edit.setText("taken")
        dialog.accept()
        assert "already exists and is not empty" in dialog.error_label.text()
        dialog.name_edit.setText("made")
        dialog.prompts_edit.setText(str(prompts))
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(NewProjectDialog, "exec", fill_and_accept)
    shell.window.actions_by_id["file.new_project"].trigger()

    assert shell.context.project_name == "made"
    assert shell.context.store.count_prompts() == 2
    assert Store.is_project(tmp_path / "made")


def test_view_menu_switches_the_reward_plot_to_the_current_prompt(shell):
    action = shell.window.actions_by_id["view.reward_scope"]
    action.trigger()
    assert shell.window.reward_plot_panel.scope == "prompt"
    shell.window.reward_plot_panel.set_scope("project")
    assert not action.isChecked()

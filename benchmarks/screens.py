"""Screenshots of every panel on the demo project, for people to look at (an issue's closing note, a
review after a layout change): the window is driven by keys as a person drives it, offscreen.

Run: .venv/bin/python benchmarks/screens.py [OUT_DIR]   (default /work/screens; a fresh data dir, so
the demo project is made anew and nothing of yours is touched). Not a test: it asserts nothing beyond
"the window got there"; the pictures are for eyes.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WAIT_LIMIT_S = 30.0
# A person curating the first prompts: accept, reject, accept, skip, ... (the flow moves on by itself)
VERDICT_KEYS = ("A", "X", "A", "Space", "A", "X", "A", "A", "X", "A", "X", "A", "A", "A")


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/screens")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="avr-screens-data-") as data:
        os.environ["AVR_STUDIO_DATA_DIR"] = data
        shoot(out)
    return 0


def shoot(out: Path) -> None:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from avr_studio.app import build_shell
    from avr_studio.app_settings import AppSettings
    from avr_studio.dialogs.export_dialog import ExportDialog
    from avr_studio.job_labels import GENERATION_SPEED_SETTING
    from avr_studio.main_window import PICTURE_TAB, REWARDS_TAB, TRAINING_TAB
    from backend import protocol

    app = QApplication.instance() or QApplication(["avr-studio-screens"])

    def wait_until(condition, what: str) -> None:
        deadline = time.perf_counter() + WAIT_LIMIT_S
        while not condition():
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the window never got there: {what}")
            app.processEvents()
            time.sleep(0.005)

    def settle(ms: int = 300) -> None:
        end = time.perf_counter() + ms / 1000
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.005)

    def save(widget, name: str) -> None:
        settle()
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        print(f"{path}  {widget.width()}x{widget.height()}")

    def key(name: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        target = QApplication.focusWidget() or window
        QTest.keyClick(target, getattr(Qt.Key, f"Key_{name}"), modifier)
        app.processEvents()

    settings = AppSettings()
    shell = build_shell(settings)
    window, context = shell.window, shell.context
    window.resize(1400, 900)
    window.show()
    window.activateWindow()
    assert shell.controller.open_demo_project(start_jobs=False)
    store = context.store
    wait_until(lambda: context.current_node_id is not None, "the first undecided node")
    window.focus_tree()
    for name in VERDICT_KEYS:
        key(name)
    settle()

    # 1. The whole window on a prompt with the compare view: an improvement beside its answer, the
    #    criticism it acts on between them.
    prompt_id = context.current_prompt.prompt_id
    improvement = next((n for n in store.nodes_for_prompt(prompt_id) if n.kind == "improvement"), None)
    if improvement is not None:
        context.select_node(improvement.id)
    save(window, "01_window_compare")

    # 2. The tree picture, two side by side (another scorer when there is one, else another tree).
    window.central_tabs.setCurrentIndex(PICTURE_TAB)
    picture = window.tree_picture_panel
    wait_until(lambda: picture.left_canvas.places, "the tree picture")
    others = [picture.beside_combo.itemData(i) for i in range(1, picture.beside_combo.count())]
    if others:
        picture.show_beside(next((c for c in others if c[0] == "scorer"), others[0]))
    save(window, "02_window_tree_picture")
    save(picture, "02b_tree_picture_side_by_side")

    # 3. The reward debugging tab, the project's figures.
    window.central_tabs.setCurrentIndex(REWARDS_TAB)
    rewards = window.reward_plot_panel
    wait_until(lambda: rewards.data is not None, "the reward-debugging figures")
    save(rewards, "03_reward_debugging")
    save(window, "03b_window_reward_debugging")

    # 4. The jobs panel with a running Grow Trees job, and the Grow Trees dialog's estimate from a
    #    measured speed (the worker is left out: the job is submitted, its progress is played back).
    store.set_setting(GENERATION_SPEED_SETTING, {"model": settings.model.name, "tokens_per_s": 14.0,
                                                 "tokens_per_node": 160.0})
    shell.worker.submit_job = lambda message: 1
    submitted: list[str] = []
    shell.jobs_service.sig_job_submitted.connect(lambda job_id, _kind: submitted.append(job_id))

    def answer_grow_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or not dialog.isVisible():
            QTimer.singleShot(20, answer_grow_dialog)
            return
        settle(200)
        save(dialog, "04a_grow_trees_dialog")
        dialog.accept()

    QTimer.singleShot(20, answer_grow_dialog)
    shell.controller.grow_trees()
    if submitted:
        job_id = submitted[0]
        shell.worker.sig_job_started.emit(protocol.JobStarted(job_id, "stage1"))
        shell.worker.sig_progress.emit(protocol.Progress(job_id, 5, 14, tokens_per_s=13.2))
        for line in ("info: loading the generator", "Loading weights: 100%|██████████| 272/272 [00:03<00:00]",
                     "info: generating 2 answers"):
            shell.worker.sig_log.emit(line)
            shell.worker.sig_output_line.emit(line)
    window.docks["jobs"].raise_()
    save(window.docks["jobs"], "04b_jobs_panel")

    # 5. The export dialog, limited to the pairs a person decided.
    dialog = ExportDialog(store, window)
    dialog.show()
    person = next((i for i in range(dialog.decider_combo.count()) if dialog.decider_combo.itemData(i) == "human"), 1)
    dialog.decider_combo.setCurrentIndex(person)
    save(dialog, "05_export_by_decider")
    dialog.reject()

    # 6. The training panel.
    window.central_tabs.setCurrentIndex(TRAINING_TAB)
    save(window.training_panel, "06_training_panel")
    save(window, "06b_window_training")

    shell.worker.stop()
    context.close_store()


if __name__ == "__main__":
    sys.exit(main())

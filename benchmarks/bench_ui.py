"""The window on a big project (100,000 prompts / 700,000 nodes): time to first paint after opening,
time to switch prompt, time to apply a filter, resident memory.

Run: .venv/bin/python benchmarks/bench_ui.py [N_PROMPTS]
Goals: first paint < 1 s, switch < 50 ms, filter < 200 ms, memory < 600 MB.

The project is made once (about 45 s for 100k) and kept under the temp dir, keyed by its size; the
window then runs in a fresh process (offscreen Qt) so imports and memory are those of a real start.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

GOALS = {  # figure -> (goal, unit)
    "first paint after opening": (1000.0, "ms"),
    "switch prompt (median)": (50.0, "ms"),
    "switch prompt (max)": (50.0, "ms"),
    "apply text filter": (200.0, "ms"),
    "apply state filter": (200.0, "ms"),
    "clear filter": (200.0, "ms"),
    "resident memory": (600.0, "MB"),
}
SWITCHES = 12
WAIT_LIMIT_S = 30.0


def cached_project(n_prompts: int) -> Path:
    """The synthetic project of this size, made on first use; built aside and renamed when complete."""
    from synthetic_project import fill

    from backend.store import Store

    folder = Path(tempfile.gettempdir()) / f"avr-bench-ui-{n_prompts}"
    project = folder / "project"
    if Store.is_project(project):
        Store.open(project).close()  # a schema migration the project still needs is not part of opening
        return project
    folder.mkdir(parents=True, exist_ok=True)
    building = folder / "building"
    shutil.rmtree(building, ignore_errors=True)
    started = time.perf_counter()
    with Store.create(building) as store:
        fill(store, n_prompts)
        store.checkpoint()  # as a saved project is when the app opens it
    building.rename(project)
    print(f"made {n_prompts:,} prompts / {7 * n_prompts:,} nodes in {time.perf_counter() - started:.0f} s "
          f"(kept in {project})")
    return project


# --- the measuring process --------------------------------------------------------------------------
def measure(project: Path) -> dict[str, float]:
    """Open `project` in the real window as the app does and time what a person waits for."""
    started = time.perf_counter()
    import psutil
    from PySide6.QtCore import QEvent, QItemSelectionModel, QObject
    from PySide6.QtWidgets import QApplication

    from avr_studio.app import build_shell
    from backend.store.connection import Database

    queries = {"count": 0}  # SQL statements the store runs (each switch should need three: one tree load)

    def counting(original):
        def counted(self, sql, params=()):
            queries["count"] += 1
            return original(self, sql, params)
        return counted

    for method in ("execute", "rows", "row"):
        setattr(Database, method, counting(getattr(Database, method)))

    app = QApplication.instance() or QApplication(["avr-studio-bench"])
    imported = time.perf_counter()

    class PaintWatch(QObject):
        """Counts paint events of one widget (a view's viewport)."""

        def __init__(self, widget) -> None:
            super().__init__()
            self.paints = 0
            widget.installEventFilter(self)

        def eventFilter(self, _watched, event) -> bool:  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint:
                self.paints += 1
            return False

    def wait_until(condition) -> None:
        deadline = time.perf_counter() + WAIT_LIMIT_S
        while not condition():
            if time.perf_counter() > deadline:
                raise TimeoutError("the window never got there")
            app.processEvents()

    shell = build_shell()
    window = shell.window
    window.show()
    app.processEvents()
    shown = time.perf_counter()
    prompt_panel = window.panels["prompts"]
    table, prompt_model = prompt_panel.table, prompt_panel.model
    tree_panel = window.panels["tree"]
    table_paints, tree_paints = PaintWatch(table.viewport()), PaintWatch(tree_panel.view.viewport())

    # First paint: from asking for the project to the prompt list painted with its rows.
    opening = time.perf_counter()
    assert shell.controller.open_project(project)
    painted_before = table_paints.paints
    wait_until(lambda: prompt_model.rowCount() > 0 and table_paints.paints > painted_before)
    figures = {"first paint after opening": (time.perf_counter() - opening) * 1000}
    figures["launch to first paint (imports, window, opening)"] = (time.perf_counter() - started) * 1000
    figures["imports + QApplication"] = (imported - started) * 1000
    figures["window built and shown"] = (shown - imported) * 1000

    # Switch prompt: select another row; done when the tree shows its nodes and has been painted.
    def select_row(row: int) -> float:
        prompt_id = prompt_model.prompt_id(row)
        painted = tree_paints.paints
        switched = time.perf_counter()
        table.selectionModel().setCurrentIndex(
            prompt_model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        wait_until(lambda: tree_panel.model.trees.prompt_id == prompt_id and tree_panel.model.rowCount() > 0
                   and tree_paints.paints > painted)
        return (time.perf_counter() - switched) * 1000

    select_row(0)  # the first selection also builds the panels' first contents: not a switch
    counted_before, loads_before = queries["count"], shell.context.current_prompt.loads
    switches = [select_row(row) for row in range(1, SWITCHES + 1)]
    figures["switch prompt (median)"] = statistics.median(switches)
    figures["switch prompt (max)"] = max(switches)
    figures["queries per switch"] = (queries["count"] - counted_before) / SWITCHES
    figures["tree loads per switch"] = (shell.context.current_prompt.loads - loads_before) / SWITCHES

    # Filters: from the filter taking effect (the search field waits for a pause in typing first)
    # to the list painted with the matching rows.
    def filtered(change) -> float:
        painted = table_paints.paints
        applied = time.perf_counter()
        change()
        wait_until(lambda: table_paints.paints > painted)
        return (time.perf_counter() - applied) * 1000

    def set_search(text: str) -> None:
        prompt_panel.search_edit.setText(text)
        prompt_panel.apply_filter()  # what the debounce timer does when typing pauses

    figures["apply text filter"] = filtered(lambda: set_search("baking"))
    matching_text = prompt_model.matching_count
    figures["apply state filter"] = filtered(lambda: prompt_panel.state_combo.setCurrentIndex(
        prompt_panel.state_combo.findData("generated")))
    figures["clear filter"] = filtered(lambda: (prompt_panel.state_combo.setCurrentIndex(0), set_search("")))
    app.processEvents()
    figures["resident memory"] = psutil.Process().memory_info().rss / 2**20
    figures["rows matching 'baking'"] = matching_text
    figures["prompts"] = prompt_model.total_count
    shell.worker.stop()
    window.close()
    return figures


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        print(json.dumps(measure(Path(sys.argv[2]))))
        return 0
    n_prompts = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    project = cached_project(n_prompts)
    with tempfile.TemporaryDirectory(prefix="avr-bench-ui-data-") as data:
        env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "AVR_STUDIO_DATA_DIR": data}
        done = subprocess.run([sys.executable, __file__, "--measure", str(project)], env=env,
                              capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        return done.returncode
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    missed = 0
    for name, value in figures.items():
        if name in GOALS:
            goal, unit = GOALS[name]
            met = value < goal
            missed += not met
            print(f"{name:<50}{value:9.1f} {unit}  (goal {goal:g} {unit}{'' if met else ', MISSED'})")
        else:
            print(f"{name:<50}{value:9.1f}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

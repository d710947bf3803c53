"""The window on a big project (100,000 prompts / 700,000 nodes): time to first paint after opening,
time to switch prompt, time to apply a filter, a verdict by key, resident memory; and the reward-
debugging aggregates on the same project with a second scorer and a tenth of the prompts judged.

Run: .venv/bin/python benchmarks/bench_ui.py [N_PROMPTS] [--part=window|aggregates|all]
Goals: first paint < 1 s, switch < 50 ms, filter < 200 ms, memory < 600 MB, each aggregate < 300 ms.

The project is made once (about 45 s for 100k) and kept under the temp dir, keyed by its size; the
window then runs in a fresh process (offscreen Qt) so imports and memory are those of a real start.
"""

from __future__ import annotations

import json
import os
import random
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
AGGREGATE_GOAL_MS = 300.0  # each reward-debugging query
SWITCHES = 12
VERDICTS = 6
REPEATS = 7  # each aggregate is timed this often (after one warm-up run); median and max are reported
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


def judged_project(n_prompts: int) -> Path:
    """A copy of the cached project with a second scorer ("bench:other", correlated with the first) on
    every answer and a verdict on every criticism and improvement of one prompt in ten: what the
    disagreement queue and the scorer-against-scorer plot need. Made once, beside the plain one."""
    from synthetic_project import SCORER

    from backend.domain import Annotation, Score
    from backend.store import Store

    folder = Path(tempfile.gettempdir()) / f"avr-bench-ui-{n_prompts}-judged"
    project = folder / "project"
    if Store.is_project(project):
        Store.open(project).close()
        return project
    plain = cached_project(n_prompts)
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    building = folder / "building"
    shutil.rmtree(building, ignore_errors=True)
    shutil.copytree(plain, building)
    with Store.open(building) as store:
        rng = random.Random(1)
        others, verdicts = [], []
        for _prompt, nodes, scores, _states in store.tree_inputs(scorer=SCORER, tree_fields_only=True):
            judged = rng.random() < 0.1
            for node in nodes:
                if node.id in scores:
                    others.append(Score(node.id, "bench:other", 0.6 * scores[node.id] + rng.gauss(0, 0.8)))
                if judged and node.kind in ("criticism", "improvement"):
                    verdicts.append(Annotation(node.id, rng.choice(("accept", "reject")), author="bench"))
        store.add_scores(others)
        store.add_annotations(verdicts)
        store.checkpoint()
    building.rename(project)
    print(f"judged {len(verdicts):,} nodes and added {len(others):,} scores in {time.perf_counter() - started:.0f} s "
          f"(kept in {project})")
    return project


# Before the answer_rewards cache (migration m006), the same figures took joins of nodes and scores:
# kept here to measure what the cache changed, on the same project and machine.
JOINED_BEFORE = {
    "gains": """SELECT count(*), corr(si.value - sa.value, si.value) FROM nodes i JOIN nodes c ON c.id = i.parent_id
        JOIN scores si ON si.node_id = i.id AND si.scorer = $scorer
        JOIN scores sa ON sa.node_id = c.parent_id AND sa.scorer = $scorer WHERE i.kind = 'improvement'""",
    "before_after": """SELECT count(*), corr(x, y) FROM (SELECT any_value(sa.value) AS x, max(si.value) AS y FROM nodes i
        JOIN nodes c ON c.id = i.parent_id JOIN nodes a ON a.id = c.parent_id
        JOIN scores si ON si.node_id = i.id AND si.scorer = $scorer
        JOIN scores sa ON sa.node_id = a.id AND sa.scorer = $scorer WHERE i.kind = 'improvement' GROUP BY a.id)""",
    "length": """SELECT s.scorer, corr(length(n.text), s.value) FROM scores s JOIN nodes n ON n.id = s.node_id
        WHERE n.kind IN ('response', 'improvement') GROUP BY s.scorer""",
    "scorers": """SELECT count(*), corr(a.value, b.value) FROM scores a JOIN scores b ON b.node_id = a.node_id
        AND b.scorer = 'bench:other' JOIN nodes n ON n.id = a.node_id WHERE a.scorer = $scorer
        AND n.kind IN ('response', 'improvement')""",
}


def measure_aggregates(project: Path) -> dict[str, float]:
    """Median and max milliseconds of each reward-debugging read over REPEATS runs (a first, unmeasured run
    warms DuckDB's buffers as the tab's first load does), and of the joins the cache replaced."""
    from synthetic_project import SCORER

    from avr_studio.panels.reward_debug_panel import load_debug_data
    from backend.store import Store

    figures: dict[str, float] = {}

    def timed(name: str, call) -> None:
        call()
        timings = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            call()
            timings.append((time.perf_counter() - started) * 1000)
        figures[f"{name} (median)"] = statistics.median(timings)
        figures[f"{name} (max)"] = max(timings)

    with Store.open(project) as store:
        timed("aggregate: Δ histogram", lambda: store.gain_histogram(SCORER))
        for name, label in (("gains", "Δ points + r"), ("before_after", "before / after"),
                            ("length", "length points + r"), ("self_rating", "self-rating points + r"),
                            ("scorers", "scorer vs scorer"), ("rounds", "rounds points + r")):
            timed(f"aggregate: {label}", lambda name=name: store.plot_points(name, SCORER, other="bench:other"))
        timed("aggregate: length r per scorer", store.length_correlations)
        timed("aggregate: self-rating means", lambda: store.self_rating_means(SCORER))
        timed("aggregate: reward by round", lambda: store.rewards_by_round(SCORER))
        timed("aggregate: disagreement queue", lambda: store.disagreements(SCORER))
        timed("aggregate: prompts in a region (before / after)",
              lambda: store.prompts_in_region("before_after", SCORER, (0.0, 1.0), (1.0, 2.0)))
        timed("aggregate: prompts in a region (scorer vs scorer)",
              lambda: store.prompts_in_region("scorers", SCORER, (0.0, 1.0), (0.0, 1.0), other="bench:other"))
        timed("aggregate: curated k of n", store.curation_progress)
        timed("whole reward-debugging tab (all reads)", lambda: load_debug_data(store, SCORER, "bench:other", None))
        for name, sql in JOINED_BEFORE.items():
            timed(f"before the cache: {name} by joins",
                  lambda sql=sql: store._db.rows(sql, {"scorer": SCORER} if "$scorer" in sql else {}))
        figures["queue length"] = len(store.disagreements(SCORER))
        figures["points in the before / after plot"] = store.plot_points("before_after", SCORER).total
    return figures


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

    # A verdict by key: from the key to the next undecided node selected and the tree painted again
    # (the annotation, the prompt's pairs rebuilt, its stats and the trees reloaded, the flow moving on).
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    tree_panel.view.setFocus()
    verdicts = []
    for _ in range(VERDICTS):
        before, painted = shell.context.current_node_id, tree_paints.paints
        started = time.perf_counter()
        QTest.keyClick(tree_panel.view, Qt.Key.Key_A)
        wait_until(lambda before=before, painted=painted: shell.context.current_node_id != before
                   and tree_paints.paints > painted)
        verdicts.append((time.perf_counter() - started) * 1000)
    figures["verdict by key, next node shown (median)"] = statistics.median(verdicts)
    figures["verdict by key, next node shown (max)"] = max(verdicts)

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


def _measured(mode: str, project: Path) -> dict[str, float] | None:
    """Run one measuring mode in a fresh process (offscreen Qt, a data dir of its own)."""
    with tempfile.TemporaryDirectory(prefix="avr-bench-ui-data-") as data:
        env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "AVR_STUDIO_DATA_DIR": data}
        done = subprocess.run([sys.executable, __file__, mode, str(project)], env=env,
                              capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _print(figures: dict[str, float]) -> int:
    missed = 0
    for name, value in figures.items():
        goal_unit = GOALS.get(name) or ((AGGREGATE_GOAL_MS, "ms") if name.startswith("aggregate:") else None)
        if goal_unit:
            goal, unit = goal_unit
            met = value < goal
            missed += not met
            print(f"{name:<58}{value:9.1f} {unit}  (goal {goal:g} {unit}{'' if met else ', MISSED'})")
        else:
            print(f"{name:<58}{value:9.1f}")
    return missed


def main() -> int:
    modes = {"--measure": measure, "--aggregates": measure_aggregates}
    if len(sys.argv) > 2 and sys.argv[1] in modes:
        print(json.dumps(modes[sys.argv[1]](Path(sys.argv[2]))))
        return 0
    args = [a for a in sys.argv[1:] if not a.startswith("--part")]
    part = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--part=")), "all")
    n_prompts = int(args[0]) if args else 100_000
    with open("/proc/loadavg", encoding="ascii") as handle:  # the machine is shared: say how busy it was
        print(f"load average at start: {handle.read().split()[0]}")
    missed = 0
    if part in ("window", "all"):
        figures = _measured("--measure", cached_project(n_prompts))
        if figures is None:
            return 1
        missed += _print(figures)
    if part in ("aggregates", "all"):
        figures = _measured("--aggregates", judged_project(n_prompts))
        if figures is None:
            return 1
        missed += _print(figures)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

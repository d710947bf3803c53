"""Fault injection: kill -9 at random moments of generate, score, chain, import, export, curation and
training, then resume and check that nothing was lost, duplicated or half-written; and a fuzz run of
generated records per importer (tests/support/fuzz_records.py, hypothesis).

Each kill trial copies a prepared project, starts the command as the CLI runs it (its worker is a
child that dies with it), kills the command with SIGKILL after a random delay within the time a whole
run took, runs the command again (generate alternates with `avr-studio resume`) and audits the project:
  lost        a journalled node or score, an acknowledged verdict, an imported record, an exported row,
              a tree slot that is still empty after a resume that said it finished
  duplicated  a second Stage I root, more criticisms or improvements than the tree's slots, a verdict
              stored twice, a row exported twice, a training run trained twice
  malformed   a job left "running", a skipped journal line, a node without its parent, a temp or
              staging file left behind, an export that does not parse, pairs that differ from a rebuild
  tracebacks  "Traceback" in what a command printed, or an exception that is not a one-line UserError
It prints one line per kind with those columns (and the seconds it took). Run it in the background on a quiet machine:

    nice .venv/bin/python benchmarks/faults.py --trials 100 --fuzz-records 10000 [--kinds generate,import]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.domain import prompt_id_for  # noqa: E402
from tests.support.fuzz_records import FORMATS, Tally, fuzz_file, import_and_check  # noqa: E402

KINDS = ("generate", "score", "chain", "import", "export", "curation", "train")
WEIGHTS = {"generate": 25, "score": 10, "chain": 12, "import": 15, "export": 15, "curation": 15, "train": 8}
TREE = {"criticisms": 2, "improvements": 2}
N_PROMPTS = 4
IMPORT_ROWS = 40_000


class Lab:
    """The prepared material of a run: tiny models, template projects, data files, the problem log."""

    def __init__(self, folder: Path, seed: int) -> None:
        from tests.support.tiny_models import write_tiny_chat_model, write_tiny_reward_model

        self.folder = folder
        self.rng = random.Random(seed)
        self.chat = write_tiny_chat_model(folder / "models" / "chat")
        self.reward = write_tiny_reward_model(folder / "models" / "reward")
        self.log = (folder / "problems.log").open("a", encoding="utf-8")
        self.templates: dict[str, Path] = {}
        self.durations: dict[str, float] = {}

    def problem(self, kind: str, text: str) -> None:
        self.log.write(f"[{kind}] {text}\n")
        self.log.flush()

    def model_flags(self) -> list[str]:
        return ["--model", str(self.chat), "--scorer", f"classifier:{self.reward}", "--max-new-tokens", "8",
                "--dtype", "float32", "--device", "cpu", "--seed", "0", "--rating-mode", "constrained"]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "backend.cli.commands", *args]


def run(command: list[str], timeout_s: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)


def run_killed(command: list[str], delay_s: float) -> tuple[str, float]:
    """Start `command`, SIGKILL it after `delay_s` (unless it ended first); its stderr and when it died."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, text=True)
        try:
            process.wait(delay_s)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(60)
        err.seek(0)
        return err.read(), time.monotonic() - started


def count_tracebacks(kind: str, lab: Lab, *outputs: str) -> int:
    found = sum("Traceback (most recent call last)" in text for text in outputs)
    for text in outputs:
        if "Traceback (most recent call last)" in text:
            lab.problem(kind, f"traceback:\n{text[-3000:]}")
    return found


# -- templates -------------------------------------------------------------------------------------
def template(lab: Lab, name: str) -> Path:
    """A prepared project, built once and copied for each trial."""
    if name not in lab.templates:
        path = lab.folder / "templates" / name
        builders = {"prompts": _prompts_project, "trees": _trees_project, "big": _big_project}
        builders[name](lab, path)
        lab.templates[name] = path
    return lab.templates[name]


def _prompts_project(lab: Lab, path: Path) -> None:
    check(run(cli("init", str(path), "--empty")))
    prompts = path.parent / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"Question {i}: name two uses of baking soda."}) + "\n"
                               for i in range(N_PROMPTS)), encoding="utf-8")
    check(run(cli("import", str(path), str(prompts))))


def _trees_project(lab: Lab, path: Path) -> None:
    shutil.copytree(template(lab, "prompts"), path)
    check(run(cli("generate", str(path), "--prompts", str(N_PROMPTS), *lab.model_flags())))


def _big_project(lab: Lab, path: Path, trees_count: int = 3000) -> None:
    """Thousands of imported Stage I trees: an export writes megabytes, so a kill can land mid-write."""
    check(run(cli("init", str(path), "--empty")))
    trees = path.parent / "trees.jsonl"
    words = random.Random(1).choices(["bread", "bag", "freeze", "slices", "linen", "box", "cool", "dry", "wrap",
                                      "crust", "stale", "toast", "paper", "shelf", "mould", "oven"], k=200_000)

    def prose(seed: int, length: int) -> str:  # varied words: a repeated phrase is degenerate, no pairs
        start = seed * 7919 % (len(words) - length)
        return " ".join(words[start:start + length])

    with trees.open("w", encoding="utf-8") as handle:
        for i in range(trees_count):
            messages = [{"role": "user", "content": f"Question {i}: how do I keep bread fresh?"},
                        {"role": "assistant", "content": f"Keep it in a bag. ({i}) {prose(i, 40)}"}]
            refinements = [{"judgement": f"Criticism {j} of answer {i}: {prose(i + j, 12)}. Rating: [[{3 + j}]]",
                            "refined_response": f"Improved answer {i}.{j}: {prose(3 * i + j, 45)}",
                            "score": (i * 7 + j * 13) % 17 / 10} for j in range(4)]
            handle.write(json.dumps({"messages": messages, "source_score": 0.05, "refinements": refinements}) + "\n")
    check(run(cli("import", str(path), str(trees))))


def check(result: subprocess.CompletedProcess) -> None:
    if result.returncode != 0:
        raise RuntimeError(f"preparing the fault suite failed: {' '.join(result.args)}\n{result.stderr[-2000:]}")


def trial_project(lab: Lab, name: str, number: int) -> Path:
    path = lab.folder / "trials" / f"{name}-{number}"
    shutil.copytree(template(lab, name), path)
    return path


def _timed(command: list[str]) -> float:
    started = time.monotonic()
    run(command)
    return time.monotonic() - started


# -- audits ----------------------------------------------------------------------------------------
def audit_jobs(store, kind: str, lab: Lab, tally: Tally, trees: dict | None = None) -> None:
    """Journals against the database, trees against their slots, statuses, notes, orphans."""
    from backend.worker.journal import read_records

    stored_conflicts = {c.node_id for c in store.slot_conflicts()}
    nodes_by_prompt = {pid: store.nodes_for_prompt(pid) for pid in store.prompt_ids()}
    node_ids = {n.id for nodes in nodes_by_prompt.values() for n in nodes}
    for job_dir in sorted(p for p in Path(store.jobs_dir).iterdir() if p.is_dir()):
        bad = []
        for _, record in read_records(job_dir, on_bad=bad.append):
            if record.get("type") == "node" and record["id"] not in node_ids | stored_conflicts:
                tally.lost += 1
                lab.problem(kind, f"{job_dir.name}: journalled node {record['id']} is not in the project")
            elif record.get("type") == "score" and record["node_id"] not in stored_conflicts:
                prompt = next((n.prompt_id for n in _all(nodes_by_prompt) if n.id == record["node_id"]), None)
                if prompt is None or record["node_id"] not in store.scores_for_prompt(prompt, record["scorer"]):
                    tally.lost += 1
                    lab.problem(kind, f"{job_dir.name}: journalled score of {record['node_id']} is not stored")
        if bad:
            tally.malformed += len(bad)
            lab.problem(kind, f"{job_dir.name}: {len(bad)} unreadable journal line(s): {bad[0]}")
    for job in store.jobs():
        if job.status in ("queued", "running"):
            tally.malformed += 1
            lab.problem(kind, f"job {job.id} is still '{job.status}' after the resume")
    for prompt_id, nodes in nodes_by_prompt.items():
        ids = {n.id for n in nodes}
        orphans = [n.id for n in nodes if n.parent_id is not None and n.parent_id not in ids]
        if orphans:
            tally.malformed += len(orphans)
            lab.problem(kind, f"prompt {prompt_id}: nodes without their parent: {orphans[:3]}")
        if trees is not None:
            _audit_tree(prompt_id, nodes, kind, lab, tally, trees)


def _all(nodes_by_prompt: dict) -> list:
    return [n for nodes in nodes_by_prompt.values() for n in nodes]


def _audit_tree(prompt_id: str, nodes: list, kind: str, lab: Lab, tally: Tally, shape: dict) -> None:
    roots = [n for n in nodes if n.kind == "response" and n.parent_id is None and n.round == 0]
    children = Counter((n.parent_id, n.kind) for n in nodes if n.round == 0 and n.parent_id)
    if len(roots) > 1:
        tally.duplicated += len(roots) - 1
        lab.problem(kind, f"prompt {prompt_id} has {len(roots)} roots")
    for root in roots:
        crits = [n for n in nodes if n.parent_id == root.id and n.kind == "criticism" and n.round == 0]
        over = len(crits) - shape["criticisms"]
        if over > 0:
            tally.duplicated += over
            lab.problem(kind, f"prompt {prompt_id}: {len(crits)} criticisms under one answer")
        for crit in crits:
            extra = children[(crit.id, "improvement")] - shape["improvements"]
            if extra > 0:
                tally.duplicated += extra
                lab.problem(kind, f"prompt {prompt_id}: {children[(crit.id, 'improvement')]} improvements")
        missing = max(-over, 0) + sum(max(shape["improvements"] - children[(c.id, "improvement")], 0) for c in crits)
        if missing and shape.get("complete"):
            tally.lost += missing
            lab.problem(kind, f"prompt {prompt_id}: {missing} slot(s) still empty after a finished resume")
    if not roots and shape.get("complete"):
        tally.lost += 1
        lab.problem(kind, f"prompt {prompt_id} has no tree after a finished resume")


def audit_leftovers(project: Path, kind: str, lab: Lab, tally: Tally) -> None:
    leftovers = [p for p in project.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".import-staging-")]
    if leftovers:
        tally.malformed += len(leftovers)
        lab.problem(kind, f"{project.name}: left behind {[p.name for p in leftovers][:3]}")


def audit_pairs(store, kind: str, lab: Lab, tally: Tally) -> None:
    """Stored pairs equal a fresh rebuild (derived data never half-written)."""
    from backend.curation.derived import pair_config
    from backend.curation.rebuild import rebuild_stage1

    stored = sorted((p.kind, p.prompt_id, p.chosen, p.rejected) for p in store.pairs())
    with store.transaction():
        rebuild_stage1(store, pair_config(store))
        rebuilt = sorted((p.kind, p.prompt_id, p.chosen, p.rejected) for p in store.pairs())
    if stored != rebuilt:
        tally.malformed += 1
        lab.problem(kind, f"stored pairs ({len(stored)}) differ from a rebuild ({len(rebuilt)})")


def opened(project: Path):
    from backend.store import Store

    return Store.open(project)


# -- kill trials -----------------------------------------------------------------------------------
def trial_generate(lab: Lab, number: int) -> Tally:
    project = trial_project(lab, "prompts", number)
    command = cli("generate", str(project), "--prompts", str(N_PROMPTS), *lab.model_flags())
    killed, _ = run_killed(command, _delay(lab, "generate", lambda: cli(
        "generate", str(trial_project(lab, "prompts", 10_000 + number)), "--prompts", str(N_PROMPTS),
        *lab.model_flags())))
    again = run(cli("resume", str(project)) if number % 2 and _has_interrupted(project) else command)
    return _audit_generation("generate", lab, project, killed, again, complete=True)


def _has_interrupted(project: Path) -> bool:
    result = run(cli("jobs", str(project)))
    return "interrupted" in result.stdout


def _audit_generation(kind: str, lab: Lab, project: Path, killed: str, again, complete: bool) -> Tally:
    tally = Tally(trials=1, tracebacks=count_tracebacks(kind, lab, killed, again.stderr, again.stdout))
    if again.returncode != 0:
        tally.malformed += 1
        lab.problem(kind, f"{project.name}: the command after the kill exited {again.returncode}: "
                          f"{again.stderr.strip()[-500:]}")
    with opened(project) as store:
        audit_jobs(store, kind, lab, tally, dict(TREE, complete=complete and again.returncode == 0))
    audit_leftovers(project, kind, lab, tally)
    return tally


def trial_score(lab: Lab, number: int) -> Tally:
    project = trial_project(lab, "trees", number)
    command = cli("score", str(project), "--scorer", f"likelihood:{lab.chat}")
    killed, _ = run_killed(command, _delay(lab, "score", lambda: cli("score", str(trial_project(
        lab, "trees", 10_000 + number)), "--scorer", f"likelihood:{lab.chat}")))
    again = run(command)
    tally = _audit_generation("score", lab, project, killed, again, complete=False)
    with opened(project) as store:  # every answer scored exactly once by the scorer
        label = f"likelihood:{lab.chat.name}"
        for prompt_id in store.prompt_ids():
            answers = [n.id for n in store.nodes_for_prompt(prompt_id) if n.kind in ("response", "improvement")]
            missing = set(answers) - set(store.scores_for_prompt(prompt_id, label))
            if missing and again.returncode == 0:
                tally.lost += len(missing)
                lab.problem("score", f"{project.name}: {len(missing)} answers unscored after the rerun")
    return tally


def trial_chain(lab: Lab, number: int) -> Tally:
    project = trial_project(lab, "trees", number)
    flags = [f for f in lab.model_flags()]
    command = cli("chain", str(project), "--prompts", str(N_PROMPTS), "--rounds", "2", *flags)
    killed, _ = run_killed(command, _delay(lab, "chain", lambda: cli(
        "chain", str(trial_project(lab, "trees", 10_000 + number)), "--prompts", str(N_PROMPTS), "--rounds", "2",
        *flags)))
    again = run(cli("resume", str(project)) if number % 2 and _has_interrupted(project) else command)
    tally = _audit_generation("chain", lab, project, killed, again, complete=False)
    with opened(project) as store:  # one chain per prompt per job, at most (a second `chain` makes new ones)
        per_job = Counter()
        for prompt_id in store.prompt_ids():
            for chain in store.chains(prompt_id):
                nodes = {n.id: n for n in store.nodes_for_prompt(prompt_id)}
                # y0 is a stored answer (another job's, or an earlier chain's best): the chain is its job's
                # by what it wrote, c1 onwards
                jobs = {nodes[i].job_id for i in chain.node_ids[1:] if i in nodes and nodes[i].job_id}
                per_job.update((job, prompt_id) for job in jobs)
        for (job, prompt_id), count in per_job.items():
            if count > 1:
                tally.duplicated += count - 1
                lab.problem("chain", f"{project.name}: job {job} has {count} chains for prompt {prompt_id}")
    return tally


def _delay(lab: Lab, kind: str, calibration_command) -> float:
    """A random moment within a whole run of `kind` (timed once, on a copy of the project)."""
    if kind not in lab.durations:
        lab.durations[kind] = max(_timed(calibration_command()), 1.0)
    return lab.rng.uniform(0.2, lab.durations[kind] * 1.05)


def trial_import(lab: Lab, number: int) -> Tally:
    project = trial_project(lab, "prompts", number)
    rows = IMPORT_ROWS * (1 if number % 2 else 4)  # small files take one transaction, big ones are staged
    data = lab.folder / f"import-{rows}.jsonl"
    if not data.exists():
        with data.open("w", encoding="utf-8") as handle:
            for i in range(rows):
                handle.write(json.dumps({"prompt": f"Imported question {i}: " + "why is the sky blue? " * 30}) + "\n")
    command = cli("import", str(project), str(data))
    killed, _ = run_killed(command, _delay(lab, f"import-{rows}", lambda: cli(
        "import", str(trial_project(lab, "prompts", 10_000 + number)), str(data))))
    middle = run(cli("stats", str(project), "--json"))  # what a kill left: nothing or everything
    again = run(command)
    tally = Tally(trials=1, tracebacks=count_tracebacks("import", lab, killed, middle.stderr, again.stderr))
    expected = N_PROMPTS + rows
    if middle.returncode == 0 and json.loads(middle.stdout)["prompts"] not in (N_PROMPTS, expected):
        tally.malformed += 1
        lab.problem("import", f"{project.name}: a killed import left {json.loads(middle.stdout)['prompts']} prompts")
    with opened(project) as store:
        stored = store.count_prompts()
        missing = [i for i in (0, rows // 2, rows - 1)
                   if store.get_prompt(prompt_id_for(f"Imported question {i}: " + "why is the sky blue? " * 30)) is None]
    if stored < expected or missing:
        tally.lost += expected - stored
        lab.problem("import", f"{project.name}: {stored} prompts after the rerun, {expected} expected")
    if stored > expected:
        tally.duplicated += stored - expected
    audit_leftovers(project, "import", lab, tally)
    return tally


def trial_export(lab: Lab, number: int) -> Tally:
    project = trial_project(lab, "big", number)
    layout = ("trl", "jsonl"), ("trl", "parquet"), ("llamafactory", "json")
    format, suffix = layout[number % 3]
    out = lab.folder / "exports" / f"trial-{number}" / ("pairs" if format == "llamafactory" else f"pairs.{suffix}")
    out.parent.mkdir(parents=True, exist_ok=True)
    command = cli("export", str(project), "--kind", "pairs", "--format", format, "--out", str(out))
    killed, _ = run_killed(command, _delay(lab, f"export-{format}-{suffix}", lambda: cli(
        "export", str(trial_project(lab, "big", 10_000 + number)), "--kind", "pairs", "--format", format,
        "--out", str(lab.folder / "exports" / f"calibration-{number}" / out.name))))
    again = run(command)
    tally = Tally(trials=1, tracebacks=count_tracebacks("export", lab, killed, again.stderr))
    if again.returncode != 0:
        tally.malformed += 1
        lab.problem("export", f"{project.name}: the export after the kill exited {again.returncode}: "
                              f"{again.stderr.strip()[-500:]}")
    with opened(project) as store:
        expected = len(store.pairs())
    data_file = out / "avr_pairs.json" if format == "llamafactory" else out
    try:
        rows = _read_rows(data_file, suffix)
    except Exception as exc:  # noqa: BLE001 - a half-written file
        tally.malformed += 1
        lab.problem("export", f"{data_file} does not parse after the rerun: {exc}")
        rows = []
    if len(rows) < expected:
        tally.lost += expected - len(rows)
    elif len(rows) > expected:
        tally.duplicated += len(rows) - expected
    audit_leftovers(out.parent, "export", lab, tally)
    audit_leftovers(project, "export", lab, tally)
    return tally


def _read_rows(path: Path, suffix: str) -> list:
    if suffix == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    if suffix == "json":
        return json.loads(path.read_text(encoding="utf-8"))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


CURATOR = """
import random, sys
from backend.curation.annotations import annotate
from backend.domain import Annotation
from backend.store import Store
store = Store.open(sys.argv[1])
rng = random.Random(int(sys.argv[2]))
nodes = [n for pid in store.prompt_ids() for n in store.nodes_for_prompt(pid)]
for step in range(400):
    node = rng.choice(nodes)
    verdict = rng.choice(["accept", "reject", ""])
    edit = rng.choice([None, None, f"edited {step}"])
    annotate(store, Annotation(node.id, verdict, edit, author="faults"))
    print(f"ack {node.id} {verdict or '-'} {edit or '-'}", flush=True)  # after the commit returned
"""


def trial_curation(lab: Lab, number: int) -> Tally:
    """Verdicts and edits through the backend's annotate path (the app's undo commands call it too),
    killed mid-stream: every acknowledged one is stored once, and the pairs follow them."""
    project = trial_project(lab, "trees", number)
    command = [sys.executable, "-c", CURATOR, str(project), str(number)]
    if "curation" not in lab.durations:
        lab.durations["curation"] = max(_timed([sys.executable, "-c", CURATOR, str(trial_project(
            lab, "trees", 10_000 + number)), "0"]), 1.0)
    delay = lab.rng.uniform(0.5, lab.durations["curation"] * 1.05)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acked: list[tuple[str, str, str]] = []
    try:
        while time.monotonic() - started < delay:
            line = process.stdout.readline()
            if not line:
                break
            node_id, verdict, edit = line.rstrip("\n").split(" ", 3)[1:4]
            acked.append((node_id, verdict, edit))
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(60)
    stderr = process.stderr.read()
    tally = Tally(trials=1, tracebacks=count_tracebacks("curation", lab, stderr))
    with opened(project) as store:
        stored = [(a.node_id, a.verdict or "-", a.edited_text or "-")
                  for a in sorted((a for node_id in {n for n, _, _ in acked} | _touched(store)
                                   for a in store.annotation_history(node_id) if a.author == "faults"),
                                  key=lambda a: (a.created_at, getattr(a, "seq", 0)))]
        # Every acknowledged annotation is stored, in order, once; one more may have committed just
        # before the kill (its acknowledgement was never printed).
        if stored[:len(acked)] != acked:
            lost = len([a for a in acked if a not in stored])
            tally.lost += lost
            tally.malformed += lost == 0  # all there, but not in the order they were made
            lab.problem("curation", f"{project.name}: {len(acked)} acknowledged, stored differ: "
                                    f"{stored[:3]} vs {acked[:3]}")
        if len(stored) > len(acked) + 1:
            tally.duplicated += len(stored) - len(acked) - 1
            lab.problem("curation", f"{project.name}: {len(stored)} stored for {len(acked)} acknowledged")
        audit_pairs(store, "curation", lab, tally)
    return tally


def _touched(store) -> set[str]:
    """Every node of the project (an unacknowledged annotation may be on any of them)."""
    return {n.id for prompt_id in store.prompt_ids() for n in store.nodes_for_prompt(prompt_id)}


def trial_train(lab: Lab, number: int) -> Tally:
    project = trial_project(lab, "trees", number)
    command = cli("train", str(project), "--stage", "1", "--base", str(lab.chat), "--max-steps", "4",
                  "--checkpoint-steps", "2", "--skip-regenerate", "--dtype", "float32", "--device", "cpu")
    killed, _ = run_killed(command, _delay(lab, "train", lambda: [
        *command[:4], str(trial_project(lab, "trees", 10_000 + number)), *command[5:]]))
    again = run(command)
    tally = Tally(trials=1, tracebacks=count_tracebacks("train", lab, killed, again.stderr))
    done_before = again.returncode == 2 and "already trained with these settings" in again.stderr
    if again.returncode != 0 and not done_before:  # (the kill came after the stage finished: refusing is right)
        tally.malformed += 1
        lab.problem("train", f"{project.name}: train after the kill exited {again.returncode}: {again.stderr[-500:]}")
    runs = json.loads(run(cli("runs", str(project), "--json")).stdout or "[]")
    finished = Counter((r.get("stage"), r.get("data_hash")) for r in runs if r.get("status") == "finished")
    for key, count in finished.items():
        if count > 1:
            tally.duplicated += count - 1
            lab.problem("train", f"{project.name}: {count} finished runs of {key}")
    for entry in runs:
        if entry.get("status") == "running":
            tally.malformed += 1
            lab.problem("train", f"{project.name}: run {entry.get('id')} still 'running'")
        adapter = entry.get("adapter_path")
        if entry.get("status") == "finished" and adapter and not (project / adapter).exists():  # relative path
            tally.lost += 1
            lab.problem("train", f"{project.name}: run {entry.get('id')} finished without its adapter")
    audit_leftovers(project, "train", lab, tally)
    return tally


TRIALS = {"generate": trial_generate, "score": trial_score, "chain": trial_chain, "import": trial_import,
          "export": trial_export, "curation": trial_curation, "train": trial_train}


# -- fuzz ------------------------------------------------------------------------------------------
def fuzz(lab: Lab, format: str, records: int, per_file: int = 20) -> Tally:
    from hypothesis import HealthCheck, given, seed, settings

    from backend.store import Store

    store = Store.create(lab.folder / "fuzz" / format)
    total = Tally()
    problems: list[str] = []
    counter = iter(range(10**9))

    @seed(lab.rng.randrange(2**32))
    @settings(max_examples=-(-records // per_file), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(fuzz_file(format, per_file))
    def one_file(batch):
        path = store.project_dir / f"fuzz-{next(counter)}.jsonl"
        path.write_bytes(b"".join(r.line + b"\n" for r in batch))
        total.add(import_and_check(store, path, batch, format, problems))
        path.unlink()

    try:
        one_file()
    finally:
        store.close()
    for text in problems:
        lab.problem(f"fuzz {format}", text)
    return total


# -- main ------------------------------------------------------------------------------------------
def plan(trials: int, kinds: list[str]) -> list[str]:
    weights = {kind: WEIGHTS[kind] for kind in kinds}
    total = sum(weights.values())
    counts = {kind: max(1, round(trials * w / total)) for kind, w in weights.items()}
    return [kind for kind in kinds for _ in range(counts[kind])]


def print_row(name: str, tally: Tally, seconds: float) -> None:
    print(f"{name:<22}{tally.trials:>8}{tally.lost:>7}{tally.duplicated:>12}{tally.malformed:>11}{tally.tracebacks:>12}"
          f"{seconds:>9.0f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100, help="kill trials in all, spread over the kinds")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)}")
    parser.add_argument("--fuzz-records", type=int, default=10_000, help="generated records per importer (0: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it (default: a temp one)")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="avr-faults-"))
    folder.mkdir(parents=True, exist_ok=True)
    lab = Lab(folder, args.seed)
    print(f"work folder {folder}; problems are written to {folder / 'problems.log'}", flush=True)
    print(f"{'kind':<22}{'trials':>8}{'lost':>7}{'duplicated':>12}{'malformed':>11}{'tracebacks':>12}{'seconds':>9}",
          flush=True)
    results: dict[str, Tally] = {kind: Tally() for kind in kinds}
    seconds: Counter = Counter()
    started = time.monotonic()
    for number, kind in enumerate(plan(args.trials, kinds) if args.trials else []):
        began = time.monotonic()
        try:
            tally = TRIALS[kind](lab, number)
        except Exception as exc:  # noqa: BLE001 - a failing trial is a finding, not the end of the run
            import traceback

            tally = Tally(trials=1, tracebacks=1)
            lab.problem(kind, f"trial {number} raised: {exc}\n{traceback.format_exc()}")
        results[kind].add(tally)
        seconds[kind] += time.monotonic() - began  # the first trial of a kind also builds its templates
        print(f"trial {number} {kind}: lost {tally.lost}, duplicated {tally.duplicated}, malformed {tally.malformed}, "
              f"tracebacks {tally.tracebacks} ({time.monotonic() - began:.0f} s)", file=sys.stderr, flush=True)
        shutil.rmtree(folder / "trials", ignore_errors=True)
    for kind in kinds:
        if results[kind].trials:
            print_row(f"kill -9 {kind}", results[kind], seconds[kind])
    killed = Tally()
    for tally in results.values():
        killed.add(tally)
    if args.trials:
        print_row("kill -9 (all)", killed, sum(seconds.values()))
    for format in FORMATS if args.fuzz_records else ():
        began = time.monotonic()
        tally = fuzz(lab, format, args.fuzz_records)
        print_row(f"fuzz {format}", tally, time.monotonic() - began)
    print(f"{time.monotonic() - started:.0f} s", flush=True)
    if args.keep is None:
        shutil.rmtree(folder / "templates", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

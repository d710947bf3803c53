"""A damaged project file (truncated, zeroed, header overwritten, a broken write-ahead log) is one line
that names the file, says it cannot be read and what to do; the file is never written; `doctor`
says what the jobs' folders still hold and --salvage makes a new project from them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend import protocol
from backend.avr.templates import DEFAULT_TEMPLATES
from backend.cli.commands import run_command
from backend.config import ModelSpec, SamplingConfig, ScorerSpec
from backend.domain import Node, Prompt, Score
from backend.job_requests import Stage1Request
from backend.store import Store
from backend.worker.journal import JournalWriter
from backend.worker.submission import prepare_job

ROOT = Path(__file__).resolve().parents[2]


def make_project(path: Path) -> Path:
    with Store.create(path) as store:
        store.add_prompts([Prompt.from_text(f"Question {i}") for i in range(200)])
    return path


def truncate(db: Path) -> None:
    os.truncate(db, 5000)


def zero(db: Path) -> None:
    db.write_bytes(b"\0" * db.stat().st_size)


def overwrite_header(db: Path) -> None:
    with db.open("r+b") as handle:
        handle.write(b"not a database! " * 256)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", [truncate, zero, overwrite_header])
def test_a_damaged_project_file_is_one_line_and_left_as_it_is(tmp_path, capsys, damage):
    project = make_project(tmp_path / "p")
    db = project / "project.duckdb"
    damage(db)
    before = digest(db)
    for command in (["stats", str(project)], ["generate", str(project), "--prompts", "1"],
                    ["import", str(project), str(db)], ["export", str(project), "--kind", "pairs", "--out", "x.jsonl"]):
        assert run_command(command) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert f"{db} cannot be read" in err and "restore project.duckdb from a backup" in err
        assert digest(db) == before and not Path(f"{db}.wal").exists()


def test_a_broken_write_ahead_log_is_named(tmp_path, capsys):
    project = tmp_path / "p"
    # A process that wrote and was killed before a checkpoint leaves its changes in project.duckdb.wal.
    script = ("import os, sys; from backend.store import Store; from backend.domain import Prompt; "
              "s = Store.create(sys.argv[1]); s._db.execute(\"SET checkpoint_threshold='1GB'\"); "
              "s.add_prompts([Prompt.from_text('kept in the log')]); os._exit(0)")
    subprocess.run([sys.executable, "-c", script, str(project)], cwd=ROOT, check=True)
    wal = project / "project.duckdb.wal"
    assert wal.is_file()
    with wal.open("r+b") as handle:
        handle.seek(wal.stat().st_size // 2)
        handle.write(b"\xff" * 64)
    assert run_command(["stats", str(project)]) == 2
    err = capsys.readouterr().err
    assert f"{wal} cannot be read" in err and "move project.duckdb.wal aside" in err and "Traceback" not in err


def test_doctor_salvages_a_new_project_from_the_jobs_folders(tmp_path, capsys):
    project = make_project(tmp_path / "p")
    with Store.open(project) as store:
        [prompt] = store.prompts_by_id(store.prompt_ids(limit=1)).values()
        job = prepare_job(Stage1Request([prompt], DEFAULT_TEMPLATES, ModelSpec(), [ScorerSpec()], SamplingConfig()),
                          store=store)
    writer = JournalWriter(job.job_dir)
    writer.append(protocol.node_record(Node("r", prompt.id, "response", "An answer.", job_id=job.job_id)))
    writer.append(protocol.score_record(Score("r", "likelihood:embedded", 0.25)))
    writer.close()
    zero(project / "project.duckdb")

    assert run_command(["doctor", str(project)]) == 1
    out = capsys.readouterr().out
    assert "problem:" in out and "cannot be read" in out
    assert "1 job folder(s), 2 journal record(s) (1 nodes, 1 scores, 0 chains), 1 prompt(s)" in out
    assert "--salvage NEW_DIR" in out

    assert run_command(["doctor", str(project), "--salvage", str(tmp_path / "new")]) == 0
    with Store.open(tmp_path / "new") as salvaged:
        assert salvaged.prompt_ids() == [prompt.id]
        assert [n.id for n in salvaged.nodes_for_prompt(prompt.id)] == ["r"]
        assert salvaged.scores_for_prompt(prompt.id, "likelihood:embedded") == {"r": 0.25}


def test_doctor_on_a_healthy_project_says_so(tmp_path, capsys):
    project = make_project(tmp_path / "p")
    assert run_command(["doctor", str(project)]) == 0
    assert "ok: the database reads" in capsys.readouterr().out


def test_doctor_notes_interrupted_jobs_and_refused_results_but_exits_0(tmp_path, capsys):
    """Only a database that cannot be read is a failure; what a resume or `conflicts` handles is a note."""
    project = make_project(tmp_path / "p")
    with Store.open(project) as store:
        [prompt] = store.prompts_by_id(store.prompt_ids(limit=1)).values()
        job = prepare_job(Stage1Request([prompt], DEFAULT_TEMPLATES, ModelSpec(), [ScorerSpec()], SamplingConfig()),
                          store=store)  # "queued" with no worker: the doctor's opening marks it interrupted
        store.add_nodes([Node("r", prompt.id, "response", "An answer.", job_id=job.job_id)])
        late = Node("late", prompt.id, "response", "A second root.", job_id=job.job_id)
        store.add_slot_conflicts([(late, "the tree already has its answer", ["r"], {})])
    assert run_command(["doctor", str(project)]) == 0
    out = capsys.readouterr().out
    assert f"note: 1 interrupted job(s), e.g. {job.job_id}" in out
    assert "note: 1 refused result(s)" in out and "problem:" not in out


def test_doctor_refuses_what_it_cannot_do_in_one_line(tmp_path, capsys):
    assert run_command(["doctor", str(tmp_path)]) == 2
    assert "is not an AvR Studio project" in capsys.readouterr().err
    project = make_project(tmp_path / "p")
    zero(project / "project.duckdb")
    taken = make_project(tmp_path / "taken")
    assert run_command(["doctor", str(project), "--salvage", str(taken)]) == 2  # never over another project
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    with Store.open(taken) as store:
        assert store.count_prompts() == 200

"""What the CLI prints around its results: refused results in `stats`, and a reader that stops early
(`avr-studio stats P | head -1`) ends the command quietly with the shell's SIGPIPE status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from backend.cli.commands import run_command
from backend.domain import Node, Prompt
from backend.store import Store

ROOT = Path(__file__).resolve().parents[2]


def project_with_a_refused_result(path: Path) -> Path:
    with Store.create(path) as store:
        prompt = Prompt.from_text("Name two uses of baking soda.")
        store.add_prompts([prompt])
        store.add_nodes([Node("r", prompt.id, "response", "It cleans.", job_id="j")])
        late = Node("late", prompt.id, "response", "It leavens.", job_id="orphan")
        store.add_slot_conflicts([(late, "the tree already has its answer", ["r"], {})])
    return path


def test_stats_counts_refused_results_and_says_where_they_are(tmp_path, capsys):
    project = project_with_a_refused_result(tmp_path / "p")
    assert run_command(["stats", str(project)]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("refused results"))
    assert line.split()[2] == "1" and "avr-studio conflicts" in line
    assert run_command(["stats", str(project), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["refused_results"] == 1 and stats["nodes"]["response"] == 1


def test_stats_without_refused_results_has_no_such_line(tmp_path, capsys):
    Store.create(tmp_path / "p").close()
    assert run_command(["stats", str(tmp_path / "p")]) == 0
    assert "refused" not in capsys.readouterr().out
    assert run_command(["stats", str(tmp_path / "p"), "--json"]) == 0
    assert "refused_results" not in json.loads(capsys.readouterr().out)


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    project = project_with_a_refused_result(tmp_path / "p")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as in a user's shell
    for command in (["stats", str(project)], ["conflicts", str(project)]):
        process = subprocess.Popen([sys.executable, "-m", "backend.cli.commands", *command], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        process.stdout.close()  # like `| head -0`: the pipe is closed before the command writes
        err = process.stderr.read().decode()
        assert process.wait(120) == 141, err
        assert err == ""

"""`avr-studio init | stats | pairs` through the command registry, and the rebuild glue behind `pairs`."""

import json
from pathlib import Path

from backend.cli.commands import run_command
from backend.config import PairConfig
from backend.curation.rebuild import rebuild_stage1
from backend.domain import Annotation
from backend.store import Store
from tests.store.builders import HAIKU, SODA, fill


def test_init_creates_a_project_and_refuses_to_overwrite_it(tmp_path, capsys):
    assert run_command(["init", str(tmp_path / "proj")]) == 0
    out = capsys.readouterr().out
    assert "Created project" in out and "project.duckdb" in out and "jobs/" in out
    assert Store.is_project(tmp_path / "proj")
    assert run_command(["init", str(tmp_path / "proj")]) == 2
    assert "already an AvR Studio project" in capsys.readouterr().err


def test_init_adds_the_demo_prompts_so_generate_can_start_unless_empty(tmp_path, capsys):
    demo_lines = (Path(__file__).resolve().parents[2] / "resources" / "demo" / "prompts.jsonl").read_text()
    expected = len([line for line in demo_lines.splitlines() if line.strip()])
    assert run_command(["init", str(tmp_path / "with")]) == 0
    assert f"{expected} bundled demo prompts" in capsys.readouterr().out
    assert run_command(["init", str(tmp_path / "without"), "--empty"]) == 0
    with Store.open(tmp_path / "with") as store:
        assert store.count_prompts() == expected
    with Store.open(tmp_path / "without") as store:
        assert store.count_prompts() == 0


def test_stats_as_a_table_and_as_json(tmp_path, capsys):
    with Store.create(tmp_path / "proj") as store:
        fill(store)
    assert run_command(["stats", str(tmp_path / "proj"), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["prompts"] == 3 and stats["nodes"]["improvement"] == 5 and stats["scores"] == {"a": 6, "b": 1}
    assert run_command(["stats", str(tmp_path / "proj")]) == 0
    table = capsys.readouterr().out
    assert "prompts" in table and "improvement" in table and "SFT samples" in table


def test_stats_on_a_folder_that_is_not_a_project(tmp_path, capsys):
    assert run_command(["stats", str(tmp_path)]) == 2
    assert "is not an AvR Studio project" in capsys.readouterr().err


def test_pairs_builds_stage1_data_and_prints_counts(tmp_path, capsys):
    with Store.create(tmp_path / "proj") as store:
        fill(store)
    assert run_command(["pairs", str(tmp_path / "proj"), "--scorer", "a"]) == 0
    captured = capsys.readouterr()
    assert "Rebuilt Stage I data from 2 trees" in captured.out
    with Store.open(tmp_path / "proj") as store:
        counts = store.pair_counts()
        assert counts.get("response") == 1  # SODA: best refinement i11 (3.0) beats r1 (1.0)
        [pair] = store.pairs(kind="response")
        assert (pair.prompt_id, pair.chosen_node_id, pair.rejected_node_id) == (SODA.id, "i11", "r1")
        assert store.sft_counts() == {"rsft": 1}
    printed = {line.rsplit(None, 1)[0].strip(): int(line.rsplit(None, 1)[1])
               for line in captured.out.splitlines()[1:]}
    assert printed["response pairs"] == counts["response"]
    assert printed["RSFT samples"] == 1
    assert "2/2" in captured.err  # the progress bar goes to stderr


def test_pairs_with_an_unknown_scorer_or_bad_filter_is_a_user_error(tmp_path, capsys):
    with Store.create(tmp_path / "proj") as store:
        fill(store)
    assert run_command(["pairs", str(tmp_path / "proj"), "--scorer", "nope"]) == 2
    assert "no scores from scorer 'nope'" in capsys.readouterr().err
    assert run_command(["pairs", str(tmp_path / "proj"), "--degeneration-repeats", "1"]) == 2
    assert "degeneration_repeats" in capsys.readouterr().err


def test_rebuild_follows_the_person_and_replaces_old_pairs(store):
    fill(store)
    first = rebuild_stage1(store, PairConfig(scorer="a"))
    assert first["prompts"] == 2
    # The person rejects the reward's favourite; the rebuild must never use it as the chosen side.
    store.add_annotation(Annotation("i11", "reject"))
    progress = []
    rebuild_stage1(store, PairConfig(scorer="a"), progress=lambda done, total: progress.append((done, total)))
    assert progress[-1] == (2, 2)
    assert all(p.chosen_node_id != "i11" for p in store.pairs())
    assert store.pairs(prompt_id=HAIKU.id) == [p for p in store.pairs() if p.prompt_id == HAIKU.id]

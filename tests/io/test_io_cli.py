"""`avr-studio import` / `export`: counts on stdout, one-line errors with exit code 2."""

from __future__ import annotations

import json

from backend.cli.commands import run_command


def _new_project(tmp_path):
    from backend.store import Store

    folder = tmp_path / "project"
    store = Store.create(folder)
    close = getattr(store, "close", None)
    if close:
        close()
    return folder


def test_import_prints_counts_and_a_second_import_adds_nothing(tmp_path, samples, capsys):
    project = _new_project(tmp_path)
    sample = samples / "avr-stage1-scoring-detail.jsonl"
    assert run_command(["import", str(project), str(sample)]) == 0
    assert "new: 2 prompts, 14 nodes, 10 scores, 0 chains, 0 sft samples" in capsys.readouterr().out
    assert run_command(["import", str(project), str(sample), "--format", "avr-stage1"]) == 0
    assert "new: 0 prompts, 0 nodes, 0 scores, 0 chains, 0 sft samples" in capsys.readouterr().out


def test_import_of_a_bad_file_is_one_line_and_exit_2(tmp_path, capsys):
    project = _new_project(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "ok"}\n{"prompt": \n')
    assert run_command(["import", str(project), str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("avr-studio import: ") and "bad.jsonl: line 2: bad JSON" in err
    assert "\n" not in err
    assert run_command(["import", str(project), str(bad), "--skip-bad"]) == 0
    out = capsys.readouterr().out
    assert "skipped 1 bad records" in out and "line 2: bad JSON" in out


def test_export_writes_the_file_or_says_there_is_nothing(tmp_path, samples, capsys):
    project = _new_project(tmp_path)
    out = tmp_path / "long.jsonl"
    assert run_command(["export", str(project), "--kind", "long-thought", "--format", "avr", "--out", str(out)]) == 2
    assert "nothing to export" in capsys.readouterr().err
    assert not out.exists()
    assert run_command(["import", str(project), str(samples / "avr-long-thought-sft.jsonl")]) == 0
    assert run_command(["export", str(project), "--kind", "long-thought", "--format", "avr", "--out", str(out)]) == 0
    assert "exported 1 long-thought rows" in capsys.readouterr().out
    exported = json.loads(out.read_text())
    assert exported == json.loads((samples / "avr-long-thought-sft.jsonl").read_text())


def test_export_with_a_bad_extension_exits_2(tmp_path, samples, capsys):
    project = _new_project(tmp_path)
    run_command(["import", str(project), str(samples / "avr-long-thought-sft.jsonl")])
    code = run_command(["export", str(project), "--kind", "long-thought", "--out", str(tmp_path / "x.txt")])
    assert code == 2
    assert ".jsonl, .json or .parquet" in capsys.readouterr().err


def test_stage1_sample_to_pairs_to_every_export_format(tmp_path, samples, capsys):
    project = tmp_path / "project"
    assert run_command(["init", str(project)]) == 0
    assert run_command(["import", str(project), str(samples / "avr-stage1-scoring-detail.jsonl")]) == 0
    assert run_command(["pairs", str(project)]) == 0
    capsys.readouterr()
    for fmt, out in [("trl", tmp_path / "pairs.parquet"), ("avr", tmp_path / "dpo.json"),
                     ("llamafactory", tmp_path / "lf")]:
        assert run_command(["export", str(project), "--kind", "pairs", "--format", fmt, "--out", str(out)]) == 0
        assert out.exists()
    assert run_command(["export", str(project), "--kind", "sft", "--out", str(tmp_path / "rsft.jsonl")]) == 0
    dpo = json.loads((tmp_path / "dpo.json").read_text())
    assert dpo and all(set(row) == {"messages", "chosen", "rejected"} for row in dpo)
    assert {row["chosen"]["content"] for row in dpo} >= {"Baking soda leavens cakes and it can scrub stains off pans."}
    assert (tmp_path / "rsft.jsonl").read_text().count("\n") == 2

"""Valid JSON that used to crash an import (a lone surrogate, a 5,000-digit integer, 100,000 nested
brackets, NaN) is a line-numbered bad record that --skip-bad skips; a file with no good record is
refused even with --skip-bad; pairs follow an imported tree at once; a big file goes through a
staging database with the same result as the one-transaction path, and a killed import leaves nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import backend.io.importers as importers
from backend.cli.commands import run_command
from backend.config import PairConfig
from backend.curation.rebuild import rebuild_stage1
from backend.errors import BadInputError
from backend.io import import_file
from backend.store import Store
from tests.io.conftest import DATA_DIR

LONE_SURROGATE = '{"prompt": "an emoji cut in two \\ud83d"}'
HUGE_INTEGER = '{"prompt": "a count", "n": ' + "7" * 5000 + "}"
DEEP_NESTING = '{"prompt": "deep", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
NAN_SCORE = ('{"prompt": "Say hi.", "chosen": [{"role": "user", "content": "Say hi."}, {"role": "assistant", '
             '"content": "Hi!"}], "all_generated_responses": ["Hi!"], "all_rm_scores": [NaN]}')
HOSTILE = {"lone surrogate": (LONE_SURROGATE, "half of a UTF-16 surrogate pair"),
           "huge integer": (HUGE_INTEGER, "more than 4,300 digits"),
           "deep nesting": (DEEP_NESTING, "nested too deeply")}


def prompt_line(i: int) -> str:
    return json.dumps({"prompt": f"Question {i}: name a use of baking soda. \U0001F600"})


def write_jsonl(path: Path, bad: str, at: int, total: int) -> Path:
    lines = [bad if i == at else prompt_line(i) for i in range(1, total + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_json_list(path: Path, bad: str, at: int, total: int) -> Path:
    """A JSON list with one record per line (line i holds record i; the list opens on line 1)."""
    lines = [(bad if i == at else prompt_line(i)) + ("," if i < total else "") for i in range(1, total + 1)]
    path.write_text("[" + "\n".join(lines) + "]\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("writer", [write_jsonl, write_json_list], ids=["jsonl", "json"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_valid_json_is_a_numbered_bad_record_that_skip_bad_skips(store, tmp_path, writer, case):
    bad, reason = HOSTILE[case]
    path = writer(tmp_path / ("data.jsonl" if writer is write_jsonl else "data.json"), bad, 7000, 10_000)
    with pytest.raises(BadInputError, match=rf"line 7000: .*{reason}.*Nothing was imported"):
        import_file(store, path, format="prompts")
    assert store.count_prompts() == 0
    report = import_file(store, path, format="prompts", skip_bad=True)
    assert [(s.line, reason in s.reason) for s in report.skipped] == [(7000, True)]
    assert report.new_prompts == store.count_prompts() == 9_999


def test_a_surrogate_pair_is_one_character_not_a_bad_record(store, tmp_path):
    path = tmp_path / "pair.jsonl"
    path.write_text('{"prompt": "smile \\ud83d\\ude00"}\n', encoding="utf-8")
    assert import_file(store, path).new_prompts == 1
    [prompt_id] = store.prompt_ids()
    assert store.get_prompt(prompt_id).text == "smile \U0001F600"


def test_a_score_that_is_not_a_finite_number_is_a_bad_record(store, tmp_path):
    path = tmp_path / "uf.jsonl"
    path.write_text(NAN_SCORE + "\n", encoding="utf-8")
    with pytest.raises(BadInputError, match="line 1: .*must be a finite number"):
        import_file(store, path)


def test_skip_bad_on_a_file_with_no_good_record_exits_non_zero(tmp_path, capsys):
    project = tmp_path / "p"
    assert run_command(["init", str(project), "--empty"]) == 0
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": 5}\n{"prompt": ""}\n', encoding="utf-8")
    assert run_command(["import", str(project), str(path), "--format", "prompts", "--skip-bad"]) == 2
    err = capsys.readouterr().err
    assert "none of its 2 records could be imported" in err and "Traceback" not in err


def test_pairs_follow_an_imported_tree_at_once(store, tmp_path):
    report = import_file(store, DATA_DIR / "avr-stage1-scoring-detail.jsonl")
    assert report.new_nodes > 0
    imported = sorted((p.kind, p.chosen, p.rejected) for p in store.pairs())
    assert imported  # built by the import itself
    rebuild_stage1(store, PairConfig())  # the same rules run by hand give the same pairs
    assert sorted((p.kind, p.chosen, p.rejected) for p in store.pairs()) == imported


def project_rows(store) -> dict:
    stats = store.stats()
    prompts = [(p.id, p.text) for p in store.prompts_by_id(store.prompt_ids()).values()]
    return {"stats": stats, "order": store.prompt_ids(), "prompts": sorted(prompts),
            "pairs": sorted((p.kind, p.chosen, p.rejected) for p in store.pairs())}


@pytest.mark.parametrize("name", ["avr-stage1-scoring-detail.jsonl", "ultrafeedback-style.jsonl",
                                  "avr-long-thought-sft.jsonl"])
def test_the_staged_path_stores_what_the_one_transaction_path_stores(tmp_path, monkeypatch, name):
    results = {}
    for path_kind, threshold in (("direct", 1 << 62), ("staged", 0)):
        monkeypatch.setattr(importers, "STAGE_FROM_BYTES", threshold)
        with Store.create(tmp_path / path_kind) as store:
            import_file(store, DATA_DIR / "ultrafeedback-style.jsonl")  # something there before
            first = import_file(store, DATA_DIR / name)
            again = import_file(store, DATA_DIR / name)
            results[path_kind] = (project_rows(store), first.new_total, again.new_total)
            assert not list((tmp_path / path_kind).glob(".import-staging-*"))  # removed when done
    assert results["staged"] == results["direct"]
    assert results["staged"][2] == 0  # re-importing adds nothing


def test_a_staged_import_with_a_bad_record_leaves_nothing(store, tmp_path, monkeypatch):
    monkeypatch.setattr(importers, "STAGE_FROM_BYTES", 0)
    monkeypatch.setattr(importers, "CHUNK_RECORDS", 10)  # several chunks are staged before the bad one
    path = write_jsonl(tmp_path / "data.jsonl", '{"prompt": 5}', 95, 100)
    with pytest.raises(BadInputError, match="line 95"):
        import_file(store, path)
    assert store.count_prompts() == 0
    assert not list(store.project_dir.glob(".import-staging-*"))


KILLABLE_IMPORT = """
import sys
import backend.io.importers as importers
from backend.io.importers import writing
from backend.io import import_file
from backend.store import Store

importers.STAGE_FROM_BYTES = 0 if sys.argv[3] == "staged" else 1 << 62
importers.CHUNK_RECORDS = 50
chunks = 0
real_write = writing.write_items

def write_then_report(*args, **kwargs):
    global chunks
    counts = real_write(*args, **kwargs)
    chunks += 1
    if chunks == 3:
        print("three chunks written", flush=True)
        sys.stdin.readline()  # killed here
    return counts

importers.write_items = write_then_report
store = Store.open(sys.argv[1])
import_file(store, sys.argv[2], format="prompts")
"""


@pytest.mark.parametrize("path_kind", ["direct", "staged"])
def test_an_import_killed_mid_way_leaves_nothing_and_no_staging_file(tmp_path, path_kind, capsys):
    project = tmp_path / "p"
    Store.create(project).close()
    path = write_jsonl(tmp_path / "data.jsonl", prompt_line(0), 1, 400)
    child = subprocess.Popen([sys.executable, "-c", KILLABLE_IMPORT, str(project), str(path), path_kind],
                             cwd=Path(__file__).resolve().parents[2], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == "three chunks written"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    assert run_command(["stats", str(project), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["prompts"] == 0
    assert not list(project.glob(".import-staging-*"))  # the opener removed the killed import's file

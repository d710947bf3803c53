"""Hostile export targets end in one line naming the path, never a traceback: a read-only folder, --out
naming a folder, a dataset_info.json that is not UTF-8, a LLaMA-Factory --out that looks like a file;
and a temp file of a killed export is removed by the next write beside it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from backend.cli.commands import run_command
from backend.domain import Pair, Prompt
from backend.errors import BadInputError
from backend.io import export_rows
from backend.store import Store

PAIRS = [Pair("response", "p1", [{"role": "user", "content": "Name a use of soda."}], chosen="It leavens cakes.",
              rejected="Soda.")]


@pytest.fixture
def project(tmp_path):
    """A project with one stored pair, so an export has something to write."""
    path = tmp_path / "proj"
    with Store.create(path) as store:
        store.add_prompts([Prompt("p1", "Name a use of soda.")])
        store.replace_stage1_data(["p1"], PAIRS, [])
    return path


def export(project, out, *extra):
    return run_command(["export", str(project), "--kind", "pairs", "--out", str(out), *extra])


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_one_line(project, tmp_path, capsys):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert export(project, folder / "pairs.jsonl") == 2
        assert f"cannot write {folder / 'pairs.jsonl'}: Permission denied" in one_line(capsys)
    finally:
        folder.chmod(stat.S_IRWXU)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_folder_no_one_may_write_is_one_line(project, capsys):
    out = "/proc/avr-studio-export/pairs.jsonl"  # not writable even for root
    assert export(project, out) == 2
    assert f"cannot write {out}" in one_line(capsys)


def test_a_path_under_a_file_is_one_line(project, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert export(project, blocker / "pairs.jsonl") == 2  # its folder cannot be made: a file is in the way
    assert f"cannot write {blocker / 'pairs.jsonl'}" in one_line(capsys)


def test_out_naming_a_folder_is_one_line(project, tmp_path, capsys):
    folder = tmp_path / "out.jsonl"
    folder.mkdir()
    assert export(project, folder) == 2
    assert f"{folder} is a folder; give a file name" in one_line(capsys)


def test_a_dataset_info_that_is_not_utf8_is_one_line_and_kept(project, tmp_path, capsys):
    folder = tmp_path / "lf"
    folder.mkdir()
    info = folder / "dataset_info.json"
    info.write_bytes(b'{"other": "caf\xe9"}')
    assert export(project, folder, "--format", "llamafactory") == 2
    assert "dataset_info.json: not UTF-8 text (byte 14)" in one_line(capsys)
    assert info.read_bytes() == b'{"other": "caf\xe9"}'


def test_a_llamafactory_out_that_looks_like_a_file_is_refused(project, tmp_path, capsys):
    assert export(project, tmp_path / "pairs.json", "--format", "llamafactory") == 2
    line = one_line(capsys)
    assert "writes a folder" in line and "such as 'pairs'" in line
    assert not (tmp_path / "pairs.json").exists()


def test_a_killed_writers_temp_file_is_removed_by_the_next_write_beside_it(tmp_path):
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    stale = tmp_path / f".pairs.jsonl.avr-{dead}-0123abcd.tmp"
    stale.write_bytes(b"x" * 1000)
    export_rows(PAIRS, "pairs", "trl", tmp_path / "pairs.jsonl")
    assert not stale.exists() and (tmp_path / "pairs.jsonl").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["pairs.jsonl"]


def test_export_rows_refuses_a_folder_for_a_file(tmp_path):
    (tmp_path / "x.jsonl").mkdir()
    with pytest.raises(BadInputError, match="is a folder"):
        export_rows(PAIRS, "pairs", "trl", tmp_path / "x.jsonl")

"""Creating and opening projects, migrations, transactions and the single-process lock."""

import subprocess
import sys
import textwrap

import duckdb
import pytest

from backend.domain import Prompt
from backend.errors import ProjectLockedError, UserError
from backend.store import Store
from backend.store.migrations import MIGRATIONS, applied_versions, migrate


def test_create_makes_the_folder_layout_and_schema(tmp_path):
    with Store.create(tmp_path / "proj") as store:
        assert store.project_dir == (tmp_path / "proj").resolve()
        assert store.schema_version() == len(MIGRATIONS)
    for name in ("project.duckdb", "jobs", "runs", "exports"):
        assert (tmp_path / "proj" / name).exists()


def test_creating_over_an_existing_project_is_refused(tmp_path):
    Store.create(tmp_path / "proj").close()
    with pytest.raises(UserError, match="already an AvR Studio project"):
        Store.create(tmp_path / "proj")


def test_opening_a_folder_that_is_not_a_project_names_it(tmp_path):
    with pytest.raises(UserError, match="is not an AvR Studio project") as info:
        Store.open(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_migrating_twice_is_a_no_op_and_versions_are_recorded(tmp_path):
    Store.create(tmp_path / "proj").close()
    with Store.open(tmp_path / "proj") as store:
        assert migrate(store._db) == []
        assert applied_versions(store._db) == list(range(1, len(MIGRATIONS) + 1))
        row = store._db.row("SELECT name, applied_at FROM schema_migrations WHERE version = 1")
        assert row[0] == "m001_initial_schema" and row[1] is not None


def test_data_survives_close_and_reopen(tmp_path):
    with Store.create(tmp_path / "proj") as store:
        store.add_prompts([Prompt.from_text("Hello?")])
    with Store.open(tmp_path / "proj") as store:
        assert store.count_prompts() == 1


def test_a_transaction_that_raises_leaves_nothing_written(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.add_prompts([Prompt.from_text("one"), Prompt.from_text("two")])
        store.set_setting("x", 1)
        raise RuntimeError("boom")
    assert store.count_prompts() == 0
    assert store.get_setting("x") is None


def test_nested_transactions_join_the_outer_one(store):
    with pytest.raises(RuntimeError), store.transaction():
        with store.transaction():
            store.add_prompts([Prompt.from_text("inner")])
        raise RuntimeError("outer fails after the inner block finished")
    assert store.count_prompts() == 0
    with store.transaction(), store.transaction():
        store.add_prompts([Prompt.from_text("kept")])
    assert store.count_prompts() == 1


def test_opening_a_project_another_process_holds_names_that_process(tmp_path):
    Store.create(tmp_path / "proj").close()
    holder_code = textwrap.dedent(f"""
        import sys, duckdb
        con = duckdb.connect({str(tmp_path / "proj" / "project.duckdb")!r})
        print("holding", flush=True)
        sys.stdin.read()  # hold the file until the test closes our stdin
    """)
    holder = subprocess.Popen([sys.executable, "-c", holder_code, "--holder-marker"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(ProjectLockedError) as info:
            Store.open(tmp_path / "proj")
        message = str(info.value)
        assert f"pid {holder.pid}" in message
        assert "--holder-marker" in message  # the other process's command line
        assert "Close the project there" in message
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    Store.open(tmp_path / "proj").close()  # free again once the holder is gone


def test_only_the_store_package_imports_duckdb():
    assert duckdb.__version__  # the store's dependency is importable
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "backend"
    offenders = [str(p) for p in root.rglob("*.py")
                 if "import duckdb" in p.read_text(encoding="utf-8") and "store" not in p.parts]
    assert offenders == []

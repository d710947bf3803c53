"""A side database that a big import fills chunk by chunk, then publishes into the project at once.

DuckDB keeps the rows of an open transaction in memory, so writing a 1 GB file in one transaction
needs about that much memory. Instead each chunk is committed to a staging file beside the project
(`.import-staging-<pid>-<random>.duckdb`, its own DuckDB instance with a small memory limit), and the
project takes every staged row in one `INSERT ... SELECT` transaction, which DuckDB streams: memory
stays flat however long the file, and the import is still all or nothing. A staging file left by a
killed import is never read; opening the project removes it (`remove_stale_staging_files`).
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from backend.store.connection import Database

STAGING_PREFIX = ".import-staging-"
_STAGING_NAME = re.compile(r"^\.import-staging-(\d+)-[0-9a-f]{8}\.duckdb(\.wal)?$")
MEMORY_LIMIT = "512MB"  # per DuckDB instance while an import stages or publishes (spills beyond it)
# Tables an import writes, in the order they are published (parents before what refers to them).
_TABLES = ("prompts", "nodes", "scores", "chains", "sft_samples", "reference_answers")


@contextmanager
def staging_store(project_dir: Path) -> Iterator[Any]:
    """A fresh Store on a staging file of `project_dir` (same schema); removed when the block ends."""
    from backend.store.migrations import migrate
    from backend.store.store import Store

    path = Path(project_dir) / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}.duckdb"
    db = Database.open(path)
    try:
        db.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        # Nothing here needs to survive a crash (a killed import starts again), so no checkpoint per
        # chunk: the write-ahead log just grows until the file is published and removed.
        db.execute("SET checkpoint_threshold = '64GB'")
        migrate(db)
        yield Store(db, Path(project_dir))
    finally:
        db.close()
        _remove(path)


def _remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}.wal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def remove_stale_staging_files(project_dir: Path) -> list[Path]:
    """Staging files of imports whose process is gone (killed mid-import)."""
    import psutil

    removed = []
    with contextlib.suppress(OSError):
        for path in Path(project_dir).iterdir():
            match = _STAGING_NAME.match(path.name)
            if match and int(match.group(1)) != os.getpid() and not psutil.pid_exists(int(match.group(1))):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
    return removed


def publish_staged(store, staging) -> tuple[dict[str, int], list[str]]:
    """Copy every row of the `staging` store (closed here first) that is new to `store`, in the caller's
    transaction; scores replace older values, as `add_scores` does. Returns rows added per table and
    the prompts whose trees changed (their stats are refreshed here; their pairs are the caller's)."""
    db: Database = store._db
    path = staging._db.path
    staging.close()
    previous = db.scalar("SELECT current_setting('memory_limit')")
    db.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    db.execute(f"ATTACH '{_sql_path(path)}' AS staged (READ_ONLY)")
    try:
        with db.transaction():
            added = _publish(db)
            touched = [row[0] for row in db.rows(
                "SELECT prompt_id FROM staged.nodes UNION "
                "SELECT n.prompt_id FROM nodes n JOIN staged.scores s ON s.node_id = n.id")]
            store.refresh_prompt_stats(touched)
            latest = db.scalar("SELECT arg_max(scorer, created_at) FROM staged.scores")
            if latest is not None:
                from backend.store.scores import LATEST_SCORER_SETTING

                store.set_setting(LATEST_SCORER_SETTING, latest)
    finally:
        db.execute("DETACH staged")
        db.execute(f"SET memory_limit = '{previous}'")
    return added, sorted(touched)


def _publish(db: Database) -> dict[str, int]:
    counts = {table: int(db.scalar(f"SELECT count(*) FROM {table}")) for table in _TABLES}
    offset = db.scalar("SELECT coalesce(max(seq), 0) FROM prompts")
    db.execute("INSERT INTO prompts BY NAME SELECT * REPLACE (seq + ? AS seq) FROM staged.prompts "
               "ON CONFLICT DO NOTHING", [offset])  # after the project's own prompts, in file order
    for table in ("nodes", "chains", "sft_samples", "reference_answers"):
        db.execute(f"INSERT INTO {table} BY NAME SELECT * FROM staged.{table} ON CONFLICT DO NOTHING")
    db.execute("INSERT INTO scores BY NAME SELECT * FROM staged.scores ON CONFLICT (node_id, scorer) "
               "DO UPDATE SET value = excluded.value, created_at = excluded.created_at")
    return {table: int(db.scalar(f"SELECT count(*) FROM {table}")) - counts[table] for table in _TABLES}


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")

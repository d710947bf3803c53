"""The one adapter around a DuckDB connection: opening (with a readable lock error and a readable
"this file is damaged" error), one cursor per thread, parameterised execution, bulk inserts from Arrow
tables, and nestable transactions.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import duckdb
import psutil
import pyarrow as pa

from backend.errors import ProjectLockedError, UserError

_PID_IN_LOCK_MESSAGE = re.compile(r"PID (\d+)")


def describe_process(pid: int) -> str:
    """'pid 123 (python: python -m backend.cli ...)' — or just the pid if the process is gone."""
    try:
        proc = psutil.Process(pid)
        name = proc.name()
        command = " ".join(proc.cmdline())
    except (psutil.Error, OSError):
        return f"pid {pid}"
    return f"pid {pid} ({name}: {command})" if command else f"pid {pid} ({name})"


def lock_error(db_path: Path, exc: duckdb.Error) -> ProjectLockedError:
    match = _PID_IN_LOCK_MESSAGE.search(str(exc))
    holder = describe_process(int(match.group(1))) if match else "another process"
    return ProjectLockedError(
        f"the project {db_path.parent} is open in {holder}. "
        "Close the project there (or end that process), then open it again."
    )


class DamagedProjectError(UserError):
    """The project's database file (or its write-ahead log) cannot be read. It is left as it is."""


def damaged_error(db_path: Path, exc: BaseException) -> DamagedProjectError:
    """One line: which file, that it cannot be read, and what to do. The file is never overwritten."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    wal = Path(f"{db_path}.wal")
    culprit = wal if "WAL" in text and wal.exists() else db_path
    reason = "it is not a valid DuckDB database" if "not a valid DuckDB" in text else "it is damaged"
    if culprit == wal:
        advice = (f"move {wal.name} aside to open the project as of its last checkpoint (the newest changes are "
                  "lost; jobs' journals still hold their results), or restore a backup")
    else:
        advice = (f"restore {db_path.name} from a backup; `avr-studio doctor {db_path.parent}` says what is still "
                  "readable")
    detail = text if len(text) <= 160 else text[:157] + "..."
    return DamagedProjectError(f"{culprit} cannot be read: {reason} ({detail}). It was left as it is; {advice}.")


def database_error_message(exc: BaseException) -> str | None:
    """A one-line message for a DuckDB error met while using a project (a damaged page read mid-command),
    or None when `exc` is not a database error (a bug keeps its traceback)."""
    if not isinstance(exc, duckdb.Error):
        return None
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (f"the project database could not be read or written ({text[:200]}). If this repeats, the file is "
            "damaged: restore project.duckdb from a backup; `avr-studio doctor DIR` says what is readable.")


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "PID" in text)


class Database:
    """A DuckDB file opened by this process. SQL strings are fixed; values always go as parameters."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: Path) -> None:
        self._connection = connection
        self.path = path
        self._owner_thread = threading.get_ident()
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []

    @classmethod
    def open(cls, path: Path) -> Database:
        try:
            connection = duckdb.connect(str(path))
        except duckdb.Error as exc:
            if isinstance(exc, duckdb.IOException) and _is_lock_conflict(exc):
                raise lock_error(path, exc) from None
            if path.exists():
                raise damaged_error(path, exc) from None
            raise
        try:
            connection.execute("SELECT count(*) FROM duckdb_tables()").fetchall()  # the catalog reads
        except duckdb.Error as exc:
            connection.close()
            raise damaged_error(path, exc) from None
        # Timestamps go in and out as UTC whatever the machine's zone is.
        connection.execute("SET TimeZone = 'UTC'")
        # No query of ours needs to spill much; cap it so a bad plan fails instead of filling the disk.
        connection.execute("SET max_temp_directory_size = '8GiB'")
        return cls(connection, path)

    # --- connections -------------------------------------------------------------------------
    @property
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's connection: DuckDB connections are not thread-safe, cursors per thread are."""
        if threading.get_ident() == self._owner_thread:
            return self._connection
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._connection.cursor()
            cursor.execute("SET TimeZone = 'UTC'")
            self._local.cursor = cursor
            self._cursors.append(cursor)
        return cursor

    def close(self) -> None:
        for cursor in self._cursors:
            cursor.close()
        self._cursors.clear()
        self._connection.close()

    # --- queries -----------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> duckdb.DuckDBPyConnection:
        return self.cursor.execute(sql, params)

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple]:
        return self.cursor.execute(sql, params).fetchall()

    def row(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> tuple | None:
        # fetchall, not fetchone: DuckDB refuses other work on a connection with a half-read result.
        found = self.cursor.execute(sql, params).fetchall()
        return found[0] if found else None

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        found = self.row(sql, params)
        return None if found is None else found[0]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(sql, rows)

    @contextmanager
    def staged(self, name: str, table: pa.Table) -> Iterator[str]:
        """Expose an Arrow table to SQL as view `name` while the block runs (for bulk INSERT ... SELECT).

        `name` is always a fixed identifier from the calling module, never user input.
        """
        cursor = self.cursor
        cursor.register(name, table)
        try:
            yield name
        except BaseException:
            # A statement that failed inside a transaction aborts it, and DuckDB then refuses even the
            # unregister ("Current transaction is aborted"): the error that aborted it is the one to raise.
            with suppress(duckdb.Error):
                cursor.unregister(name)
            raise
        cursor.unregister(name)

    @contextmanager
    def id_set(self, name: str, ids: Sequence[str]) -> Iterator[str]:
        """Expose a list of ids to SQL as table `name` (one column `id`) while the block runs.

        Used instead of a list parameter (`IN (SELECT unnest(?))`): with thousands of ids inside a
        transaction that had just upserted, DuckDB 2.0.1 planned those into runaway temp-file spills.
        """
        with self.staged(name, pa.table({"id": pa.array(list(ids), pa.string())})):
            yield name

    # --- transactions ------------------------------------------------------------------------
    @property
    def _depth(self) -> int:
        return getattr(self._local, "depth", 0)

    @_depth.setter
    def _depth(self, value: int) -> None:
        self._local.depth = value

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing. Inside an outer transaction this is a no-op: the outer one decides."""
        if self._depth > 0:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        cursor = self.cursor
        cursor.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            cursor.execute("ROLLBACK")
            raise
        self._depth = 0
        cursor.execute("COMMIT")

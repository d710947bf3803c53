"""Write rows as JSONL, a JSON list or Parquet, atomically: a temp file beside the target, then a rename.

A temp file is named after the process writing it (`.<name>.avr-<pid>-<random>.tmp`), so one left by
a writer that was killed can be told from one being written: the next write beside it removes it,
and opening a project removes those of its exports (`remove_stale_temp_files`, with a ledger of the
temp files an export is writing under `<project>/exports/.writing/`). A file-system error (read-only
folder, a folder where a file should go, a full disk) is a one-line `BadInputError` naming the path.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backend.errors import BadInputError

FILE_FORMATS = ("jsonl", "json", "parquet")
_BY_SUFFIX = {".jsonl": "jsonl", ".json": "json", ".parquet": "parquet"}
_TEMP_NAME = re.compile(r"^\..+\.avr-(\d+)-[0-9a-f]{8}\.tmp$")
LEDGER_DIR = ".writing"  # under a project's exports/: one file per temp file being written, naming it

# Where the export running in this context records its temp files (None: no project, no ledger).
_ledger: contextvars.ContextVar[Path | None] = contextvars.ContextVar("export_ledger", default=None)


def file_format_of(out: Path) -> str:
    file_format = _BY_SUFFIX.get(out.suffix.lower())
    if file_format is None:
        raise BadInputError(f"{out}: the output must end in .jsonl, .json or .parquet "
                            "(the extension chooses the file format)")
    return file_format


@contextlib.contextmanager
def ledger(folder: Path | None) -> Iterator[None]:
    """Record the temp files written inside the block under `folder` (a project's exports/.writing)."""
    token = _ledger.set(folder)
    try:
        yield
    finally:
        _ledger.reset(token)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    import psutil

    return psutil.pid_exists(pid)


def _stale(path: Path) -> bool:
    match = _TEMP_NAME.match(path.name)
    return match is not None and not _pid_alive(int(match.group(1)))


def remove_stale_temp_files(folder: Path, ledger_folder: Path | None = None) -> list[Path]:
    """Remove temp files of killed writers in `folder` and those a ledger lists; returns what went."""
    removed: list[Path] = []
    candidates: list[Path] = []
    with contextlib.suppress(OSError):
        candidates += [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    entries: list[Path] = []
    if ledger_folder is not None:
        with contextlib.suppress(OSError):
            entries = [p for p in ledger_folder.iterdir() if p.is_file()]
        for entry in entries:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                candidates.append(Path(entry.read_text(encoding="utf-8").strip()))
    for path in candidates:
        if _stale(path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    for entry in entries:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            if _stale(Path(entry.read_text(encoding="utf-8").strip())):
                entry.unlink()
    return removed


@contextlib.contextmanager
def atomic_path(out: Path) -> Iterator[Path]:
    """Yield a temp path to write; it replaces `out` only if the block finishes without error."""
    try:
        if out.is_dir():
            raise BadInputError(f"{out} is a folder; give a file name for the output")
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(out, exc) from None
    remove_stale_temp_files(out.parent)
    temp = out.with_name(f".{out.name}.avr-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    entry = _register(temp)
    try:
        try:
            yield temp
            os.replace(temp, out)  # atomic on one file system: readers see the old file or the new one
        except OSError as exc:
            raise _write_error(out, exc) from None
    finally:
        temp.unlink(missing_ok=True)
        if entry is not None:
            entry.unlink(missing_ok=True)


def _register(temp: Path) -> Path | None:
    folder = _ledger.get()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        entry = folder / temp.name
        entry.write_text(str(temp.resolve()), encoding="utf-8")
    except OSError:
        return None  # the ledger only speeds up cleaning; writing the export matters more
    return entry


def _write_error(out: Path, exc: OSError) -> BadInputError:
    reason = exc.strerror or str(exc)
    return BadInputError(f"cannot write {out}: {reason}. Choose another output path, or check the folder's "
                         "permissions and free space")


def write_rows(rows: list[dict[str, Any]], out: Path, file_format: str) -> None:
    rows = _same_keys(rows)
    with atomic_path(out) as temp:
        if file_format == "jsonl":
            with temp.open("w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps(row, ensure_ascii=False))
                    handle.write("\n")
        elif file_format == "json":
            with temp.open("w", encoding="utf-8") as handle:
                json.dump(rows, handle, ensure_ascii=False, indent=1)
                handle.write("\n")
        elif file_format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist(rows), temp)
        else:
            raise BadInputError(f"unknown file format {file_format!r}; choose one of {', '.join(FILE_FORMATS)}")


def write_json(value: Any, out: Path) -> None:
    with atomic_path(out) as temp:
        temp.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _same_keys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every row the same keys (None where missing) so Parquet and `datasets` see one schema."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    if all(len(row) == len(keys) for row in rows):
        return rows
    return [{key: row.get(key) for key in keys} for row in rows]

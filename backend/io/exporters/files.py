"""Write rows as JSONL, a JSON list or Parquet, atomically: a temp file beside the target, then a rename."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backend.errors import BadInputError

FILE_FORMATS = ("jsonl", "json", "parquet")
_BY_SUFFIX = {".jsonl": "jsonl", ".json": "json", ".parquet": "parquet"}


def file_format_of(out: Path) -> str:
    file_format = _BY_SUFFIX.get(out.suffix.lower())
    if file_format is None:
        raise BadInputError(f"{out}: the output must end in .jsonl, .json or .parquet "
                            "(the extension chooses the file format)")
    return file_format


@contextlib.contextmanager
def atomic_path(out: Path) -> Iterator[Path]:
    """Yield a temp path to write; it replaces `out` only if the block finishes without error."""
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield temp
        os.replace(temp, out)  # atomic on one file system: readers see the old file or the new one
    finally:
        temp.unlink(missing_ok=True)


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

"""Read records (dicts) out of JSONL, JSON lists, Parquet and `datasets` folders, each with its place in the file.

A record that cannot be read (bad JSON, not an object) comes back as a `SourceRecord` with `error`
set, so the importer can report or skip it by line number. So does valid JSON that Python's reader
or the database cannot take: a lone UTF-16 surrogate escape (text cut in the middle of an emoji), an
integer of more than 4,300 digits, nesting deeper than the reader's recursion limit. Heavy readers
(pyarrow, datasets) are imported only when such a file is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from backend.errors import BadInputError

SOURCE_KINDS = ("jsonl", "json", "parquet", "hf-dataset")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet"}
# A \uD800-\uDFFF escape: half of a surrogate pair, which is fine only next to its other half.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class SourceRecord(NamedTuple):  # a tuple: one is made per record, so it must be cheap
    line: int  # 1-based line (JSON, JSONL) or row (Parquet, datasets)
    value: dict[str, Any] | None
    error: str | None = None
    unit: str = "line"  # "line", "row" or "split 'test' row"

    @property
    def where(self) -> str:
        return f"{self.unit} {self.line}"


def source_kind_of(path: Path) -> str:
    """Which reader a path needs, from its extension (a folder is a `save_to_disk` dataset)."""
    if path.is_dir():
        return "hf-dataset"
    kind = _EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        raise BadInputError(
            f"{path}: unknown file type {path.suffix or '(no extension)'!r}; import a .jsonl, .json or "
            ".parquet file, or a folder written by datasets' save_to_disk")
    if kind == "json" and _first_char(path) == "{":
        return "jsonl"  # a .json file holding one object per line
    return kind


def count_records(path: Path, kind: str) -> int | None:
    """A cheap upper bound on the number of records, for progress bars (None when unknown)."""
    if kind != "jsonl":
        return None
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def read_records(path: Path, kind: str) -> Iterator[SourceRecord]:
    readers = {"jsonl": _read_jsonl, "json": _read_json_list, "parquet": _read_parquet,
               "hf-dataset": _read_hf_dataset}
    return readers[kind](path)


def _first_char(path: Path) -> str:
    with path.open(encoding="utf-8", errors="replace") as handle:
        while chunk := handle.read(4096):
            stripped = chunk.lstrip("\ufeff \t\r\n")
            if stripped:
                return stripped[0]
    return ""


def _as_record(line: int, value: Any, unit: str = "line") -> SourceRecord:
    if isinstance(value, dict):
        return SourceRecord(line, value, None, unit)
    return SourceRecord(line, None, f"expected a JSON object, found {type(value).__name__}", unit)


def unreadable_reason(exc: BaseException) -> str:
    """Why valid-looking JSON could not be read, in words (for the errors json.loads raises besides
    JSONDecodeError).

    >>> unreadable_reason(RecursionError())
    'nested too deeply to read (more levels than Python can follow)'
    """
    if isinstance(exc, RecursionError):
        return "nested too deeply to read (more levels than Python can follow)"
    if "digits" in str(exc):
        return "a number with more than 4,300 digits (too long to read as a number)"
    return f"unreadable JSON ({exc})"


def lone_surrogate(value: Any) -> bool:
    """Whether a decoded JSON value holds a string with half of a UTF-16 surrogate pair (such text
    cannot be stored or written as UTF-8).

    >>> lone_surrogate({"a": ["x" + chr(0xD83D)]}), lone_surrogate({"a": "x" + chr(0x1F600)})
    (True, False)
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


LONE_SURROGATE = ("text with half of a UTF-16 surrogate pair (e.g. an emoji cut in two); fix the text "
                  "or skip the record")


def _read_jsonl(path: Path) -> Iterator[SourceRecord]:
    loads = json.loads
    with path.open("rb") as handle:  # bytes: a line that is not UTF-8 is one bad record, not a crash
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue  # blank lines (a trailing newline, spacing) are not records
            try:
                value = loads(raw)
            except json.JSONDecodeError as exc:
                yield SourceRecord(number, None, f"bad JSON ({exc.msg} at column {exc.colno})")
                continue
            except UnicodeDecodeError:
                yield SourceRecord(number, None, "not UTF-8 text (save the file as UTF-8)")
                continue
            except (ValueError, RecursionError) as exc:
                yield SourceRecord(number, None, unreadable_reason(exc))
                continue
            if _SURROGATE_ESCAPE_BYTES.search(raw) and lone_surrogate(value):  # the check runs only when it may hit
                yield SourceRecord(number, None, LONE_SURROGATE)
                continue
            yield SourceRecord(number, value) if type(value) is dict else _as_record(number, value)


def _read_json_list(path: Path) -> Iterator[SourceRecord]:
    """Walk a JSON list element by element, so each record knows the line it starts on."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    decoder = json.JSONDecoder()
    start = len(text) - len(text.lstrip())
    if start == len(text):
        return
    if text[start] != "[":
        raise BadInputError(f"{path}: expected a JSON list of records (or one JSON object per line); "
                            "the file starts with something else")
    index, line, counted_to = start + 1, 1, 0
    while True:
        index = _skip_space(text, index)
        if index < len(text) and text[index] == "]":
            return
        line += text.count("\n", counted_to, index)
        counted_to = index
        start_index = index
        try:
            value, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            raise BadInputError(f"{path}: line {exc.lineno}: bad JSON ({exc.msg}); a JSON list cannot be "
                                "read past a syntax error, so fix that line and import again") from None
        except (ValueError, RecursionError) as exc:  # well-formed, but too deep or too long to read
            reason = unreadable_reason(exc)
            index = _end_of_value(text, start_index)
            if index < 0:
                raise BadInputError(f"{path}: line {line}: {reason}, and the list cannot be read past it") from None
            yield SourceRecord(line, None, reason)
        else:
            if _SURROGATE_ESCAPE.search(text, start_index, index) and lone_surrogate(value):
                yield SourceRecord(line, None, LONE_SURROGATE)
            else:
                yield _as_record(line, value)
        index = _skip_space(text, index)
        if index < len(text) and text[index] == ",":
            index += 1
        elif index >= len(text) or text[index] != "]":
            bad_line = text.count("\n", 0, index) + 1
            raise BadInputError(f"{path}: line {bad_line}: bad JSON (expected ',' or ']' between "
                                "records); fix that line and import again")


def _end_of_value(text: str, index: int) -> int:
    """Where the JSON value starting at `index` ends, found by counting brackets outside strings (for a
    value the decoder could not build); -1 if the text ends first.

    >>> _end_of_value('[[1, "]"], 2], 3', 0)
    13
    """
    depth, position, in_string = 0, index, False
    length = len(text)
    while position < length:
        char = text[position]
        if in_string:
            if char == "\\":
                position += 1
            elif char == '"':
                in_string = False
                if depth == 0:
                    return position + 1
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth <= 0:
                return position + 1
        elif depth == 0 and char in ",\n\r\t ":
            return position
        position += 1
    return -1 if depth or in_string else position


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _read_parquet(path: Path) -> Iterator[SourceRecord]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise BadInputError(f"{path}: not a readable Parquet file ({exc})") from None
    row = 0
    for batch in parquet.iter_batches(batch_size=8192):
        for value in batch.to_pylist():
            row += 1
            yield SourceRecord(row, value, None, "row")


def _read_hf_dataset(path: Path) -> Iterator[SourceRecord]:
    try:
        from datasets import Dataset, load_from_disk
    except ImportError:  # pragma: no cover - datasets is a dependency
        raise BadInputError("importing a datasets folder needs the 'datasets' package") from None
    try:
        loaded = load_from_disk(str(path))
    except Exception as exc:  # FileNotFoundError or datasets' own errors for a foreign folder
        raise BadInputError(f"{path}: not a folder written by datasets' save_to_disk ({exc})") from None
    splits = {"": loaded} if isinstance(loaded, Dataset) else dict(loaded)
    for split, dataset in splits.items():
        unit = f"split {split!r} row" if split else "row"
        for row, value in enumerate(dataset.to_list(), start=1):
            yield SourceRecord(row, value, None, unit)

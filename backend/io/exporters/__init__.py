"""Export a project's pairs, RSFT samples or long thoughts for training elsewhere (TRL, LLaMA-Factory, AvR layout).

`export` reads from the store; `export_rows` does the same from plain lists, so callers that built
pairs themselves (or tests) need no store. Files are written atomically; an export from a project
lists its temp files under `<project>/exports/.writing/` so that opening the project removes those a
killed export left (`backend.io.exporters.files.remove_stale_temp_files`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from backend.domain import Pair, SftSample
from backend.errors import BadInputError, UserError
from backend.io.exporters import rows as row_layouts
from backend.io.exporters.files import FILE_FORMATS, LEDGER_DIR, file_format_of, ledger, write_rows
from backend.io.exporters.llamafactory import write_folder
from backend.io.reports import ExportReport

EXPORT_KINDS = ("pairs", "sft", "long-thought")
EXPORT_FORMATS = ("trl", "llamafactory", "avr")
# export kind -> SftSample kinds: the RSFT set is the trees' samples plus the reference mix.
_SFT_KINDS = {"sft": ("rsft", "reference"), "long-thought": ("long_thought",)}
_SOURCE_NAMES = {"rsft": "from trees", "reference": "from reference answers", "long_thought": "long thoughts"}
_PAIR_ROWS = {"trl": row_layouts.trl_pair_row, "llamafactory": row_layouts.sharegpt_pair_row,
              "avr": row_layouts.avr_pair_row}
_SFT_ROWS = {"trl": row_layouts.trl_sft_row, "llamafactory": row_layouts.sharegpt_sft_row,
             "avr": row_layouts.avr_sft_row}


def export(store: Any, kind: str, format: str, out: Path | str, file_format: str | None = None,
           pair_kind: str | None = None, decided_by: str | None = None) -> ExportReport:
    """Write the project's `kind` data in `format` to `out` (a file; a folder for llamafactory).

    `file_format` (jsonl, json, parquet) defaults to `out`'s extension, or json for a LLaMA-Factory
    folder. `pair_kind` limits a pairs export to one pair kind (response, criticism, ...);
    `decided_by` to the pairs a person ("human") or the reward ("reward") decided.
    """
    _check_choice("kind", kind, EXPORT_KINDS)
    if decided_by is not None and (kind != "pairs" or decided_by not in ("human", "reward")):
        raise BadInputError("decided_by limits a pairs export to 'human' or 'reward' pairs")
    if kind == "pairs":
        items: Sequence[Pair | SftSample] = [p for p in store.pairs(kind=pair_kind)
                                             if decided_by is None or p.decided_by == decided_by]
    else:
        items = store.sft_samples(kind=_SFT_KINDS[kind])
    if not items:
        deciders = {"human": " decided by a person", "reward": " decided by the reward"}
        what = (f"{pair_kind} pairs" if pair_kind else "pairs" if kind == "pairs"
                else kind.replace("-", " ") + " samples") + deciders.get(decided_by or "", "")
        raise UserError(f"nothing to export: the project has no {what} yet; build them first "
                        "(curate trees, then build pairs / samples)")
    with ledger(Path(store.exports_dir) / LEDGER_DIR):
        return export_rows(items, kind, format, out, file_format)


def export_rows(items: Sequence[Pair | SftSample], kind: str, format: str, out: Path | str,
                file_format: str | None = None) -> ExportReport:
    started = time.perf_counter()
    _check_choice("kind", kind, EXPORT_KINDS)
    _check_choice("format", format, EXPORT_FORMATS)
    out = Path(out)
    if file_format is None:
        file_format = "json" if format == "llamafactory" else file_format_of(out)
    _check_choice("file format", file_format, FILE_FORMATS)
    to_row = _PAIR_ROWS[format] if kind == "pairs" else _SFT_ROWS[format]
    rows = [to_row(item) for item in items]
    if format == "llamafactory":
        files = write_folder(rows, out, kind, file_format)
    else:
        write_rows(rows, out, file_format)
        files = [out]
    sources: dict[str, int] = {}
    if kind == "sft":  # say how much of the RSFT set came from trees and how much from reference answers
        for name in _SFT_KINDS["sft"]:
            sources[_SOURCE_NAMES[name]] = sum(1 for item in items if item.kind == name)
    return ExportReport(path=out, kind=kind, format=format, file_format=file_format, rows=len(rows),
                        files=files, seconds=time.perf_counter() - started, sources=sources)


def _check_choice(what: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise BadInputError(f"unknown export {what} {value!r}; choose one of {', '.join(choices)}")

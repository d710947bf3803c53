"""`avr-studio import` and `avr-studio export`: files in and training data out of a project, headless."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backend.domain import PAIR_KINDS
from backend.io import EXPORT_FORMATS, EXPORT_KINDS, FORMAT_CHOICES, export, import_file

_PROGRESS_FROM = 10_000  # records; smaller files finish before a bar would be worth drawing


def register(subparsers: argparse._SubParsersAction) -> None:
    importer = subparsers.add_parser(
        "import", help="import prompts, reference answers, Stage I trees, Stage II chains or long thoughts",
        description="Import a JSONL / JSON / Parquet file or a datasets save_to_disk folder: plain prompts, "
        "UltraFeedback-style rows (the chosen answer becomes the prompt's reference answer), the AvR authors' "
        "Stage I scoring detail, their Stage II greedy-chain records, or long-thought SFT rows. Re-importing "
        "a file adds nothing; a malformed record stops the import (nothing is written) unless --skip-bad. "
        "The summary names the layout used and the fields it had no place for.")
    importer.add_argument("project", type=Path, metavar="DIR", help="project folder")
    importer.add_argument("file", type=Path, metavar="FILE", help="file or datasets folder to import")
    importer.add_argument("--format", choices=FORMAT_CHOICES, default="auto",
                          help="record layout (default: detect from the extension and the first record)")
    importer.add_argument("--skip-bad", action="store_true",
                          help="skip malformed records (each is listed) and import the rest")
    importer.set_defaults(func=run_import)

    exporter = subparsers.add_parser(
        "export", help="export pairs, the RSFT set (tree samples + reference mix) or long thoughts for training",
        description="Export training data. The extension of --out picks the file format (.jsonl, .json, "
        ".parquet); for --format llamafactory, --out is a folder that gets a dataset_info.json.")
    exporter.add_argument("project", type=Path, metavar="DIR", help="project folder")
    exporter.add_argument("--kind", choices=EXPORT_KINDS, required=True, help="what to export")
    exporter.add_argument("--format", choices=EXPORT_FORMATS, default="trl", help="layout (default: trl)")
    exporter.add_argument("--out", type=Path, required=True, metavar="PATH", help="output file or folder")
    exporter.add_argument("--pair-kind", choices=PAIR_KINDS, default=None,
                          help="with --kind pairs: only pairs of this kind (default: all)")
    exporter.set_defaults(func=run_export)


def run_import(args: argparse.Namespace) -> int:
    from backend.cli.opening import open_project

    with _ProgressBar() as bar:
        store = open_project(args.project)
        try:
            report = import_file(store, args.file, format=args.format, skip_bad=args.skip_bad,
                                 progress=bar.update)
        finally:
            _close(store)
    print(report.summary())
    return 0


def run_export(args: argparse.Namespace) -> int:
    from backend.cli.opening import open_project

    store = open_project(args.project)
    try:
        report = export(store, args.kind, args.format, args.out, pair_kind=args.pair_kind)
    finally:
        _close(store)
    print(report.summary())
    return 0


def _close(store: object) -> None:
    close = getattr(store, "close", None)
    if close:
        close()


class _ProgressBar:
    """A tqdm bar on stderr, drawn only for big files."""

    def __init__(self) -> None:
        self._bar = None

    def update(self, done: int, total: int | None) -> None:
        if self._bar is None:
            if (total or done) < _PROGRESS_FROM:
                return
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="rec", file=sys.stderr, desc="reading", leave=False)
        self._bar.update(done - self._bar.n)

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

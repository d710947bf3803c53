"""Import a file into a project: pick the reader and record format, convert every record, write all or nothing.

Records are converted and written in chunks of `CHUNK_RECORDS`: a small file inside one transaction,
a big one through a staging database published in one transaction (`backend.store.import_staging`),
so memory stays flat however long the file is, and a malformed record (reported by line) leaves the
project untouched. With `skip_bad` the bad records are listed and the good ones written; a
file with no good record at all is refused either way. Ids are content hashes, so importing the same
file again adds nothing. The report says which layout was used (detected or chosen) and which fields
of the records had no place in it; a file in one of the AvR authors' layouts that holds training
data rather than prompts or trees is refused.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from backend.collector import collector_paused
from backend.errors import BadInputError
from backend.io.importers import avr_greedy_chain, avr_stage1, long_thought, prompts, ultrafeedback
from backend.io.importers.common import ImportContext, ImportItems, RecordError
from backend.io.importers.writing import NewCounts, write_items
from backend.io.reports import ImportReport, SkippedRecord
from backend.io.sources import SourceRecord, count_records, read_records, source_kind_of

RECORD_FORMATS = ("prompts", "ultrafeedback", "avr-stage1", "avr-greedy-chain", "long-thought")
FORMAT_CHOICES = ("auto", *RECORD_FORMATS, "hf-dataset")
_CONVERTERS = {"prompts": prompts, "ultrafeedback": ultrafeedback, "avr-stage1": avr_stage1,
               "avr-greedy-chain": avr_greedy_chain, "long-thought": long_thought}
# Most specific first: a Stage I line also has `messages`, a long thought is also a prompt record.
_DETECTION_ORDER = ("avr-greedy-chain", "avr-stage1", "long-thought", "ultrafeedback", "prompts")
# The authors' layouts of training data (not prompts or trees): detected so that they are not taken
# for prompt records and imported with everything but the prompt silently lost.
_TRAINING_LAYOUTS = (
    ("the AvR authors' DPO pair layout (messages + chosen + rejected as single messages)",
     lambda r: isinstance(r.get("chosen"), dict) and isinstance(r.get("rejected"), dict)),
    ("the AvR authors' Stage I filtered layout (refinement, best_judgement, worst_judgement)",
     lambda r: "best_judgement" in r or "worst_judgement" in r or isinstance(r.get("refinement"), dict)),
    ("the AvR authors' Stage II DPO scoring layout (best_record + worst_record)",
     lambda r: "worst_record" in r),
)
_PROGRESS_EVERY = 2000
CHUNK_RECORDS = 5000  # records converted and written at a time: bounds memory, keeps bulk inserts large
STAGE_FROM_BYTES = 32 << 20  # a file this big is staged (`backend.store.import_staging`), a smaller one
# is written in one transaction (DuckDB keeps an open transaction's rows in memory: ~2x the file)
REFRESH_PROMPTS = 5000  # prompts whose pairs are rebuilt per transaction after a staged import
# What a converter may raise on a record of an unexpected shape that its checks did not foresee: the
# record is reported as bad (with the error), never the whole import a traceback.
_CONVERSION_ERRORS = (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError)

Progress = Callable[[int, int | None], None]  # (records done, records expected or None)


def import_file(store: Any, path: Path | str, format: str | None = None, skip_bad: bool = False,
                progress: Progress | None = None) -> ImportReport:
    """Import one file (or `save_to_disk` folder) into `store`; see the module docstring.

    `format`: None / "auto" to detect from the extension and the first record's fields, one of
    RECORD_FORMATS to force the record layout, or "hf-dataset" to read a datasets folder.
    """
    with collector_paused():  # a big file converts to hundreds of thousands of small objects
        return _import_file(store, Path(path), format, skip_bad, progress)


def _import_file(store: Any, path: Path, format: str | None, skip_bad: bool,
                 progress: Progress | None) -> ImportReport:
    started = time.perf_counter()
    if not path.exists():
        raise BadInputError(f"{path}: no such file or folder")
    format = format or "auto"
    if format not in FORMAT_CHOICES:
        raise BadInputError(f"unknown import format {format!r}; choose one of {', '.join(FORMAT_CHOICES)}")
    if format == "hf-dataset" and not path.is_dir():
        raise BadInputError(f"{path}: the hf-dataset format needs a folder written by datasets' save_to_disk")
    source_kind = source_kind_of(path)
    records = read_records(path, source_kind)
    buffered, first = _peek_first_good(records)
    if first is None and not buffered:
        raise BadInputError(f"{path}: the file is empty; there are no records to import")
    detected = format not in RECORD_FORMATS
    record_format = _detect(path, first) if detected else format
    report = ImportReport(path=path, format=record_format, detected=detected)

    expected = count_records(path, source_kind) if progress else None
    run = _ImportRun(_CONVERTERS[record_format], ImportContext(source=path.name), report, skip_bad, progress,
                     expected)
    all_records = itertools.chain(buffered, records)
    if _size(path) < STAGE_FROM_BYTES:
        with store.transaction():  # all or nothing: a bad record (without skip_bad) rolls every chunk back
            scores_before, chains_before = _score_and_chain_totals(store)
            written = run.write_all(store, all_records, path, refresh=True)
            scores_after, chains_after = _score_and_chain_totals(store)
        report.new_prompts, report.new_nodes = written.prompts, written.nodes
        report.new_scores, report.new_chains = scores_after - scores_before, chains_after - chains_before
        report.new_sft_samples, report.new_references = written.sft_samples, written.references
    else:
        _import_staged(store, run, all_records, path)
    report.seconds = time.perf_counter() - started
    return report


def _import_staged(store: Any, run: _ImportRun, records: Iterator[SourceRecord], path: Path) -> None:
    """A big file: chunks committed to a staging database (flat memory), then published in one
    transaction; the touched prompts' pairs are rebuilt after it, a chunk of prompts at a time."""
    from backend.curation.derived import refresh_pairs
    from backend.store.import_staging import publish_staged, staging_store

    report = run.report
    with staging_store(store.project_dir) as staging:
        run.write_all(staging, records, path, refresh=False)
        with store.transaction():
            added, touched = publish_staged(store, staging)
    report.new_prompts, report.new_nodes, report.new_scores = added["prompts"], added["nodes"], added["scores"]
    report.new_chains, report.new_sft_samples = added["chains"], added["sft_samples"]
    report.new_references = added["reference_answers"]
    for start in range(0, len(touched), REFRESH_PROMPTS):  # derived data: each slice in its own transaction
        with store.transaction():
            refresh_pairs(store, touched[start:start + REFRESH_PROMPTS])


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class _ImportRun:
    """Reads, converts and writes the records of one file, a chunk at a time."""

    def __init__(self, converter: Any, context: ImportContext, report: ImportReport, skip_bad: bool,
                 progress: Progress | None, expected: int | None) -> None:
        self.converter, self.context, self.report = converter, context, report
        self.skip_bad, self.progress, self.expected = skip_bad, progress, expected

    def write_all(self, target: Any, records: Iterator[SourceRecord], path: Path, refresh: bool) -> NewCounts:
        """Convert every record, writing each full chunk to `target`; raises BadInputError (after reading
        to the end, to count them) when a record is bad and bad records are not skipped, or when no
        record is good."""
        report, chunk, written = self.report, _Collected(), NewCounts()
        for done, record in enumerate(records, start=1):
            if self.progress and done % _PROGRESS_EVERY == 0:
                self.progress(done, self.expected)
            writing = self.skip_bad or not report.skipped  # else only counting the bad records
            reason = _convert_into(chunk if writing else None, self.converter, record, self.context, report)
            if reason is not None:
                report.skipped.append(SkippedRecord(record.line, reason, record.where))
            elif chunk.records >= CHUNK_RECORDS and writing:
                written += write_items(target, chunk.items(), refresh_derived=refresh)
                chunk.clear()
        if self.progress:
            self.progress(report.records + len(report.skipped), self.expected)
        if report.skipped and not self.skip_bad:
            raise BadInputError(_bad_records_message(path, report.skipped))
        if report.records == 0:
            raise BadInputError(f"{path}: none of its {len(report.skipped)} records could be imported "
                                f"({report.skipped[0]}); nothing was imported")
        return written + write_items(target, chunk.items(), refresh_derived=refresh)


def _convert_into(chunk: _Collected | None, converter: Any, record: SourceRecord, context: ImportContext,
                  report: ImportReport) -> str | None:
    """Convert one record into `chunk` (None: only check it); the reason it is bad, or None."""
    if record.error is not None:
        return record.error
    try:
        items = converter.convert(record.value, context)
    except RecordError as exc:
        return str(exc)
    except _CONVERSION_ERRORS as exc:
        return f"a record of an unexpected shape ({type(exc).__name__}: {str(exc)[:120]})"
    if chunk is not None:
        chunk.add(items)
    report.ignored_fields.update(items.ignored)
    report.dropped_chains.update(items.dropped)
    report.records += 1
    return None


def _score_and_chain_totals(store: Any) -> tuple[int, int]:
    """Scores and chains in the project: their growth is what an import added (add_scores counts rows
    written by an upsert, add_chain returns nothing)."""
    stats = store.stats()
    return sum(stats["scores"].values()), int(stats["chains"])


def detect_format(record: dict[str, Any]) -> str | None:
    """The record format a record's fields suggest, or None."""
    for name in _DETECTION_ORDER:
        if _CONVERTERS[name].looks_like(record):
            return name
    return None


def _detect(path: Path, first: SourceRecord | None) -> str:
    if first is None:  # every record is bad; let the record checks report them as prompts
        return "prompts"
    for layout, matches in _TRAINING_LAYOUTS:
        if matches(first.value):
            raise BadInputError(
                f"{path}: {first.where}: this is {layout}: training data, which cannot be imported as it is. "
                f"Layouts that import: {', '.join(RECORD_FORMATS)}; to take only its prompts, import with "
                "--format prompts")
    found = detect_format(first.value)
    if found is None:
        fields = ", ".join(sorted(first.value)[:12]) or "(none)"
        raise BadInputError(
            f"{path}: {first.where}: cannot tell the format from its fields ({fields}); a record needs "
            "'prompt', 'instruction', 'text' or 'messages' (or 'chosen', 'refinements' or 'iterations'); "
            f"choose the format with --format ({', '.join(FORMAT_CHOICES[1:])})")
    return found


def _peek_first_good(records: Iterator[SourceRecord]) -> tuple[list[SourceRecord], SourceRecord | None]:
    buffered = []
    for record in records:
        buffered.append(record)
        if record.error is None:
            return buffered, record
    return buffered, None


def _bad_records_message(path: Path, skipped: list[SkippedRecord]) -> str:
    first = skipped[0]
    more = f" (and {len(skipped) - 1} more bad records)" if len(skipped) > 1 else ""
    return (f"{path}: {first.where}: {first.reason}{more}. Nothing was imported; fix the file, "
            "or import with --skip-bad to skip bad records")


class _Collected:
    """One chunk's converted records, deduplicated by id (a file may repeat a prompt or an answer;
    across chunks the store keeps the first prompt, node, chain and reference, and the last score)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.records = 0
        self.prompts: dict[str, Any] = {}
        self.nodes: dict[str, Any] = {}
        self.scores: dict[tuple[str, str], Any] = {}
        self.chains: dict[str, Any] = {}
        self.sft_samples: dict[str, Any] = {}
        self.references: dict[str, Any] = {}

    def add(self, items: ImportItems) -> None:
        self.records += 1
        for prompt in items.prompts:
            self.prompts.setdefault(prompt.id, prompt)
        for node in items.nodes:
            self.nodes.setdefault(node.id, node)
        for score in items.scores:
            self.scores[(score.node_id, score.scorer)] = score  # the last one wins, as in the store
        for chain in items.chains:
            self.chains.setdefault(chain.id, chain)
        for sample in items.sft_samples:
            self.sft_samples.setdefault(sample.id, sample)
        for reference in items.references:
            self.references.setdefault(reference.prompt_id, reference)  # the first one stays, as in the store

    def items(self) -> ImportItems:
        return ImportItems(prompts=list(self.prompts.values()), nodes=list(self.nodes.values()),
                           scores=list(self.scores.values()), chains=list(self.chains.values()),
                           sft_samples=list(self.sft_samples.values()), references=list(self.references.values()))


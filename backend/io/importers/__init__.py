"""Import a file into a project: pick the reader and record format, convert every record, write all or nothing.

Every record is converted before anything is written, so a malformed record (reported by line)
leaves the project untouched; with `skip_bad` the bad records are listed and the good ones written.
Ids are content hashes, so importing the same file again adds nothing. The report says which layout
was used (detected or chosen) and which fields of the records had no place in it; a file in one of
the AvR authors' layouts that holds training data rather than prompts or trees is refused.
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
from backend.io.importers.writing import write_items
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

    converter = _CONVERTERS[record_format]
    collected = _Collected()
    expected = count_records(path, source_kind) if progress else None
    context = ImportContext(source=path.name)
    for done, record in enumerate(itertools.chain(buffered, records), start=1):
        if progress and done % _PROGRESS_EVERY == 0:
            progress(done, expected)
        if record.error is None:
            try:
                items = converter.convert(record.value, context)
                collected.add(items)
                report.ignored_fields.update(items.ignored)
                report.dropped_chains.update(items.dropped)
                report.records += 1
                continue
            except RecordError as exc:
                reason = str(exc)
        else:
            reason = record.error
        report.skipped.append(SkippedRecord(record.line, reason, record.where))
    if progress:
        progress(report.records + len(report.skipped), expected)

    if report.skipped and not skip_bad:
        raise BadInputError(_bad_records_message(path, report.skipped))
    counts = write_items(store, collected.items())
    report.new_prompts, report.new_nodes, report.new_scores = counts.prompts, counts.nodes, counts.scores
    report.new_chains, report.new_sft_samples = counts.chains, counts.sft_samples
    report.new_references = counts.references
    report.seconds = time.perf_counter() - started
    return report


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
    """Everything converted so far, deduplicated by id (a file may repeat a prompt or an answer)."""

    def __init__(self) -> None:
        self.prompts: dict[str, Any] = {}
        self.nodes: dict[str, Any] = {}
        self.scores: dict[tuple[str, str], Any] = {}
        self.chains: dict[str, Any] = {}
        self.sft_samples: dict[str, Any] = {}
        self.references: dict[str, Any] = {}

    def add(self, items: ImportItems) -> None:
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


"""What an import or an export did: counts, skipped records and time, ready to print or to show."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SkippedRecord:
    """A record left out by `skip_bad`: where it is in the file (1-based) and what was wrong."""

    line: int  # line number in a JSON / JSONL file, row number in Parquet or a datasets folder
    reason: str
    where: str = ""  # "line 3", "row 7", "split 'test' row 2"

    def __str__(self) -> str:
        return f"{self.where or f'line {self.line}'}: {self.reason}"


@dataclass
class ImportReport:
    path: Path
    format: str  # the record format used: one of backend.io.importers.RECORD_FORMATS
    records: int = 0  # good records read (skipped ones not counted)
    new_prompts: int = 0
    new_nodes: int = 0
    new_scores: int = 0
    new_chains: int = 0
    new_sft_samples: int = 0  # long-thought files are SFT data as they stand
    new_references: int = 0  # reference answers (UltraFeedback `chosen`)
    detected: bool = True  # the format was detected from the records (False: the caller chose it)
    ignored_fields: Counter[str] = field(default_factory=Counter)  # field -> records whose field was not imported
    dropped_chains: Counter[str] = field(default_factory=Counter)  # reason -> chains stored without a long thought
    skipped: list[SkippedRecord] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def new_total(self) -> int:
        return (self.new_prompts + self.new_nodes + self.new_scores + self.new_chains + self.new_sft_samples
                + self.new_references)

    def summary(self) -> str:
        """A few human lines, e.g. for the CLI or a status bar."""
        how = "detected" if self.detected else "chosen"
        lines = [
            f"imported {self.path.name} as {self.format} ({how}): {self.records} records in {self.seconds:.2f} s",
            f"new: {self.new_prompts} prompts, {self.new_nodes} nodes, {self.new_scores} scores, "
            f"{self.new_chains} chains, {self.new_sft_samples} sft samples, {self.new_references} reference answers",
        ]
        if self.ignored_fields:
            fields = ", ".join(f"{name} ({count} records)" for name, count in sorted(self.ignored_fields.items()))
            lines.append(f"not imported (no place for them in the {self.format} layout): {fields}")
        if self.dropped_chains:
            reasons = "; ".join(f"{reason} ({count})" for reason, count in self.dropped_chains.most_common())
            lines.append(f"{sum(self.dropped_chains.values())} chains stored without a long thought "
                         f"(the paper drops them): {reasons}")
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} bad records:")
            lines.extend(f"  {skip}" for skip in self.skipped)
        return "\n".join(lines)


@dataclass
class ExportReport:
    path: Path  # the data file, or the folder for a LLaMA-Factory export
    kind: str  # pairs, sft, long-thought
    format: str  # trl, llamafactory, avr
    file_format: str  # jsonl, json, parquet
    rows: int = 0
    files: list[Path] = field(default_factory=list)  # every file written
    seconds: float = 0.0
    sources: dict[str, int] = field(default_factory=dict)  # e.g. {"from trees": 120, "from reference answers": 880}

    def summary(self) -> str:
        parts = f" ({', '.join(f'{count} {name}' for name, count in self.sources.items())})" if self.sources else ""
        return (f"exported {self.rows} {self.kind} rows{parts} as {self.format} ({self.file_format}) "
                f"to {self.path} in {self.seconds:.2f} s")

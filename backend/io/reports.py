"""What an import or an export did: counts, skipped records and time, ready to print or to show."""

from __future__ import annotations

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
    format: str  # the record format used: prompts, ultrafeedback, avr-stage1, long-thought
    records: int = 0  # good records read (skipped ones not counted)
    new_prompts: int = 0
    new_nodes: int = 0
    new_scores: int = 0
    new_chains: int = 0
    new_sft_samples: int = 0  # long-thought files are SFT data as they stand
    skipped: list[SkippedRecord] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def new_total(self) -> int:
        return self.new_prompts + self.new_nodes + self.new_scores + self.new_chains + self.new_sft_samples

    def summary(self) -> str:
        """A few human lines, e.g. for the CLI or a status bar."""
        lines = [
            f"imported {self.path.name} as {self.format}: {self.records} records in {self.seconds:.2f} s",
            f"new: {self.new_prompts} prompts, {self.new_nodes} nodes, {self.new_scores} scores, "
            f"{self.new_chains} chains, {self.new_sft_samples} sft samples",
        ]
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

    def summary(self) -> str:
        return (f"exported {self.rows} {self.kind} rows as {self.format} ({self.file_format}) "
                f"to {self.path} in {self.seconds:.2f} s")

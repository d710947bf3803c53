"""Agreement of a project's data with the AvR authors' own output (`shared/conformance/`).

Run the project's real path (import → rebuild pairs → export) on the authors' inputs, then compare
with what their code made from the same inputs: `stage1_agreement` for the pairs and RSFT samples,
`stage2_agreement` for the long thoughts. Template wording is not compared (the project writes its
own JUDGE / REVISE); everything else is, text for text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from backend.domain import Pair, SftSample, prompt_id_for

# (prompt id, kind, chosen, rejected, criticism in the context or None)
PairKey = tuple[str, str, str, str, str | None]
# (prompt id, answer, criticism, improvement)
RsftKey = tuple[str, str, str, str]


@dataclass
class Agreement:
    """How one stage's output compares with the authors' expected output."""

    stage: str
    expected: int = 0
    present: int = 0  # expected items the project made
    extra: int = 0  # items the project made that the authors' code does not
    missing_examples: list[str] = field(default_factory=list)
    extra_examples: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)  # e.g. {"pairs": "773/773", "rsft": "302/302"}

    @property
    def exact(self) -> bool:
        return self.present == self.expected and self.extra == 0

    def line(self) -> str:
        """One line, e.g. 'stage1: 1075/1075 expected present, 0 extra'."""
        parts = f" ({', '.join(f'{k} {v}' for k, v in self.details.items())})" if self.details else ""
        return f"{self.stage}: {self.present}/{self.expected} expected present, {self.extra} extra{parts}"


def read_jsonl(path: Path | str) -> Iterator[dict]:
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def pair_key(pair: Pair) -> PairKey:
    """What the comparison looks at; the criticism in context is the improvement pair's second assistant turn."""
    assistant_turns = [m["content"] for m in pair.context if m["role"] == "assistant"]
    criticism = assistant_turns[1] if pair.kind == "improvement" and len(assistant_turns) > 1 else None
    return (pair.prompt_id, pair.kind, pair.chosen, pair.rejected, criticism)


def rsft_key(sample: SftSample) -> RsftKey | None:
    """(prompt, y, c*, y'*) of a multi-turn RSFT sample; None for another layout."""
    turns = [m["content"] for m in sample.messages if m["role"] == "assistant"]
    return (sample.prompt_id, *turns) if len(turns) == 3 else None  # type: ignore[return-value]


def stage1_agreement(expected_rows: Iterable[dict], pairs: Iterable[Pair], rsft: Iterable[SftSample]) -> Agreement:
    """Every expected pair and RSFT sample present, and nothing else (the project's edit and
    long-thought pairs are outside this comparison)."""
    want_pairs: set[PairKey] = set()
    want_rsft: set[RsftKey] = set()
    for row in expected_rows:
        prompt_id = prompt_id_for(row["prompt"])
        for pair in row["pairs"]:
            want_pairs.add((prompt_id, pair["kind"], pair["chosen"], pair["rejected"], pair["criticism_in_context"]))
        sample = row.get("rsft")
        if sample is not None:
            want_rsft.add((prompt_id, sample["answer"], sample["criticism"], sample["improvement"]))
    got_pairs = {pair_key(p) for p in pairs if p.kind in ("response", "criticism", "improvement")}
    got_rsft = {key for key in map(rsft_key, rsft) if key is not None}
    agreement = Agreement("stage1", expected=len(want_pairs) + len(want_rsft),
                          present=len(want_pairs & got_pairs) + len(want_rsft & got_rsft),
                          extra=len(got_pairs - want_pairs) + len(got_rsft - want_rsft))
    agreement.details = {"pairs": f"{len(want_pairs & got_pairs)}/{len(want_pairs)}",
                         "rsft": f"{len(want_rsft & got_rsft)}/{len(want_rsft)}"}
    agreement.missing_examples = [repr(k)[:300] for k in sorted((want_pairs - got_pairs) | (want_rsft - got_rsft))[:5]]
    agreement.extra_examples = [repr(k)[:300] for k in sorted((got_pairs - want_pairs) | (got_rsft - want_rsft))[:5]]
    return agreement


def stage2_agreement(expected_rows: Iterable[dict], long_thoughts: Iterable[SftSample]) -> Agreement:
    """Every expected long thought present byte for byte (as its prompt's one long-thought sample),
    and no long thought for a chain the authors drop."""
    got: dict[str, list[str]] = {}
    for sample in long_thoughts:
        got.setdefault(sample.prompt_id, []).append(sample.messages[-1]["content"])
    agreement = Agreement("stage2")
    kept = dropped = dropped_absent = 0
    expected_ids = set()
    for row in expected_rows:
        prompt_id = prompt_id_for(row["prompt"])
        expected_ids.add(prompt_id)
        thoughts = got.get(prompt_id, [])
        if row["long_thought"] is None:
            dropped += 1
            if thoughts:
                agreement.extra += len(thoughts)
                agreement.extra_examples.append(f"{row['prompt'][:80]!r}: a long thought the authors drop")
            else:
                dropped_absent += 1
            continue
        kept += 1
        if thoughts == [row["long_thought"]]:
            agreement.present += 1
        else:
            agreement.extra += sum(1 for text in thoughts if text != row["long_thought"])
            agreement.missing_examples.append(f"{row['prompt'][:80]!r}: long thought differs or is missing")
    agreement.extra += sum(len(texts) for prompt_id, texts in got.items() if prompt_id not in expected_ids)
    agreement.expected = kept
    agreement.details = {"byte-exact": f"{agreement.present}/{kept}",
                         "dropped chains absent": f"{dropped_absent}/{dropped}"}
    return agreement

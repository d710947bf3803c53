"""The AvR authors' own output, reproduced through the project's real path (DESIGN.md §1.3, §1.4):
their Stage I scoring detail imported into a real project, pairs rebuilt as `avr-studio pairs` does,
compared with what their code made from the same trees; their Stage II greedy records imported and
exported as `avr-studio export --kind long-thought` does, compared byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.config import PairConfig
from backend.curation.rebuild import rebuild_stage1
from backend.domain import prompt_id_for
from backend.io import export, import_file
from backend.io.conformance import read_jsonl, stage1_agreement, stage2_agreement

CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"


@pytest.fixture(scope="module")
def conformance() -> Path:
    if not (CONFORMANCE / "stage1-expected.jsonl").is_file():
        pytest.skip(f"the shared conformance data is not beside this checkout ({CONFORMANCE})")
    return CONFORMANCE


def test_stage1_pairs_and_rsft_samples_match_the_authors_exactly(store, conformance):
    report = import_file(store, conformance / "stage1-scoring-detail.jsonl")
    assert (report.format, report.records) == ("avr-stage1", 400)
    counts = rebuild_stage1(store, PairConfig())
    expected = list(read_jsonl(conformance / "stage1-expected.jsonl"))
    agreement = stage1_agreement(expected, store.pairs(), store.sft_samples("rsft"))
    assert agreement.missing_examples == [] and agreement.extra_examples == []
    assert (agreement.present, agreement.extra) == (agreement.expected, 0)
    # The same totals counted straight from the expected file.
    assert counts["rsft"] == sum(row["rsft"] is not None for row in expected)
    for kind in ("response", "criticism", "improvement"):
        assert counts.get(kind, 0) == sum(p["kind"] == kind for row in expected for p in row["pairs"])
    assert {p.rules for p in store.pairs()} == {"paper"} and {p.decided_by for p in store.pairs()} == {"reward"}


def test_unchanged_copies_stay_separate_improvements(store, conformance):
    # A record where one criticism has the same improvement text twice: two nodes, both counted in r(c).
    for record in read_jsonl(conformance / "stage1-scoring-detail.jsonl"):
        texts = [(r["judgement"], r["refined_response"]) for r in record["refinements"]]
        if len(set(texts)) < len(texts):
            break
    path = store.project_dir / "one.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    import_file(store, path)
    nodes = store.nodes_for_prompt(prompt_id_for(record["messages"][0]["content"]))
    assert sum(n.kind == "improvement" for n in nodes) == len(texts)
    assert sum(n.kind == "criticism" for n in nodes) == len({judgement for judgement, _ in texts})


def test_stage2_long_thoughts_match_the_authors_byte_for_byte(store, conformance, tmp_path):
    report = import_file(store, conformance / "stage2-greedy-records.jsonl")
    expected = list(read_jsonl(conformance / "stage2-expected.jsonl"))
    kept = sum(row["long_thought"] is not None for row in expected)
    assert (report.format, report.new_chains, report.new_sft_samples) == ("avr-greedy-chain", len(expected), kept)
    assert sum(report.dropped_chains.values()) == len(expected) - kept
    out = tmp_path / "long-thoughts.jsonl"
    export(store, "long-thought", "avr", out)
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(exported) == kept
    by_prompt = {row["messages"][0]["content"]: row["messages"][-1]["content"] for row in exported}
    for row in expected:
        assert by_prompt.get(row["prompt"]) == row["long_thought"], row["prompt"]
    agreement = stage2_agreement(expected, store.sft_samples("long_thought"))
    assert (agreement.present, agreement.expected, agreement.extra) == (kept, kept, 0)

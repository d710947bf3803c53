"""Reference answers (DESIGN.md §1.2, §1.3.1): UltraFeedback's `chosen` kept apart from the trees, the
RSFT reference mix and what the SFT export says about it, and migration m003 turning the imported
root answers of an existing project into reference answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from backend.config import PairConfig
from backend.curation.rebuild import rebuild_stage1
from backend.domain import ReferenceAnswer, prompt_id_for
from backend.io import export, import_file
from backend.store import Store
from backend.store.connection import Database
from backend.store.migrations import m001_initial_schema, m002_scores_by_node

BAKING = "Name two uses of baking soda."
PERCENT = "What is 15% of 80?"
WALKS = "Suggest a title for a blog post about morning walks."


def test_the_reference_mix_adds_the_reference_of_every_prompt_whose_tree_gave_no_rsft_sample(store, samples,
                                                                                             tmp_path):
    import_file(store, samples / "avr-stage1-scoring-detail.jsonl")      # two trees, each with an RSFT sample
    import_file(store, samples / "ultrafeedback-style.jsonl")           # WALKS: a reference answer, no tree
    store.add_reference_answers([ReferenceAnswer(prompt_id_for(BAKING), "Baking and cleaning.")])
    counts = rebuild_stage1(store, PairConfig())
    assert (counts["rsft"], counts["reference"]) == (2, 1)            # BAKING's tree gave one: no reference
    (mixed,) = store.sft_samples("reference")
    assert mixed.messages == [{"role": "user", "content": WALKS},
                              {"role": "assistant", "content": "Why I Walk at Sunrise"}]
    assert (mixed.node_ids, mixed.rules) == ((), "paper")
    report = export(store, "sft", "trl", tmp_path / "sft.jsonl")
    assert report.rows == 3 and report.sources == {"from trees": 2, "from reference answers": 1}
    assert "exported 3 sft rows (2 from trees, 1 from reference answers)" in report.summary()

    # Off: the mixed-in samples go at the next rebuild, and the rule set says so.
    counts = rebuild_stage1(store, PairConfig(rsft_reference_mix=False))
    assert counts.get("reference", 0) == 0 and store.sft_samples("reference") == []
    assert {s.rules for s in store.sft_samples("rsft")} == {"paper+no-reference-mix"}


def test_a_tree_without_an_rsft_sample_gets_its_reference_mixed_in(store, samples, tmp_path):
    record = json.loads((samples / "avr-stage1-scoring-detail.jsonl").read_text().splitlines()[0])
    record["source_score"] = 10.0                                      # nothing beats the answer: no RSFT
    path = tmp_path / "s1.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    import_file(store, path)
    store.add_reference_answers([ReferenceAnswer(prompt_id_for(BAKING), "Baking and cleaning.")])
    counts = rebuild_stage1(store, PairConfig(), prompt_ids=[prompt_id_for(BAKING)])
    assert (counts["rsft"], counts["reference"]) == (0, 1)


def test_reference_queries(store):
    from backend.domain import Prompt

    store.add_prompts([Prompt.from_text(BAKING), Prompt.from_text(PERCENT)])
    first = ReferenceAnswer(prompt_id_for(BAKING), "Cooking and cleaning.", "uf.jsonl", {"score": 0.5})
    assert store.add_reference_answers([first, ReferenceAnswer(prompt_id_for(BAKING), "Another.")]) == 1
    assert store.add_reference_answers([ReferenceAnswer(prompt_id_for(BAKING), "Later.")]) == 0  # the first stays
    found = store.reference_answer(prompt_id_for(BAKING))
    assert (found.text, found.source, found.meta) == ("Cooking and cleaning.", "uf.jsonl", {"score": 0.5})
    assert store.reference_answer(prompt_id_for(PERCENT)) is None
    assert list(store.reference_answers([prompt_id_for(BAKING), prompt_id_for(PERCENT), "unknown"])) == [
        prompt_id_for(BAKING)]
    assert store.prompt_ids_with_reference() == [prompt_id_for(BAKING)]


def _old_project(folder):
    """A project as the first release wrote it (migrations 1 and 2), with what its importers made."""
    folder.mkdir()
    db = Database.open(folder / "project.duckdb")
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
               "applied_at TIMESTAMPTZ NOT NULL)")
    for version, migration in ((1, m001_initial_schema), (2, m002_scores_by_node)):
        migration(db)
        db.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, migration.__name__])
    t = datetime(2026, 1, 1, tzinfo=UTC)
    for seq, (pid, text) in enumerate([("p1", WALKS), ("p2", PERCENT), ("p3", BAKING), ("p4", "Say hi.")], start=1):
        db.execute("INSERT INTO prompts VALUES (?, ?, 'uf.jsonl', '{}', ?, ?)", [pid, text, t, seq])
    nodes = [  # id, prompt, kind, parent, text, model, job
        ("r1", "p1", "response", None, "Why I Walk at Sunrise", "", None),     # bare UltraFeedback answer
        ("r2", "p2", "response", None, "It is 12.", "", None),                 # UltraFeedback answer, grown
        ("c2", "p2", "criticism", "r2", "Say why.", "embedded", "j1"),
        ("r3", "p3", "response", None, "Cooking.", "", None),                  # an imported Stage I tree
        ("c3", "p3", "criticism", "r3", "Too short.", "", None),
        ("r4", "p4", "response", None, "Hi!", "", None),                       # UltraFeedback answer, a chain's y0
    ]
    for node_id, pid, kind, parent, text, model, job in nodes:
        db.execute("INSERT INTO nodes (id, prompt_id, kind, parent_id, round, text, model, job_id, created_at) "
                   "VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)", [node_id, pid, kind, parent, text, model, job, t])
    db.execute("INSERT INTO scores VALUES ('r1', 'imported:ultrafeedback', 0.074, ?), ('r3', 'imported', 0.5, ?)",
               [t, t])
    db.execute("INSERT INTO prompt_stats VALUES ('p1', 1, 0, 0), ('p2', 2, 0, 0), ('p3', 2, 0, 0)")
    db.execute("INSERT INTO prompt_scorer_stats VALUES ('p1', 'imported:ultrafeedback', 0.074, NULL, 0), "
               "('p3', 'imported', 0.5, NULL, 0)")
    db.execute("INSERT INTO pairs VALUES ('x', 'response', 'p2', '[]', 'a', 'b', 'reward', 'c2', 'r2', 1, 0, ?)", [t])
    db.execute("INSERT INTO chains VALUES ('ch', 'p4', '[\"r4\", \"cx\"]', 'r4', '[0.1]', NULL, ?)", [t])
    db.close()


def test_migration_m003_turns_bare_imported_answers_into_reference_answers(tmp_path):
    _old_project(tmp_path / "old")
    with Store.open(tmp_path / "old") as store:
        assert store.schema_version() >= 3
        reference = store.reference_answer("p1")
        assert (reference.text, reference.source) == ("Why I Walk at Sunrise", "uf.jsonl")
        assert reference.meta == {"migrated_from_node": "r1", "score": pytest.approx(0.074),
                                  "scorer": "imported:ultrafeedback"}
        assert store.nodes_for_prompt("p1") == [] and store.node_scores("r1") == {}
        assert store.reference_answer("p2") is None and store.get_node("r2").model == "imported"  # kept: grown
        assert store.reference_answer("p3") is None and store.get_node("r3").model == ""          # a Stage I tree
        assert store.reference_answer("p4") is None and store.get_node("r4").model == "imported"  # in a chain
        assert [p.rules for p in store.pairs()] == ["legacy"]
        summaries = {s.id: s for s in (store.prompt_summary(pid, "imported:ultrafeedback") for pid in ("p1", "p2"))}
        assert (summaries["p1"].n_nodes, summaries["p1"].best_reward, summaries["p1"].state) == (0, None, "new")
        assert summaries["p2"].n_nodes == 2

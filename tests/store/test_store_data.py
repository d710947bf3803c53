"""Adds are idempotent, scores upsert, annotations append and derive state, Stage I data is replaced."""

import pyarrow.parquet as pq
import pytest

from backend.domain import Annotation, Chain, Job, NodeState, Pair, Prompt, Run, Score, SftSample, Templates
from backend.errors import BadInputError
from tests.store.builders import HAIKU, PERCENT, SODA, T0, fill, hand_built_nodes


def test_prompts_are_added_once(store):
    prompts = [Prompt.from_text(f"prompt {i}", source="f.jsonl", meta={"i": i}) for i in range(5)]
    assert store.add_prompts(prompts) == 5
    assert store.add_prompts(prompts + [Prompt.from_text("new one")]) == 1
    assert store.count_prompts() == 6
    assert store.get_prompt(prompts[3].id) == prompts[3]
    assert store.get_prompt("missing") is None
    assert store.prompt_ids(limit=2) == [prompts[0].id, prompts[1].id]
    assert store.prompt_ids(where="NEW") == [Prompt.from_text("new one").id]


def test_nodes_are_added_once_and_listed_oldest_first(store):
    fill(store)
    assert store.add_nodes(hand_built_nodes()) == 0
    soda_nodes = store.nodes_for_prompt(SODA.id)
    assert [n.id for n in soda_nodes] == ["r1", "c1", "c2", "i11", "i12", "i21", "i22"]
    assert store.get_node("i11") == soda_nodes[3]
    assert store.node_counts_by_kind() == {"criticism": 3, "improvement": 5, "response": 2}


def test_scores_upsert_by_node_and_scorer(store):
    fill(store)
    assert store.scores_for_prompt(HAIKU.id, "a") == {"r2": 2.0, "i31": 1.5}
    store.add_scores([Score("r2", "a", 9.0, created_at=T0)])
    assert store.node_scores("r2") == {"a": 9.0, "b": 5.0}
    assert store.scorers() == ["a", "b"]


def test_default_scorer_is_the_latest_unless_one_is_pinned(store):
    fill(store)  # 'a' written after 'b'
    assert store.default_scorer() == "a"
    assert store.scores_for_prompt(HAIKU.id) == {"r2": 2.0, "i31": 1.5}
    store.set_primary_scorer("b")
    assert store.default_scorer() == "b"
    assert store.scores_for_prompt(HAIKU.id) == {"r2": 5.0}


def test_accept_then_reject_then_clear(store):
    fill(store)
    for verdict in ("accept", "reject"):
        store.add_annotation(Annotation("i11", verdict, author="ann"))
    assert store.node_states(SODA.id) == {"i11": NodeState(verdict="reject")}
    assert store.verdict_counts() == {"reject": 1}
    store.add_annotation(Annotation("i11", ""))  # '' clears the verdict
    assert store.node_states(SODA.id) == {}
    assert store.verdict_counts() == {}
    assert [a.verdict for a in store.annotation_history("i11")] == ["accept", "reject", ""]


def test_edit_then_revert_keeps_the_verdict(store):
    fill(store)
    store.add_annotation(Annotation("c1", "accept"))
    store.add_annotation(Annotation("c1", None, edited_text="A sharper criticism."))
    assert store.node_states(SODA.id)["c1"] == NodeState("accept", "A sharper criticism.")
    store.add_annotation(Annotation("c1", None, edited_text=""))  # '' reverts to the model's text
    assert store.node_states(SODA.id)["c1"] == NodeState("accept", None)
    assert store.get_node("c1").text == "text of c1"  # the model's text is never overwritten
    assert len(store.annotation_history("c1")) == 3


def test_bad_annotations_are_refused(store):
    fill(store)
    with pytest.raises(BadInputError, match="unknown verdict"):
        store.add_annotation(Annotation("i11", "maybe"))
    with pytest.raises(BadInputError, match="no node"):
        store.add_annotation(Annotation("nope", "accept"))


def _pair(kind, prompt, chosen):
    return Pair(kind=kind, prompt_id=prompt.id, context=[{"role": "user", "content": prompt.text}],
                chosen=chosen, rejected="worse", chosen_node_id="x", rejected_node_id="y", chosen_score=1.0)


def test_replacing_stage1_data_keeps_other_prompts_and_stage2(store):
    fill(store)
    rsft = SftSample("rsft", SODA.id, [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    thought = SftSample("long_thought", SODA.id, [{"role": "assistant", "content": "long"}])
    store.add_pairs([_pair("response", SODA, "old"), _pair("long_thought", SODA, "lt"),
                     _pair("response", HAIKU, "haiku")])
    assert store.add_sft_samples([rsft, thought, rsft]) == 2
    assert store.add_pairs([_pair("response", SODA, "old")]) == 0
    store.replace_stage1_data([SODA.id], [_pair("criticism", SODA, "new")], [])
    assert store.pair_counts() == {"criticism": 1, "long_thought": 1, "response": 1}
    assert [p.chosen for p in store.pairs(prompt_id=SODA.id)] == ["new", "lt"]
    assert store.pairs(kind="response") == [_pair("response", HAIKU, "haiku")]
    assert store.sft_samples() == [thought]


def test_failed_replace_keeps_the_old_data(store):
    fill(store)
    store.add_pairs([_pair("response", SODA, "old")])

    def broken():
        yield _pair("response", SODA, "new")
        raise RuntimeError("builder crashed")

    with pytest.raises(RuntimeError):
        store.replace_stage1_data([SODA.id], broken(), [])
    assert [p.chosen for p in store.pairs()] == ["old"]


def test_templates_versions_and_current(store):
    default = store.current_templates()
    custom = Templates.make("Judge it. Rating: [[k]]", "Revise it.", name="mine")
    store.save_templates(custom)
    assert store.current_templates() == custom
    assert store.templates(default.version) == default
    assert store.templates("unknown") == custom
    assert store.templates(None) == custom
    store.save_templates(default, make_current=True)
    assert store.current_templates() == default


def test_chains_jobs_runs_and_journal_offsets(store):
    chain = Chain("ch1", SODA.id, ("r1", "c1", "i11", "c2"), "i11", (1.0, 3.0), created_at=T0)
    store.add_chain(chain)
    assert store.chains() == [chain] and store.chains(HAIKU.id) == []
    store.add_job(Job("j1", "stage1", "queued", {"prompts": 3}, created_at=T0))
    store.update_job("j1", "failed", error="out of memory")
    job = store.get_job("j1")
    assert (job.status, job.error, job.request) == ("failed", "out of memory", {"prompts": 3})
    assert job.finished_at is not None and store.jobs() == [job]
    assert store.journal_offset("j1") == 0
    store.set_journal_offset("j1", 120)
    store.set_journal_offset("j1", 300)
    assert store.journal_offset("j1") == 300
    run = Run("run1", "dpo", {"beta": 0.1}, "abc", "running", "runs/run1", created_at=T0)
    store.add_run(run)
    store.add_run_metrics("run1", [(2, "loss", 0.5), (1, "loss", 0.7), (1, "accuracy", 0.5)])
    assert store.run_metrics("run1") == [(1, "accuracy", 0.5), (1, "loss", 0.7), (2, "loss", 0.5)]
    assert store.runs() == [run]


def test_tree_inputs_loads_every_prompt_in_bulk(store):
    fill(store)
    store.add_annotation(Annotation("c1", "accept"))
    loaded = {prompt.id: (nodes, scores, states) for prompt, nodes, scores, states
              in store.tree_inputs(scorer="a")}
    assert set(loaded) == {SODA.id, HAIKU.id}  # PERCENT has no nodes
    nodes, scores, states = loaded[SODA.id]
    assert [n.id for n in nodes] == ["r1", "c1", "c2", "i11", "i12", "i21", "i22"]
    assert scores == {"r1": 1.0, "i11": 3.0, "i12": 0.5, "i21": 2.0}
    assert states == {"c1": NodeState("accept")}
    [(prompt, nodes, scores, _)] = list(store.tree_inputs([PERCENT.id, "unknown"]))
    assert (prompt, nodes, scores) == (PERCENT, [], {})


def test_export_snapshots_and_stats(store, tmp_path):
    fill(store)
    store.add_pairs([_pair("response", SODA, "good")])
    store.add_annotation(Annotation("i11", "accept"))
    assert store.export_query_parquet("pairs", tmp_path / "snap" / "pairs.parquet") == 1
    table = pq.read_table(tmp_path / "snap" / "pairs.parquet")
    assert table.column("chosen").to_pylist() == ["good"]
    assert store.export_query_parquet("prompts", tmp_path / "prompts.parquet") == 3
    with pytest.raises(BadInputError):
        store.export_query_parquet("users; --", tmp_path / "x.parquet")
    assert store.stats() == {
        "prompts": 3,
        "nodes": {"criticism": 3, "improvement": 5, "response": 2},
        "scores": {"a": 6, "b": 1},
        "verdicts": {"accept": 1},
        "pairs": {"response": 1},
        "sft": {},
        "chains": 0,
    }

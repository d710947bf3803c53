"""The data a run reads: the TRL export's rows, counted as an independent SQL query counts them, hashed,
the held-out prompts left out, and too little data refused before anything is written."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backend.domain import Prompt
from backend.io.exporters import export
from backend.store import Store
from backend.training.config import TrainingConfig
from backend.training.runs import plan_run, prepare_run
from backend.training.snapshot import NotEnoughDataError, SnapshotChangedError, read_snapshot
from backend.training.splits import choose_heldout
from tests.training.project_data import fill, tiny_config


def _key(row):
    return json.dumps(row, sort_keys=True)


def _exported(store, kind, tmp_path):
    out = tmp_path / f"{kind}.parquet"
    export(store, kind, "trl", out)
    return pq.read_table(out).to_pylist()


def test_pair_rows_are_the_trl_export_minus_the_heldout_prompts(store, tmp_path, tiny_base):
    prepared = prepare_run(store, tiny_config("dpo", tiny_base))
    heldout = set(store.heldout_prompt_ids())
    expected = [row for row in _exported(store, "pairs", tmp_path) if row["prompt_id"] not in heldout]
    assert sorted(map(_key, prepared.snapshot.rows())) == sorted(map(_key, expected))
    assert heldout and len(expected) < len(_exported(store, "pairs", tmp_path))


def test_sft_rows_are_the_trl_export_minus_the_heldout_prompts(store, tmp_path, tiny_base):
    prepared = prepare_run(store, tiny_config("rsft", tiny_base))
    heldout = set(store.heldout_prompt_ids())
    expected = [row for row in _exported(store, "sft", tmp_path) if row["prompt_id"] not in heldout]
    assert sorted(map(_key, prepared.snapshot.rows())) == sorted(map(_key, expected))


def test_counts_agree_with_an_independent_query(store, tiny_base):
    plan = plan_run(store, tiny_config("dpo", tiny_base))
    store.set_heldout_prompts(list(choose_heldout(store.prompt_ids(), 42, 0.25)), 42)
    rows = store._db.rows("SELECT kind, decided_by, count(*) FROM pairs WHERE prompt_id NOT IN "
                          "(SELECT prompt_id FROM heldout_prompts) GROUP BY ALL")
    assert plan.counts.by_kind_and_decider == {f"{kind}/{who}": n for kind, who, n in rows}
    assert plan.counts.train_rows == sum(n for *_, n in rows)
    left_out = store._db.scalar("SELECT count(*) FROM pairs WHERE prompt_id IN (SELECT prompt_id FROM heldout_prompts)")
    assert plan.counts.heldout_rows_left_out == left_out and plan.counts.heldout_prompts == 3
    assert plan.problem is None and plan.estimate.steps == 2


def test_planning_writes_nothing(store, tiny_base):
    plan_run(store, tiny_config("dpo", tiny_base))
    assert store.heldout_prompt_ids() == [] and store.runs() == []
    assert list(store.runs_dir.iterdir()) == []


def test_the_reward_model_sees_plain_prompts_and_answers_only(store, tiny_base):
    prepared = prepare_run(store, tiny_config("reward", tiny_base, reward_eval_fraction=0.5))
    train, measured = prepared.snapshot.rows("train"), prepared.snapshot.rows("eval")
    human_answer_pairs = store._db.scalar(
        "SELECT count(*) FROM pairs WHERE decided_by = 'human' AND kind IN ('response', 'improvement')")
    assert len(train) + len(measured) == human_answer_pairs + 1  # + the edit of an answer, not of a criticism
    assert all(len(row["prompt"]) == 1 and row["prompt"][0]["role"] == "user" for row in train + measured)
    assert {row["kind"] for row in train + measured} == {"response", "improvement", "edit"}
    heldout = set(store.heldout_prompt_ids())
    aside = {row["prompt_id"] for row in measured}
    assert aside and not aside & {row["prompt_id"] for row in train}  # a prompt measures or trains, not both
    assert heldout & {row["prompt_id"] for row in train} == set()
    assert prepared.snapshot.counts.eval_rows == len(measured)


def test_reward_decided_pairs_join_with_their_weight(store, tiny_base):
    prepared = prepare_run(store, tiny_config("reward", tiny_base, reward_use_reward_pairs=True,
                                              reward_pair_weight=0.25, reward_eval_fraction=0.5))
    weights = {(row["decided_by"], row["weight"]) for row in prepared.snapshot.rows("train")}
    assert weights == {("human", 1.0), ("reward", 0.25)}
    assert {row["decided_by"] for row in prepared.snapshot.rows("eval")} == {"human"}  # agreement with the person


def test_the_hash_names_the_data(tmp_path, tiny_base):
    hashes = []
    for name in ("a", "b"):
        with Store.create(tmp_path / name) as store:
            fill(store)
            hashes.append(prepare_run(store, tiny_config("dpo", tiny_base)).run.data_hash)
    assert hashes[0] == hashes[1]  # the same data in another project
    with Store.create(tmp_path / "c") as store:
        fill(store)
        store.add_prompts([Prompt.from_text("one more")])  # moves nothing: prompts split by their own hash
        prepared = prepare_run(store, tiny_config("dpo", tiny_base))
        assert prepared.run.data_hash == hashes[0]
        assert read_snapshot(prepared.folder.path).data_hash == hashes[0]
        rows = prepared.snapshot.rows()
        rows[0]["chosen"][0]["content"] += " (edited by hand)"
        pq.write_table(pa.Table.from_pylist(rows), prepared.snapshot.folder / "train.parquet")
        with pytest.raises(SnapshotChangedError, match="changed since the run was prepared"):
            read_snapshot(prepared.folder.path)


def test_the_heldout_prompts_are_chosen_once(store, tiny_base):
    prepare_run(store, tiny_config("dpo", tiny_base, seed=1))
    first = store.heldout_prompt_ids()
    assert first == choose_heldout(store.prompt_ids(), 1, 0.25)
    prepare_run(store, tiny_config("rsft", tiny_base, seed=2, heldout_fraction=0.5))
    assert store.heldout_prompt_ids() == first and store.heldout_seed() == 1


@pytest.mark.parametrize(("config", "message"), [
    (dict(stage="dpo", pair_kinds=["response", "edit"], batch_size=1), "0 edit pairs"),
    (dict(stage="long_dpo"), "No long-thought pairs"),
    (dict(stage="long_sft"), "No long-thought samples"),
    (dict(stage="rsft", batch_size=20), "fewer than one batch of 20"),
])
def test_too_little_data_is_refused_before_anything_is_written(tmp_path, tiny_base, config, message):
    with Store.create(tmp_path / "p") as store:
        fill(store, with_edits=False)
        full = tiny_config(base=tiny_base, **config)
        assert message in plan_run(store, full).problem
        with pytest.raises(NotEnoughDataError, match=message):
            prepare_run(store, full)
        assert store.runs() == [] and store.heldout_prompt_ids() == []


def test_a_reward_model_needs_the_persons_verdicts(tmp_path, tiny_base):
    with Store.create(tmp_path / "p") as store:
        fill(store, with_edits=False)
        store._db.execute("UPDATE pairs SET decided_by = 'reward'")
        with pytest.raises(NotEnoughDataError, match="decided by a person"):
            prepare_run(store, TrainingConfig(stage="reward", base=tiny_base))

"""Each import format on the shared samples: what lands in the project, and that importing again adds nothing."""

from __future__ import annotations

import filecmp
import json

import pytest

from backend.domain import prompt_id_for
from backend.io import import_file
from tests.io.conftest import DATA_DIR, SAMPLE_NAMES

BAKING = "Name two uses of baking soda."
PERCENT = "What is 15% of 80?"


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _children(nodes, parent):
    return [n for n in nodes if n.parent_id == parent.id]


def test_the_test_copies_of_the_samples_match_the_shared_ones(shared_samples_dir):
    for name in SAMPLE_NAMES:
        assert filecmp.cmp(DATA_DIR / name, shared_samples_dir / name, shallow=False), name


def test_stage1_sample_rebuilds_two_full_trees(store, samples):
    report = import_file(store, samples / "avr-stage1-scoring-detail.jsonl")
    assert report.format == "avr-stage1"
    assert (report.records, report.new_prompts, report.new_nodes, report.new_scores) == (2, 2, 14, 10)
    nodes = store.nodes_for_prompt(prompt_id_for(BAKING))
    assert sorted(n.kind for n in nodes) == ["criticism"] * 2 + ["improvement"] * 4 + ["response"]
    (answer,) = [n for n in nodes if n.kind == "response"]
    assert answer.text == "Baking soda is used in cooking." and answer.parent_id is None
    criticisms = _children(nodes, answer)
    assert sorted(c.self_rating for c in criticisms) == [3, 6]
    assert all(c.sampling == {"temperature": 0.7} for c in criticisms)
    one_use = next(c for c in criticisms if c.self_rating == 3)
    assert sorted(i.text for i in _children(nodes, one_use)) == [
        "Baking soda leavens cakes and it can scrub stains off pans.", "It is used in baking and as a mild cleaner."]
    scores = {store.get_node(node_id).text: value
              for node_id, value in store.scores_for_prompt(answer.prompt_id, "imported").items()}
    assert scores["Baking soda is used in cooking."] == pytest.approx(-0.12)
    assert scores["Cooking, and deodorising the fridge."] == pytest.approx(0.88)


def test_long_thought_sample_becomes_a_chain(store, samples):
    report = import_file(store, samples / "avr-long-thought-sft.jsonl")
    assert report.format == "long-thought"
    assert (report.new_prompts, report.new_nodes, report.new_chains, report.new_sft_samples) == (1, 5, 1, 1)
    (chain,) = store.chains(prompt_id=prompt_id_for(BAKING))
    y0, c1, y1, c_final = (store.get_node(node_id) for node_id in chain.node_ids)
    assert (y0.kind, c1.kind, y1.kind, c_final.kind) == ("response", "criticism", "improvement", "criticism")
    assert (c1.parent_id, y1.parent_id, c_final.parent_id) == (y0.id, c1.id, y1.id)
    assert (y0.round, c1.round, y1.round, c_final.round) == (0, 0, 1, 1)
    assert y0.text == "Baking soda is used in cooking."
    assert c_final.text == "Both uses are correct and clearly stated. Rating: [[9]]"
    assert (c1.self_rating, c_final.self_rating) == (3, 9)
    assert chain.best_node_id == y1.id
    thought = store.get_node(chain.long_thought_node_id)
    assert thought.kind == "long_thought" and thought.text.endswith("Final answer:\n\n" + y1.text)
    (sample,) = store.sft_samples(kind="long_thought")
    assert sample.messages[-1] == {"role": "assistant", "content": thought.text}


def test_ultrafeedback_sample_keeps_the_chosen_answer_as_the_reference_answer(store, samples):
    report = import_file(store, samples / "ultrafeedback-style.jsonl")
    assert report.format == "ultrafeedback"
    assert (report.new_prompts, report.new_nodes, report.new_scores, report.new_references) == (1, 0, 0, 1)
    prompt = store.get_prompt(prompt_id_for("Suggest a title for a blog post about morning walks."))
    assert prompt.meta.get("prompt_id") == "a1b2c3"
    assert store.nodes_for_prompt(prompt.id) == []          # trees grow from the policy's own answers
    reference = store.reference_answer(prompt.id)
    assert reference.text == "Why I Walk at Sunrise" and reference.source == "ultrafeedback-style.jsonl"
    assert reference.meta == {"score": pytest.approx(0.074), "scorer": "imported:ultrafeedback"}
    assert "rejected (1 records)" in report.summary()        # the rejected answer has no place: said so


@pytest.mark.parametrize("name", ["avr-stage1-scoring-detail.jsonl", "avr-long-thought-sft.jsonl",
                                  "ultrafeedback-style.jsonl"])
def test_importing_a_file_again_adds_nothing(store, samples, name):
    first = import_file(store, samples / name)
    second = import_file(store, samples / name)
    assert first.new_total > 0
    assert second.new_total == 0
    assert second.records == first.records


@pytest.mark.parametrize("field", ["prompt", "instruction", "text"])
def test_plain_prompts_from_any_prompt_field(store, tmp_path, field):
    path = _write_jsonl(tmp_path / "prompts.jsonl", [{field: BAKING, "id": 7}, {field: PERCENT}])
    report = import_file(store, path)
    assert (report.format, report.new_prompts, report.new_nodes) == ("prompts", 2, 0)
    prompt = store.get_prompt(prompt_id_for(BAKING))
    assert prompt.source == "prompts.jsonl" and prompt.meta == {"id": 7}


def test_plain_prompts_from_messages_json_list_and_parquet(store, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": BAKING}]
    (tmp_path / "a.json").write_text(json.dumps([{"messages": messages}], indent=2))
    pq.write_table(pa.Table.from_pylist([{"prompt": PERCENT}, {"prompt": BAKING}]), tmp_path / "b.parquet")
    assert import_file(store, tmp_path / "a.json").new_prompts == 1
    assert import_file(store, tmp_path / "b.parquet").new_prompts == 1  # BAKING is already there
    assert store.get_prompt(prompt_id_for(PERCENT)) is not None


def test_alpaca_input_follows_the_instruction(store, tmp_path):
    path = _write_jsonl(tmp_path / "alpaca.jsonl", [{"instruction": "Translate.", "input": "Bonjour", "output": "Hi"}])
    import_file(store, path)
    assert store.get_prompt(prompt_id_for("Translate.\n\nBonjour")) is not None


def test_a_datasets_folder_imports_every_split(store, tmp_path):
    datasets = pytest.importorskip("datasets")
    folder = tmp_path / "saved"
    datasets.DatasetDict({
        "train": datasets.Dataset.from_list([{"prompt": BAKING, "chosen": None}]),
        "test": datasets.Dataset.from_list([{"prompt": PERCENT, "chosen": None}]),
    }).save_to_disk(str(folder))
    report = import_file(store, folder)
    assert (report.format, report.new_prompts) == ("prompts", 2)
    assert import_file(store, folder, format="hf-dataset").new_total == 0


def test_a_datasets_folder_of_ultrafeedback_rows_is_detected(store, tmp_path, samples):
    datasets = pytest.importorskip("datasets")
    rows = [json.loads(line) for line in (samples / "ultrafeedback-style.jsonl").read_text().splitlines()]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "uf"))
    report = import_file(store, tmp_path / "uf")
    assert (report.format, report.new_nodes, report.new_references) == ("ultrafeedback", 0, 1)


def test_a_forced_format_overrides_detection(store, samples):
    report = import_file(store, samples / "avr-stage1-scoring-detail.jsonl", format="prompts")
    assert (report.format, report.new_prompts, report.new_nodes) == ("prompts", 2, 0)


def test_records_with_extra_or_missing_optional_fields_import(store, tmp_path, samples):
    record = json.loads((samples / "avr-stage1-scoring-detail.jsonl").read_text().splitlines()[0])
    record.pop("source_score")
    record.pop("best_record")
    record["dataset"] = "mine"
    for refinement in record["refinements"]:
        refinement.pop("score")
        refinement.pop("messages")
        refinement["note"] = {"nested": True}
    uf = {"prompt": PERCENT, "chosen": [{"role": "user", "content": PERCENT},
                                        {"role": "assistant", "content": "12"}], "extra": [1, 2]}
    report = import_file(store, _write_jsonl(tmp_path / "s1.jsonl", [record]))
    assert (report.new_nodes, report.new_scores) == (7, 0)
    assert store.get_prompt(prompt_id_for(BAKING)).meta == {"dataset": "mine"}
    report = import_file(store, _write_jsonl(tmp_path / "uf.jsonl", [uf]))
    assert (report.new_references, report.ignored_fields) == (1, {"extra": 1})
    assert store.reference_answer(prompt_id_for(PERCENT)).meta == {}    # no scores in the row


def test_trl_conversational_preference_rows_import_like_ultrafeedback(store, tmp_path):
    row = {"prompt": [{"role": "user", "content": PERCENT}], "chosen": [{"role": "assistant", "content": "12"}],
           "rejected": [{"role": "assistant", "content": "13"}]}
    report = import_file(store, _write_jsonl(tmp_path / "trl.jsonl", [row]))
    assert (report.format, report.new_prompts, report.new_references) == ("ultrafeedback", 1, 1)
    assert store.reference_answer(prompt_id_for(PERCENT)).text == "12"

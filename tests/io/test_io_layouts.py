"""Which layout an import used and what it left out: the AvR authors' training-data layouts are refused
(not silently imported as bare prompts), fields with no place are listed, and a leading system
message is kept with the prompt and opens every context built from it."""

from __future__ import annotations

import json

import pytest

from backend.config import PairConfig
from backend.curation.rebuild import rebuild_stage1
from backend.domain import prompt_id_for
from backend.errors import BadInputError
from backend.io import import_file

BAKING = "Name two uses of baking soda."


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_the_authors_dpo_layout_is_refused_with_the_layouts_that_import(store, samples):
    with pytest.raises(BadInputError) as error:
        import_file(store, samples / "avr-dpo.json")
    message = str(error.value)
    assert "DPO pair layout" in message and "--format prompts" in message
    assert "prompts, ultrafeedback, avr-stage1, avr-greedy-chain, long-thought" in message
    assert store.count_prompts() == 0


@pytest.mark.parametrize("record", [
    {"messages": [{"role": "user", "content": BAKING}], "refinement": {"judgement": "j"}, "source_score": 1.0},
    {"messages": [{"role": "user", "content": BAKING}], "best_record": {}, "worst_record": {}},
])
def test_other_training_layouts_of_the_authors_are_refused(store, tmp_path, record):
    with pytest.raises(BadInputError, match="training data, which cannot be imported"):
        import_file(store, _write_jsonl(tmp_path / "data.jsonl", [record]))


def test_forcing_the_prompts_layout_takes_the_prompts_and_says_what_was_left_out(store, samples):
    report = import_file(store, samples / "avr-dpo.json", format="prompts")
    assert (report.format, report.detected, report.new_prompts) == ("prompts", False, 1)
    assert report.ignored_fields == {"chosen": 1, "rejected": 1}
    summary = report.summary()
    assert "as prompts (chosen)" in summary
    assert "not imported (no place for them in the prompts layout): chosen (1 records), rejected (1 records)" in summary


def test_a_conversation_imported_as_prompts_says_its_assistant_turns_were_left_out(store, tmp_path):
    record = {"messages": [{"role": "user", "content": BAKING}, {"role": "assistant", "content": "Cooking."}]}
    report = import_file(store, _write_jsonl(tmp_path / "chat.jsonl", [record]))
    assert (report.format, report.detected) == ("prompts", True)
    assert report.ignored_fields == {"messages (its assistant turns)": 1}
    assert "imported chat.jsonl as prompts (detected)" in report.summary()


def test_a_system_message_of_a_stage1_tree_opens_every_pair_and_sample(store, samples, tmp_path):
    record = json.loads((samples / "avr-stage1-scoring-detail.jsonl").read_text().splitlines()[0])
    record["messages"].insert(0, {"role": "system", "content": "You are a chemist."})
    import_file(store, _write_jsonl(tmp_path / "s1.jsonl", [record]))
    prompt = store.get_prompt(prompt_id_for(BAKING))
    assert prompt.system == "You are a chemist." and prompt.meta == {"system": "You are a chemist."}
    rebuild_stage1(store, PairConfig())
    system = {"role": "system", "content": "You are a chemist."}
    pairs, samples_ = store.pairs(), store.sft_samples("rsft")
    assert pairs and samples_
    assert all(p.context[:2] == [system, {"role": "user", "content": BAKING}] for p in pairs)
    assert all(s.messages[0] == system for s in samples_)


def test_a_system_message_in_plain_prompt_records_is_kept(store, tmp_path):
    record = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": BAKING}]}
    import_file(store, _write_jsonl(tmp_path / "p.jsonl", [record]))
    assert store.get_prompt(prompt_id_for(BAKING)).system == "Be brief."

"""Every export layout is read back the way its consumer reads it (datasets, LLaMA-Factory's dataset_info)."""

from __future__ import annotations

import json

import datasets
import pytest

from backend.domain import Pair, SftSample
from backend.errors import BadInputError
from backend.io import export_rows
from backend.io.exporters import files as export_files

CONTEXT = [{"role": "user", "content": "Name two uses of baking soda."}]
LEAVENS = "Baking soda leavens cakes and it can scrub stains off pans."


def _pairs() -> list[Pair]:
    return [
        Pair("response", "p1", CONTEXT, chosen=LEAVENS, rejected="Baking soda is used in cooking.",
             chosen_score=1.92, rejected_score=-0.12),
        Pair("criticism", "p1", [{"role": "system", "content": "Be brief."}, *CONTEXT,
                                 {"role": "assistant", "content": "Cooking."}, {"role": "user", "content": "Judge."}],
             chosen="Only one use. Rating: [[3]]", rejected="Fine. Rating: [[9]]", decided_by="human"),
    ]


def _samples(kind: str = "rsft") -> list[SftSample]:
    return [SftSample(kind, "p1", [*CONTEXT, {"role": "assistant", "content": LEAVENS}]),
            SftSample(kind, "p2", [{"role": "user", "content": "What is 15% of 80?"},
                                   {"role": "assistant", "content": "12"}])]


def _load(path, hf_cache):
    builder = "parquet" if path.suffix == ".parquet" else "json"
    return datasets.load_dataset(builder, data_files=str(path), split="train", cache_dir=hf_cache)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".json"])
def test_trl_pairs_are_conversational_preference_rows(tmp_path, hf_cache, suffix):
    out = tmp_path / f"pairs{suffix}"
    report = export_rows(_pairs(), "pairs", "trl", out)
    rows = _load(out, hf_cache)
    assert report.rows == len(rows) == 2
    assert report.file_format == suffix[1:]
    assert rows[0]["prompt"] == CONTEXT
    assert rows[0]["chosen"] == [{"role": "assistant", "content": LEAVENS}]
    assert rows[0]["rejected"] == [{"role": "assistant", "content": "Baking soda is used in cooking."}]
    assert rows[1]["prompt"][0] == {"role": "system", "content": "Be brief."}
    assert rows[1]["decided_by"] == "human"


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_trl_sft_rows_split_prompt_and_completion(tmp_path, hf_cache, suffix):
    out = tmp_path / f"sft{suffix}"
    export_rows(_samples(), "sft", "trl", out)
    rows = _load(out, hf_cache)
    assert rows[0]["prompt"] == CONTEXT
    assert rows[0]["completion"] == [{"role": "assistant", "content": LEAVENS}]


def test_llamafactory_pairs_folder_has_sharegpt_ranking_data_and_dataset_info(tmp_path, hf_cache):
    folder = tmp_path / "lf"
    report = export_rows(_pairs(), "pairs", "llamafactory", folder)
    info = json.loads((folder / "dataset_info.json").read_text())
    entry = info["avr_pairs"]
    assert entry["formatting"] == "sharegpt" and entry["ranking"] is True
    assert entry["columns"] == {"messages": "conversations", "chosen": "chosen", "rejected": "rejected",
                                "system": "system"}
    assert entry["tags"]["role_tag"] == "from" and entry["tags"]["assistant_tag"] == "gpt"
    data_file = folder / entry["file_name"]
    assert data_file in report.files
    rows = _load(data_file, hf_cache)
    assert rows[0]["conversations"] == [{"from": "human", "value": CONTEXT[0]["content"]}]
    assert rows[0]["chosen"] == {"from": "gpt", "value": LEAVENS}
    assert rows[1]["system"] == "Be brief."
    assert [turn["from"] for turn in rows[1]["conversations"]] == ["human", "gpt", "human"]


def test_llamafactory_export_keeps_other_datasets_in_an_existing_dataset_info(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "dataset_info.json").write_text(json.dumps({"alpaca_en": {"file_name": "alpaca.json"}}))
    export_rows(_samples("long_thought"), "long-thought", "llamafactory", folder)
    info = json.loads((folder / "dataset_info.json").read_text())
    assert set(info) == {"alpaca_en", "avr_long_thought"}
    assert info["avr_long_thought"]["ranking"] is False
    assert info["avr_long_thought"]["columns"] == {"messages": "conversations"}
    rows = json.loads((folder / "avr_long_thought.json").read_text())
    assert rows[0]["conversations"][-1] == {"from": "gpt", "value": LEAVENS}


def test_avr_pairs_match_the_authors_dpo_layout(tmp_path, samples):
    out = tmp_path / "dpo.json"
    export_rows(_pairs()[:1], "pairs", "avr", out)
    assert json.loads(out.read_text()) == json.loads((samples / "avr-dpo.json").read_text())


def test_avr_sft_rows_are_message_lists(tmp_path, hf_cache):
    out = tmp_path / "sft.jsonl"
    export_rows(_samples(), "sft", "avr", out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0] == {"messages": [*CONTEXT, {"role": "assistant", "content": LEAVENS}]}
    assert len(_load(out, hf_cache)) == 2


def test_a_failed_export_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    out = tmp_path / "pairs.jsonl"
    out.write_text("old\n")

    def broken_dumps(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_files.json, "dumps", broken_dumps)
    with pytest.raises(RuntimeError):
        export_rows(_pairs(), "pairs", "trl", out)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["pairs.jsonl"]


def test_an_unknown_extension_says_which_ones_work(tmp_path):
    with pytest.raises(BadInputError, match=r"\.jsonl, \.json or \.parquet"):
        export_rows(_pairs(), "pairs", "trl", tmp_path / "pairs.csv")


def test_export_reads_pairs_and_samples_from_the_project(store, tmp_path, hf_cache):
    from backend.io import export

    store.add_pairs(_pairs())
    store.add_sft_samples([*_samples("rsft"), *_samples("long_thought")[:1]])
    report = export(store, "pairs", "trl", tmp_path / "pairs.jsonl")
    assert report.rows == 2
    assert export(store, "pairs", "trl", tmp_path / "crit.jsonl", pair_kind="criticism").rows == 1
    assert export(store, "sft", "avr", tmp_path / "sft.parquet").rows == 2
    assert len(_load(tmp_path / "sft.parquet", hf_cache)) == 2
    assert export(store, "long-thought", "llamafactory", tmp_path / "lf").rows == 1


def test_exporting_nothing_is_a_user_error_and_writes_no_file(store, tmp_path):
    from backend.errors import UserError
    from backend.io import export

    with pytest.raises(UserError, match="nothing to export: the project has no pairs"):
        export(store, "pairs", "trl", tmp_path / "pairs.jsonl")
    assert not (tmp_path / "pairs.jsonl").exists()

"""Bad input: a malformed record names its line and writes nothing; --skip-bad lists lines and keeps the rest."""

from __future__ import annotations

import json

import pytest

from backend.errors import BadInputError
from backend.io import import_file

GOOD_UF = {"prompt": "Say hi.", "chosen": [{"role": "user", "content": "Say hi."},
                                           {"role": "assistant", "content": "Hi!"}]}


def _lines(path, *lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _nothing_written(store):
    return store.count_prompts() == 0 and store.node_counts_by_kind() == {}


@pytest.mark.parametrize(("bad_line", "message"), [
    ('{"prompt": "Say hi.", "chosen": [{"role": "user"', "bad JSON"),
    ('{"chosen": [{"role": "assistant", "content": "Hi"}]}', "has no user message"),
    ('{"prompt": 5, "chosen": []}', "must be a string"),
    ('["not", "an", "object"]', "expected a JSON object"),
])
def test_a_malformed_line_is_named_and_nothing_is_written(store, tmp_path, bad_line, message):
    path = _lines(tmp_path / "uf.jsonl", json.dumps(GOOD_UF), "", bad_line, json.dumps(GOOD_UF))
    with pytest.raises(BadInputError, match=rf"uf\.jsonl: line 3: .*{message}.*--skip-bad"):
        import_file(store, path)
    assert _nothing_written(store)


def test_skip_bad_lists_every_bad_line_and_writes_the_good_ones(store, tmp_path):
    other = dict(GOOD_UF, prompt="Say bye.")
    path = _lines(tmp_path / "uf.jsonl", json.dumps(GOOD_UF), "{oops", json.dumps(other),
                  json.dumps({"prompt": "x", "chosen": "Hi"}))
    report = import_file(store, path, skip_bad=True)
    assert [skip.line for skip in report.skipped] == [2, 4]
    assert "bad JSON" in report.skipped[0].reason
    assert (report.records, report.new_prompts, report.new_references) == (2, 2, 2)
    assert "line 2:" in report.summary()


def test_a_bad_refinement_in_a_stage1_line_is_named(store, tmp_path, samples):
    lines = (samples / "avr-stage1-scoring-detail.jsonl").read_text().splitlines()
    record = json.loads(lines[1])
    record["refinements"][2]["score"] = "high"
    path = _lines(tmp_path / "s1.jsonl", lines[0], json.dumps(record))
    with pytest.raises(BadInputError, match=r"line 2: refinement 3: field 'score' must be a number"):
        import_file(store, path)
    assert _nothing_written(store)


def test_a_malformed_long_thought_is_a_bad_record(store, tmp_path, samples):
    good = (samples / "avr-long-thought-sft.jsonl").read_text().strip()
    record = json.loads(good)
    record["messages"][1]["content"] = record["messages"][1]["content"].replace("Final answer:", "Answer:")
    path = _lines(tmp_path / "lt.jsonl", good, json.dumps(record))
    with pytest.raises(BadInputError, match=r"line 2: the assistant message is not a well-formed long thought"):
        import_file(store, path)
    assert import_file(store, path, skip_bad=True).new_chains == 1


def test_a_bad_record_in_a_json_list_is_named_by_its_line(store, tmp_path):
    path = tmp_path / "prompts.json"
    path.write_text('[\n  {"prompt": "a"},\n  {"prompt": 3},\n  {"prompt": "b"}\n]\n')
    with pytest.raises(BadInputError, match=r"prompts\.json: line 3: field 'prompt' must be a string"):
        import_file(store, path)
    path.write_text('[\n  {"prompt": "a"},\n  {"prompt": "b",,}\n]\n')
    with pytest.raises(BadInputError, match=r"line 3: bad JSON"):
        import_file(store, path, skip_bad=True)
    assert _nothing_written(store)


def test_an_empty_file_says_so(store, tmp_path):
    for name, text in [("empty.jsonl", ""), ("blank.jsonl", "\n\n"), ("empty.json", "[]")]:
        (tmp_path / name).write_text(text)
        with pytest.raises(BadInputError, match=rf"{name}: the file is empty"):
            import_file(store, tmp_path / name)


def test_unknown_formats_say_what_would_work(store, tmp_path):
    with pytest.raises(BadInputError, match=r"unknown file type '\.csv'.*\.jsonl"):
        import_file(store, _lines(tmp_path / "data.csv", "prompt\nhi"))
    with pytest.raises(BadInputError, match=r"line 1: cannot tell the format.*--format"):
        import_file(store, _lines(tmp_path / "odd.jsonl", json.dumps({"question": "hi"})))
    with pytest.raises(BadInputError, match="unknown import format 'csv'"):
        import_file(store, _lines(tmp_path / "ok.jsonl", json.dumps({"prompt": "hi"})), format="csv")
    with pytest.raises(BadInputError, match="no such file"):
        import_file(store, tmp_path / "missing.jsonl")
    with pytest.raises(BadInputError, match="save_to_disk"):
        import_file(store, tmp_path, format="hf-dataset")


def test_a_bad_parquet_row_is_named_by_its_row(store, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"prompt": "a", "chosen": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]},
            {"prompt": "c", "chosen": [{"role": "user", "content": "c"}, {"role": "user", "content": "d"}]}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "uf.parquet")
    with pytest.raises(BadInputError, match=r"uf\.parquet: row 2: the last message of 'chosen' must be the assistant"):
        import_file(store, tmp_path / "uf.parquet")
    assert [s.where for s in import_file(store, tmp_path / "uf.parquet", skip_bad=True).skipped] == ["row 2"]


def test_a_line_that_is_not_utf8_is_a_bad_record(store, tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"prompt": "ok"}\n{"prompt": "caf\xe9"}\n')
    with pytest.raises(BadInputError, match="line 2: not UTF-8"):
        import_file(store, path)
    assert import_file(store, path, skip_bad=True).new_prompts == 1

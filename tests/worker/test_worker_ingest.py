"""Importing a job's journal into the project database: idempotent, resumable, tolerant of a torn tail."""

import json

from backend import protocol
from backend.domain import Chain, Node, Prompt, Score
from backend.store import Store
from backend.worker.ingest import ingest_journal, ingest_pending_journals
from backend.worker.journal import JournalWriter, journal_path, read_records


def tree_records(prompt_id):
    response = Node("r1", prompt_id, "response", "Baking soda cleans.", job_id="j1")
    criticism = Node("c1", prompt_id, "criticism", "Too short.", parent_id="r1", self_rating=3, job_id="j1")
    improvement = Node("i1", prompt_id, "improvement", "It cleans and leavens.", parent_id="c1", job_id="j1")
    return [protocol.node_record(n) for n in (response, criticism, improvement)] + [
        protocol.score_record(Score("r1", "classifier:rm", 0.1)),
        protocol.score_record(Score("i1", "classifier:rm", 0.7)),
        protocol.chain_record(Chain("ch1", prompt_id, ("r1", "c1", "i1", "c1"), "i1", (0.1, 0.7))),
    ]


def make_store(tmp_path):
    store = Store.create(tmp_path / "project")
    prompt = Prompt.from_text("Name two uses of baking soda.")
    store.add_prompts([prompt])
    return store, prompt.id


def test_ingest_imports_each_record_once(tmp_path):
    store, prompt_id = make_store(tmp_path)
    job_dir = store.jobs_dir / "j1"
    writer = JournalWriter(job_dir)
    for record in tree_records(prompt_id):
        writer.append(record)
    writer.close()
    with store:
        assert ingest_journal(store, job_dir, "j1") == 6
        assert ingest_journal(store, job_dir, "j1") == 0
        assert [n.id for n in store.nodes_for_prompt(prompt_id)] == ["r1", "c1", "i1"]
        assert store.scores_for_prompt(prompt_id, "classifier:rm") == {"r1": 0.1, "i1": 0.7}
        assert [c.node_ids for c in store.chains(prompt_id)] == [("r1", "c1", "i1", "c1")]
        store.set_journal_offset("j1", 0)  # even re-reading from the start adds nothing twice
        ingest_journal(store, job_dir, "j1")
        assert len(store.nodes_for_prompt(prompt_id)) == 3 and len(store.chains(prompt_id)) == 1


def test_a_torn_last_line_waits_until_it_is_whole(tmp_path):
    store, prompt_id = make_store(tmp_path)
    job_dir = store.jobs_dir / "j2"
    first, second, *_ = tree_records(prompt_id)
    line = json.dumps(second).encode() + b"\n"
    path = journal_path(job_dir)
    job_dir.mkdir(parents=True)
    path.write_bytes(json.dumps(first).encode() + b"\n" + line[:20])
    with store:
        assert ingest_journal(store, job_dir, "j2") == 1
        assert [n.id for n in store.nodes_for_prompt(prompt_id)] == ["r1"]
        with path.open("ab") as handle:
            handle.write(line[20:])
        assert ingest_journal(store, job_dir, "j2") == 1
        assert [n.id for n in store.nodes_for_prompt(prompt_id)] == ["r1", "c1"]


def test_a_writer_cuts_a_torn_tail_before_appending(tmp_path):
    path = journal_path(tmp_path)
    path.write_bytes(b'{"type": "log", "n": 1}\n{"type": "no')
    writer = JournalWriter(tmp_path)
    assert writer.append({"type": "log", "n": 2}) == 1  # seq continues after the whole records
    writer.close()
    assert [r["n"] for _, r in read_records(tmp_path)] == [1, 2]


def test_pending_journals_of_every_job_folder_are_imported_at_start(tmp_path):
    store, prompt_id = make_store(tmp_path)
    for job_id, records in (("ja", tree_records(prompt_id)[:2]), ("jb", tree_records(prompt_id)[2:3])):
        writer = JournalWriter(store.jobs_dir / job_id)
        for record in records:
            writer.append(record)
        writer.close()
    (store.jobs_dir / "empty").mkdir()
    with store:
        assert ingest_pending_journals(store) == 3
        assert ingest_pending_journals(store) == 0
        assert len(store.nodes_for_prompt(prompt_id)) == 3

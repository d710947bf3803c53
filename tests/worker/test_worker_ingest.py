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


def write_journal(job_dir, lines):
    job_dir.mkdir(parents=True, exist_ok=True)
    journal_path(job_dir).write_bytes(b"".join(lines))


def as_line(record):
    return json.dumps(record).encode() + b"\n"


def test_a_garbage_line_is_skipped_with_a_note_naming_job_line_and_offset(tmp_path):
    store, prompt_id = make_store(tmp_path)
    job_dir = store.jobs_dir / "j3"
    records = tree_records(prompt_id)
    lines = [as_line(records[0]), b"\x00\x00garbage from a damaged block\n", *map(as_line, records[1:])]
    write_journal(job_dir, lines)
    seen = []
    with store:
        assert ingest_journal(store, job_dir, "j3", on_warning=seen.append) == 6  # every record after it too
        assert [n.id for n in store.nodes_for_prompt(prompt_id)] == ["r1", "c1", "i1"]
        [note] = store.job_notes("j3")
        assert note.level == "warning" and seen == [note.text]
        assert f"journal line 2 (byte {len(lines[0])})" in note.text and "j3" in note.text
        # the offset passed the bad line: the next open neither re-reads nor re-reports it
        assert ingest_journal(store, job_dir, "j3", on_warning=seen.append) == 0
        assert len(store.job_notes("j3")) == 1 and len(seen) == 1


def test_a_bad_last_line_is_reported_once(tmp_path):
    store, prompt_id = make_store(tmp_path)
    job_dir = store.jobs_dir / "j4"
    write_journal(job_dir, [as_line(tree_records(prompt_id)[0]), b"[1, 2]\n", as_line({"type": "node", "id": 5})])
    with store:
        assert ingest_journal(store, job_dir, "j4") == 1
        texts = [note.text for note in store.job_notes("j4")]
        assert len(texts) == 2 and "line 2" in texts[0] and "line 3" in texts[1]
        assert ingest_pending_journals(store) == 0 and len(store.job_notes("j4")) == 2


def stage1_job(store, job_id, criticisms=2, improvements=1):
    job_dir = store.jobs_dir / job_id
    job_dir.mkdir(parents=True)
    (job_dir / "request.json").write_text(json.dumps(
        {"kind": "stage1", "tree": {"criticisms": criticisms, "improvements": improvements, "rating_retries": 4}}))
    return job_dir


def node(node_id, prompt_id, kind, parent=None, job="j"):
    return protocol.node_record(Node(node_id, prompt_id, kind, f"text of {node_id}", parent_id=parent, job_id=job))


def test_a_result_for_a_full_slot_is_refused_and_kept_as_a_conflict(tmp_path):
    """The race of a killed CLI: its orphaned worker journals a criticism after a new run filled the slot."""
    store, prompt_id = make_store(tmp_path)
    new_run = stage1_job(store, "new")
    orphan = stage1_job(store, "orphan")
    writer = JournalWriter(new_run)
    for record in (node("r", prompt_id, "response"), node("c1", prompt_id, "criticism", "r"),
                   node("c2", prompt_id, "criticism", "r")):
        writer.append(record)
    writer.close()
    writer = JournalWriter(orphan)
    for record in (node("late-root", prompt_id, "response", job="orphan"),
                   node("c3", prompt_id, "criticism", "r", job="orphan"),
                   node("i3", prompt_id, "improvement", "c3", job="orphan"),
                   protocol.score_record(Score("i3", "classifier:rm", 0.9)),
                   node("i1", prompt_id, "improvement", "c1", job="orphan")):
        writer.append(record)
    writer.close()
    with store:
        ingest_journal(store, new_run, "new")
        seen = []
        assert ingest_journal(store, orphan, "orphan", on_warning=seen.append) == 1  # only i1 fits
        tree = {n.id: n for n in store.nodes_for_prompt(prompt_id)}
        assert set(tree) == {"r", "c1", "c2", "i1"}  # one root, two criticisms: never overfull
        conflicts = {c.node_id: c for c in store.slot_conflicts(prompt_id)}
        assert set(conflicts) == {"late-root", "c3", "i3"}
        assert conflicts["c3"].text == "text of c3" and conflicts["c3"].occupants == ("c1", "c2")
        assert conflicts["late-root"].occupants == ("r",) and conflicts["i3"].occupants == ("c3",)
        assert conflicts["i3"].scores == {"classifier:rm": 0.9}
        assert store.scores_for_prompt(prompt_id, "classifier:rm") == {}
        assert len(seen) == 1 and "3 result(s) were refused" in seen[0]
        # reading the journals again changes nothing
        store.set_journal_offset("orphan", 0)
        store.set_journal_offset("new", 0)
        ingest_pending_journals(store)
        assert {n.id for n in store.nodes_for_prompt(prompt_id)} == set(tree)
        assert store.count_slot_conflicts() == 3


def test_jobs_that_are_not_stage1_may_add_children_beyond_the_tree(tmp_path):
    store, prompt_id = make_store(tmp_path)
    grow = stage1_job(store, "grow", criticisms=1, improvements=1)
    writer = JournalWriter(grow)
    for record in (node("r", prompt_id, "response"), node("c", prompt_id, "criticism", "r"),
                   node("i", prompt_id, "improvement", "c")):
        writer.append(record)
    writer.close()
    regenerate = store.jobs_dir / "regen"
    regenerate.mkdir()
    (regenerate / "request.json").write_text(json.dumps({"kind": "regenerate"}))
    writer = JournalWriter(regenerate)
    writer.append(node("i2", prompt_id, "improvement", "c", job="regen"))
    writer.close()
    with store:
        ingest_pending_journals(store)
        assert {n.id for n in store.nodes_for_prompt(prompt_id)} == {"r", "c", "i", "i2"}
        assert store.count_slot_conflicts() == 0

"""The `regenerate` job through the real worker on the tiny model: improvements of an (edited)
criticism join the tree under it, are scored, and record the criticism text they came from."""

import hashlib
from dataclasses import replace

import pytest

from backend import protocol
from backend.config import SamplingConfig
from backend.domain import Annotation, Node, Prompt
from backend.errors import UserError
from backend.job_requests import NodeText
from backend.store import Store
from backend.worker.ingest import ingest_journal
from backend.worker.journal import read_records
from backend.worker.request_builders import regenerate_request
from tests.worker.worker_helpers import prepared, records, run_to_end

MODEL_TEXT = "Is the answer missing that baking soda cleans ovens?"
EDITED_TEXT = "The answer should say how much baking soda to use when cleaning an oven."


def sha1(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@pytest.fixture()
def project(tmp_path):
    """A project with one response and one criticism of it (round 0)."""
    with Store.create(tmp_path / "project") as store:
        prompt = Prompt.from_text("Name two uses of baking soda.")
        store.add_prompts([prompt])
        version = store.current_templates().version
        store.add_nodes([
            Node(id="r", prompt_id=prompt.id, kind="response", text="Baking and cleaning."),
            Node(id="c", prompt_id=prompt.id, kind="criticism", text=MODEL_TEXT, parent_id="r",
                 template_version=version, self_rating=3),
        ])
        yield store


def build(store, tiny_model, tiny_scorer, improvements=None):
    return regenerate_request(store, "c", tiny_model, [tiny_scorer], SamplingConfig(max_new_tokens=6, seed=3),
                              improvements)


def test_regenerated_improvements_of_an_edited_criticism_join_the_tree_scored(worker, tmp_path, project,
                                                                              tiny_model, tiny_scorer):
    project.add_annotation(Annotation(node_id="c", verdict=None, edited_text=EDITED_TEXT, author="tester"))
    request = build(project, tiny_model, tiny_scorer, improvements=3)
    assert request.criticism == NodeText("c", EDITED_TEXT, 0, edited=True)

    job = prepared(request, tmp_path)
    events = run_to_end(worker, job)
    assert isinstance(events[-1], protocol.JobFinished), events[-1]
    children = [protocol.record_to_object(r) for r in records(events, "node")]
    assert len(children) == 3
    for child in children:
        assert (child.kind, child.parent_id, child.round, child.job_id) == ("improvement", "c", 0, job.job_id)
        assert child.template_version == request.templates.version == project.current_templates().version
        # generated from the person's text, not the model's: the hash of the turn sent to the model
        assert child.sampling["from_edited_criticism"] is True and child.sampling["regenerated"] is True
        assert child.sampling["criticism_text_sha1"] == sha1(EDITED_TEXT) != sha1(MODEL_TEXT)
        assert child.sampling["seed"] == 3

    label = tiny_scorer.label
    scores = records(events, "score")
    assert sorted((s["node_id"], s["scorer"]) for s in scores) == sorted((c.id, label) for c in children)
    assert events[-1].summary["nodes"] == 3 and events[-1].summary["scores"] == 3
    assert [r for _, r in read_records(job.job_dir)] == records(events)  # journalled before emitted
    progress = [e for e in events if isinstance(e, protocol.Progress)]
    assert progress[-1].done == progress[-1].total == 6

    # ingested like any other job's results, the children sit under the criticism with their scores
    ingest_journal(project, job.job_dir, job.job_id)
    stored = [n for n in project.nodes_for_prompt(children[0].prompt_id) if n.parent_id == "c"]
    assert {n.id for n in stored} == {c.id for c in children}
    assert set(project.scores_for_prompt(children[0].prompt_id, label)) == {c.id for c in children}


def test_an_unedited_criticism_gets_the_default_count_from_its_model_text(worker, tmp_path, project, tiny_model,
                                                                          tiny_scorer):
    events = run_to_end(worker, prepared(build(project, tiny_model, tiny_scorer), tmp_path))
    assert isinstance(events[-1], protocol.JobFinished), events[-1]
    children = [protocol.record_to_object(r) for r in records(events, "node")]
    assert len(children) == 2  # TreeConfig().improvements
    assert all(c.sampling["from_edited_criticism"] is False for c in children)
    assert {c.sampling["criticism_text_sha1"] for c in children} == {sha1(MODEL_TEXT)}


def test_a_resubmitted_job_keeps_its_children_and_an_empty_criticism_is_refused(worker, tmp_path, project,
                                                                               tiny_model, tiny_scorer):
    request = build(project, tiny_model, tiny_scorer)
    job = prepared(request, tmp_path)
    first = records(run_to_end(worker, job), "node")
    again = run_to_end(worker, job)  # same job folder: the journal already holds both children
    assert isinstance(again[-1], protocol.JobFinished)
    assert records(again) == [] and again[-1].summary["nodes"] == 0 and len(first) == 2

    with pytest.raises(ValueError, match="criticism to improve from has no text"):
        replace(request, criticism=NodeText("c", "  "))  # such a request cannot even be made


def test_the_request_builder_refuses_a_node_that_is_not_a_criticism(project, tiny_model, tiny_scorer):
    with pytest.raises(UserError, match="select one in the tree"):
        regenerate_request(project, "r", tiny_model, [tiny_scorer], SamplingConfig())
    project.add_annotation(Annotation(node_id="c", verdict=None, edited_text="   ", author="tester"))
    with pytest.raises(UserError, match="^The criticism to improve from has no text"):
        build(project, tiny_model, tiny_scorer)

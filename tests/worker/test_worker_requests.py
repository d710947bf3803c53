"""Typed job requests: each kind round-trips through request.json, a bad or old one is refused with
the reason, and prepare_job makes one folder layout and one row shape."""

import doctest
import json
from datetime import UTC, datetime

import pytest

from backend import protocol, typed_json
from backend.avr.templates import DEFAULT_TEMPLATES, SMALL_MODEL_TEMPLATES
from backend.config import ChainConfig, ModelSpec, SamplingConfig, ScorerSpec, TreeConfig
from backend.domain import Node, Prompt, Score
from backend.job_requests import (
    REQUEST_TYPES,
    ChainRequest,
    ChainStart,
    EvalSide,
    EvaluateRequest,
    MergeRequest,
    NodeText,
    RefineRequest,
    RegenerateRequest,
    SampleThoughtsRequest,
    ScoreItem,
    ScoreRequest,
    Stage1Request,
    TrainRequest,
)
from backend.store import Store
from backend.worker import submission

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
PROMPTS = [Prompt("p1", "Name two uses of baking soda.", "demo", {"system": "Be brief."}), Prompt("p2", "Why?")]
MODEL = ModelSpec(name="/models/x", engine="openai", base_urls=["http://127.0.0.1:8000/v1"], rating_mode="drop",
                  max_concurrency=3)
SCORER = ScorerSpec(kind="server", model="rm", base_url="http://127.0.0.1:8001", batch_size=4)
SAMPLING = SamplingConfig(temperature=0.3, top_p=0.9, max_new_tokens=None, seed=7)

# One request of every kind, every field away from its default.
EXAMPLES = [
    Stage1Request(PROMPTS, SMALL_MODEL_TEMPLATES, MODEL, [SCORER, ScorerSpec()], SAMPLING, TreeConfig(3, 1, 2),
                  known_nodes=[Node("r", "p1", "response", "Baking.", model="m", sampling={"seed": 1}, seed=1,
                                    job_id="j0", created_at=T0)],
                  known_scores=[Score("r", "server:rm", -1.5, created_at=T0)]),
    ChainRequest(PROMPTS, DEFAULT_TEMPLATES, MODEL, SCORER, SAMPLING, ChainConfig(rounds=2, start="best"),
                 TreeConfig(rating_retries=1), starts={"p1": ChainStart("r", "Baking.", 0.25),
                                                       "p2": ChainStart("s", "Because.")}),
    ScoreRequest([ScoreItem("r", "Name two uses of baking soda.", "Baking.")], SCORER),
    RegenerateRequest(PROMPTS[0], NodeText("r", "Baking."), NodeText("c", "Say how much.", 0, edited=True),
                      SMALL_MODEL_TEMPLATES, 3, MODEL, [SCORER], SAMPLING),
    RefineRequest("Name two uses of baking soda.", DEFAULT_TEMPLATES, 4, MODEL, SCORER, SAMPLING),
    TrainRequest("r1", "/p/runs/r1", base_folder="/cluster/base"),
    SampleThoughtsRequest(PROMPTS, MODEL, SCORER, SAMPLING, references={"p1": "Baking soda cleans."}, samples=3,
                          tries=1),
    EvaluateRequest("e1", PROMPTS, [EvalSide("base", MODEL, SAMPLING),
                                    EvalSide("trained", ModelSpec(name="run:r1"), SamplingConfig(), long_thought=True)],
                    [SCORER, ScorerSpec()]),
    MergeRequest("r1", "/p/runs", "/models/merged"),
]


def test_every_kind_has_an_example():
    assert {type(r).KIND for r in EXAMPLES} == set(REQUEST_TYPES)


@pytest.mark.parametrize("request_", EXAMPLES, ids=lambda r: r.KIND)
def test_a_request_round_trips_through_its_json_file(request_):
    text = json.dumps(protocol.encode_request(request_))  # what prepare_job writes
    assert protocol.decode_request(json.loads(text)) == request_


def test_the_encoding_is_the_dataclasses_fields_written_out():
    request = ScoreRequest([ScoreItem("n1", "x", "y")], ScorerSpec(kind="likelihood", model="embedded"))
    assert protocol.encode_request(request) == {
        "v": protocol.PROTOCOL_VERSION, "kind": "score",
        "items": [{"node_id": "n1", "prompt": "x", "answer": "y"}],
        "scorer": {"kind": "likelihood", "model": "embedded", "base_url": "", "batch_size": 8, "max_length": 1024},
    }
    stage1 = protocol.encode_request(EXAMPLES[0])
    assert stage1["known_nodes"][0]["created_at"] == "2026-01-02T03:04:05+00:00"
    assert stage1["prompts"][0] == {"id": "p1", "text": "Name two uses of baking soda.", "source": "demo",
                                    "meta": {"system": "Be brief."}}


def _encoded(**changes):
    body = protocol.encode_request(EXAMPLES[2])
    body.update(changes)
    return body


@pytest.mark.parametrize("body, fragment", [
    (_encoded(v=1), "written by protocol version 1 and this worker reads version"),
    ({"kind": "score"}, "written by protocol version None"),
    (_encoded(kind="bake_bread"), "unknown job kind 'bake_bread'; this worker runs chain, evaluate, merge, refine"),
    (_encoded(colour="blue"), "unknown field(s) ['colour']"),
    (_encoded(items=[{"node_id": "n", "prompt": "x"}]), "score request.items[0]: missing field(s) ['answer']"),
    (_encoded(items=[{"node_id": 5, "prompt": "x", "answer": "y"}]), "items[0].node_id: expected a str, got int"),
    (_encoded(scorer={"kind": "server"}), "a server scorer needs base_url"),
    (_encoded(items=[]), "nothing to score"),
    ([1, 2], "must be a JSON object"),
])
def test_a_bad_or_old_request_is_refused_with_what_is_wrong(body, fragment):
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.decode_request(body)
    assert fragment in str(refused.value)


def test_prepare_job_writes_one_folder_layout_and_one_row_shape(tmp_path):
    request = EXAMPLES[0]
    with Store.create(tmp_path / "project") as store:
        job = submission.prepare_job(request, store=store)
        assert job.job_dir == store.jobs_dir / job.job_id and job.kind == "stage1"
        assert job.job_id.startswith("stage1-")
        assert [p.name for p in job.job_dir.iterdir()] == ["request.json"]  # the worker adds journal and log
        on_disk = json.loads((job.job_dir / "request.json").read_text(encoding="utf-8"))
        assert protocol.decode_request(on_disk) == request
        row = store.get_job(job.job_id)
        assert (row.kind, row.status) == ("stage1", "queued")
        # the row keeps the settings; the bulky inputs stay in the file and the row says how many
        assert row.request["model"] == on_disk["model"] and row.request["tree"] == on_disk["tree"]
        assert row.request["prompts"] == {"count": 2, "in": "request.json"}
        assert row.request["known_nodes"] == {"count": 1, "in": "request.json"}
        assert row.request["known_scores"] == {"count": 1, "in": "request.json"}
        assert job.submit_message() == protocol.SubmitJob(job.job_id, str(job.job_dir))
    outside = submission.prepare_job(EXAMPLES[4], jobs_dir=tmp_path / "scratch")  # refine: no project
    assert outside.job_dir.parent == tmp_path / "scratch"


@pytest.mark.parametrize("module", [typed_json, protocol, submission])
def test_worked_examples_in_docstrings_hold(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0

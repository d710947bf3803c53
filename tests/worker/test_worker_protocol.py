"""Protocol messages round-trip through JSON lines; bad lines fail with a clear ProtocolError."""

import json

import pytest

from backend import protocol
from backend.domain import Chain, Node, Score

MESSAGES = [
    protocol.Hello("cli"),
    protocol.SubmitJob("j1", "/tmp/j1"),
    protocol.CancelJob("j1"),
    protocol.Shutdown(),
    protocol.Ready(protocol.PROTOCOL_VERSION, 42, "3.12.1", "2.13.0", "5.24.0", ["cpu"]),
    protocol.JobStarted("j1", "stage1"),
    protocol.Progress("j1", 3, 10, 12.5, 4.0, "criticize done"),
    protocol.Result("j1", 0, {"type": "score", "node_id": "n", "scorer": "s", "value": 1.0}),
    protocol.Log("j1", "warning", "ratings failed"),
    protocol.Log(None, "error", "bad request"),
    protocol.JobFailed("j1", "The model could not be loaded", "Choose a folder", "Traceback ..."),
    protocol.JobFinished("j1", {"nodes": 7}),
    protocol.JobCancelled("j1"),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.TYPE)
def test_every_message_round_trips_as_one_line(message):
    line = message.to_line()
    assert line.endswith("\n") and line.count("\n") == 1
    assert protocol.parse_line(line) == message
    assert protocol.parse_line(line.encode()) == message


@pytest.mark.parametrize("line, fragment", [
    ("not json", "not a JSON protocol line"),
    ("[1, 2]", "must be a JSON object"),
    (json.dumps({"v": 999, "type": "hello"}), "protocol version 999"),
    (json.dumps({"type": "hello"}), "protocol version None"),
    (json.dumps({"v": protocol.PROTOCOL_VERSION, "type": "launch_rockets"}), "unknown message type"),
    (json.dumps({"v": protocol.PROTOCOL_VERSION, "type": "cancel_job"}), "bad 'cancel_job' message"),
])
def test_bad_lines_raise_protocol_error_that_says_why(line, fragment):
    with pytest.raises(protocol.ProtocolError, match=fragment):
        protocol.parse_line(line)


def test_unknown_fields_from_a_newer_minor_side_are_ignored():
    body = json.loads(protocol.CancelJob("j").to_line())
    body["extra"] = 1
    assert protocol.parse_line(json.dumps(body)) == protocol.CancelJob("j")


def test_domain_objects_round_trip_through_journal_records():
    node = Node("n1", "p1", "criticism", "Too short. Rating: [[3]]", parent_id="r1", round=1,
                template_version="t1", model="m", sampling={"temperature": 0.7}, seed=5, self_rating=3,
                job_id="j1")
    score = Score("n1", "likelihood:embedded", -1.25)
    chain = Chain("c1", "p1", ("y0", "c1", "y1", "c2"), "y1", (0.1, 0.9), "lt1")
    for obj, record in ((node, protocol.node_record(node)), (score, protocol.score_record(score)),
                        (chain, protocol.chain_record(chain))):
        assert isinstance(record["created_at"], str)
        record = json.loads(json.dumps(record))  # what the journal holds
        assert protocol.record_to_object(record) == obj
    assert protocol.record_to_object({"type": "refine_round", "round": 1}) is None

"""Typed JSON-lines messages between the app (GUI or CLI) and `python -m backend.worker` (stdlib only).

Every line is one JSON object `{"v": PROTOCOL_VERSION, "type": ..., ...fields}`. Requests flow from the
app to the worker on stdin; events flow back on stdout. Journal records (what a job produced) travel
inside `Result.record` and are the same dicts the job's journal file holds.

A job's inputs are a typed request (`backend.job_requests`), written once to the job's
`request.json` by `encode_request` and read once by the worker with `decode_request`; the
`SubmitJob` line only names the job and its folder. Both carry the same version.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar

from backend.domain import Chain, Node, Score
from backend.job_requests import REQUEST_TYPES, JobRequest
from backend.typed_json import TypedJsonError, from_json_value, to_json_value

# 2: SubmitJob names the job folder, whose request.json holds a typed request (1 sent a dict payload).
PROTOCOL_VERSION = 2


class ProtocolError(ValueError):
    """A line that is not a message of this protocol version (a bug or a mismatched worker)."""


@dataclass
class Message:
    TYPE: ClassVar[str] = ""

    def to_line(self) -> str:
        """One JSON line, newline included."""
        body = {"v": PROTOCOL_VERSION, "type": self.TYPE, **asdict(self)}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"


# -- requests: app → worker ---------------------------------------------------------------------
@dataclass
class Hello(Message):
    TYPE: ClassVar[str] = "hello"
    client: str = ""


@dataclass
class SubmitJob(Message):
    """Run the job prepared in `job_dir` (backend.worker.submission): its request.json holds the inputs."""

    TYPE: ClassVar[str] = "submit_job"
    job_id: str
    job_dir: str


@dataclass
class CancelJob(Message):
    TYPE: ClassVar[str] = "cancel_job"
    job_id: str


@dataclass
class Shutdown(Message):
    TYPE: ClassVar[str] = "shutdown"


# -- events: worker → app -----------------------------------------------------------------------
@dataclass
class Ready(Message):
    TYPE: ClassVar[str] = "ready"
    protocol_version: int
    pid: int
    python: str
    torch: str | None = None
    transformers: str | None = None
    devices: list[str] = field(default_factory=list)


@dataclass
class JobStarted(Message):
    TYPE: ClassVar[str] = "job_started"
    job_id: str
    kind: str = ""


@dataclass
class Progress(Message):
    TYPE: ClassVar[str] = "progress"
    job_id: str
    done: int
    total: int
    tokens_per_s: float | None = None
    eta_s: float | None = None
    message: str = ""


@dataclass
class Result(Message):
    """One journal record; `seq` is its line number in the job's journal (0-based)."""

    TYPE: ClassVar[str] = "result"
    job_id: str
    seq: int
    record: dict[str, Any] = field(default_factory=dict)


@dataclass
class Log(Message):
    TYPE: ClassVar[str] = "log"
    job_id: str | None
    level: str  # "debug" | "info" | "warning" | "error"
    text: str


@dataclass
class JobFailed(Message):
    TYPE: ClassVar[str] = "job_failed"
    job_id: str
    title: str
    what_to_do: str
    traceback: str = ""


@dataclass
class JobFinished(Message):
    TYPE: ClassVar[str] = "job_finished"
    job_id: str
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobCancelled(Message):
    TYPE: ClassVar[str] = "job_cancelled"
    job_id: str


REQUESTS = (Hello, SubmitJob, CancelJob, Shutdown)
EVENTS = (Ready, JobStarted, Progress, Result, Log, JobFailed, JobFinished, JobCancelled)
TERMINAL_EVENTS = (JobFailed, JobFinished, JobCancelled)
_BY_TYPE: dict[str, type[Message]] = {cls.TYPE: cls for cls in (*REQUESTS, *EVENTS)}


def parse_line(line: str | bytes) -> Message:
    """The message on one line; ProtocolError if it is not JSON, of another version, or unknown.

    >>> parse_line(CancelJob("j1").to_line())
    CancelJob(job_id='j1')
    """
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    try:
        body = json.loads(line)
    except ValueError:
        raise ProtocolError(f"not a JSON protocol line: {line[:200]!r}") from None
    if not isinstance(body, dict):
        raise ProtocolError(f"a protocol line must be a JSON object: {line[:200]!r}")
    version = body.pop("v", None)
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version!r} received, this side speaks {PROTOCOL_VERSION}; "
                            "the app and the worker come from different versions of AvR Studio")
    kind = body.pop("type", None)
    cls = _BY_TYPE.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise ProtocolError(f"unknown message type {kind!r}; known: {sorted(_BY_TYPE)}")
    known = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in body.items() if k in known})
    except TypeError as exc:
        raise ProtocolError(f"bad {kind!r} message: {exc}") from None


# -- job requests -------------------------------------------------------------------------------
def encode_request(request: JobRequest) -> dict[str, Any]:
    """The request as a JSON-ready object: `{"v": PROTOCOL_VERSION, "kind": ..., ...fields}`."""
    return {"v": PROTOCOL_VERSION, "kind": request.KIND, **to_json_value(request)}


def decode_request(data: Any) -> JobRequest:
    """The typed request `encode_request` wrote; ProtocolError says what is wrong and what to do.

    >>> from backend.job_requests import ScoreRequest, ScoreItem
    >>> decode_request(encode_request(ScoreRequest([ScoreItem("n1", "x", "y")]))).items
    [ScoreItem(node_id='n1', prompt='x', answer='y')]
    """
    if not isinstance(data, dict):
        raise ProtocolError(f"a job request must be a JSON object, not {type(data).__name__}")
    body = dict(data)
    version = body.pop("v", None)
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"the job request was written by protocol version {version!r} and this worker reads "
                            f"version {PROTOCOL_VERSION}: it comes from another version of AvR Studio. "
                            "Submit the job again from this version.")
    kind = body.pop("kind", None)
    cls = REQUEST_TYPES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise ProtocolError(f"unknown job kind {kind!r}; this worker runs {', '.join(sorted(REQUEST_TYPES))}. "
                            "Update the worker's AvR Studio to the app's version.")
    try:
        return from_json_value(cls, body, f"{kind} request")
    except TypedJsonError as exc:
        raise ProtocolError(f"bad job request: {exc}") from None


# -- journal records ----------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def node_record(node: Node) -> dict[str, Any]:
    record = asdict(node)
    record["created_at"] = _iso(node.created_at)
    return {"type": "node", **record}


def score_record(score: Score) -> dict[str, Any]:
    return {"type": "score", "node_id": score.node_id, "scorer": score.scorer, "value": score.value,
            "created_at": _iso(score.created_at)}


def chain_record(chain: Chain) -> dict[str, Any]:
    record = asdict(chain)
    record["node_ids"] = list(chain.node_ids)
    record["scores"] = list(chain.scores)
    record["created_at"] = _iso(chain.created_at)
    return {"type": "chain", **record}


def _fields_of(cls: type, record: dict[str, Any]) -> dict[str, Any]:
    known = {f.name for f in fields(cls)}
    return {k: v for k, v in record.items() if k in known}


def record_to_object(record: dict[str, Any]) -> Node | Score | Chain | None:
    """The domain object a journal record describes; None for record types with no stored object
    (e.g. "refine_round", which only the refine job's caller reads)."""
    kind = record.get("type")
    if kind == "node":
        data = _fields_of(Node, record)
        data["created_at"] = _dt(data.get("created_at")) or datetime.now().astimezone()
        return Node(**data)
    if kind == "score":
        data = _fields_of(Score, record)
        data["created_at"] = _dt(data.get("created_at")) or datetime.now().astimezone()
        return Score(**data)
    if kind == "chain":
        data = _fields_of(Chain, record)
        data["node_ids"] = tuple(data.get("node_ids") or ())
        data["scores"] = tuple(data.get("scores") or ())
        data["created_at"] = _dt(data.get("created_at")) or datetime.now().astimezone()
        return Chain(**data)
    return None

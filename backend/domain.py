"""Plain dataclasses shared by every layer: what a prompt, node, score, annotation, pair and chain are.

Stdlib only. Ids of imported things are content hashes (so re-importing a file adds nothing);
ids of generated things are random (two samples of the same text are still two nodes).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

NodeKind = Literal["response", "criticism", "improvement", "long_thought"]
Verdict = Literal["accept", "reject", "skip"]
PairKind = Literal["response", "criticism", "improvement", "edit", "long_thought"]
DecidedBy = Literal["reward", "human"]
Message = dict[str, str]  # {"role": "user" | "assistant" | "system", "content": str}

NODE_KINDS: tuple[str, ...] = ("response", "criticism", "improvement", "long_thought")
# The kinds of node a Stage I tree is made of (a long thought stands alone).
STAGE1_NODE_KINDS: tuple[str, ...] = ("response", "criticism", "improvement")
# Nodes of a Stage I tree that answer the prompt: the reward model scores them, R(x, y).
TREE_ANSWER_KINDS: tuple[str, ...] = ("response", "improvement")
# Every node whose text answers the prompt: the tree's answers and a long thought (by its final answer).
ANSWER_NODE_KINDS: tuple[str, ...] = (*TREE_ANSWER_KINDS, "long_thought")
# Nodes a person can accept, reject or skip (a long thought takes no verdict).
VERDICT_NODE_KINDS: tuple[str, ...] = STAGE1_NODE_KINDS
VERDICTS: tuple[str, ...] = ("accept", "reject", "skip")
# Annotation values that undo instead of set: verdict CLEAR_VERDICT drops the node's verdict,
# edited_text REVERT_EDIT goes back to the model's text (None in either field keeps what is there).
CLEAR_VERDICT = ""
REVERT_EDIT = ""
PAIR_KINDS: tuple[str, ...] = ("response", "criticism", "improvement", "edit", "long_thought")
# The pairs a Stage I tree yields (backend/avr/pairs.py); long_thought pairs come from Stage II.
STAGE1_PAIR_KINDS: tuple[str, ...] = ("response", "criticism", "improvement", "edit")
# rsft: Stage I rejection-sampled (from a tree); reference: a prompt's reference answer mixed into the
# RSFT set (DESIGN.md §1.3.1); long_thought: Stage II.
SFT_KINDS: tuple[str, ...] = ("rsft", "reference", "long_thought")
SYSTEM_META_KEY = "system"  # Prompt.meta key of an imported leading system message
IMPORTED_MODEL = "imported"  # Node.model of text imported from a file, not generated in the project


def content_id(*parts: object) -> str:
    """A stable 16-hex id from the given parts; the same parts always give the same id.

    >>> content_id("prompt", "Name two uses of baking soda.")
    'f280f8df8ae15a44'
    """
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return digest[:16]


def random_id() -> str:
    return uuid.uuid4().hex[:16]


def now() -> datetime:
    return datetime.now(UTC)


def prompt_id_for(text: str) -> str:
    """Prompts are identified by their text, so the same instruction from two files is one prompt."""
    return content_id("prompt", text)


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str
    source: str = ""  # file or dataset it came from, or "demo" / "typed"
    meta: dict[str, Any] = field(default_factory=dict)  # extra fields of the imported record

    @classmethod
    def from_text(cls, text: str, source: str = "", meta: dict[str, Any] | None = None) -> Prompt:
        return cls(id=prompt_id_for(text), text=text, source=source, meta=dict(meta or {}))

    @property
    def system(self) -> str | None:
        """The leading system message the prompt was imported with, if any (it opens every context)."""
        value = self.meta.get(SYSTEM_META_KEY)
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class ReferenceAnswer:
    """A data set's own answer to a prompt (UltraFeedback `chosen`), kept apart from the trees
    (DESIGN.md §1.2): Stage II's default start y0, its DPO baseline, and the RSFT reference mix."""

    prompt_id: str
    text: str
    source: str = ""  # the file or data set it came from
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"score": 7.1, "scorer": "imported:ultrafeedback"}
    added_at: datetime = field(default_factory=now)


@dataclass(frozen=True)
class Node:
    """One generated (or imported) text in a refinement tree.

    response: parent None; criticism: parent a response or improvement; improvement: parent a
    criticism; long_thought: parent None (a Stage II sample). `round` is 0 for the first tree and
    grows by one per accepted Stage II refinement.
    """

    id: str
    prompt_id: str
    kind: str  # one of NODE_KINDS
    text: str
    parent_id: str | None = None
    round: int = 0
    template_version: str | None = None  # templates that produced it (criticism / improvement)
    model: str = ""
    sampling: dict[str, Any] = field(default_factory=dict)  # temperature, top_p, max_new_tokens, ...
    seed: int | None = None
    self_rating: int | None = None  # the `Rating: [[k]]` of a criticism; never the reward
    job_id: str | None = None
    created_at: datetime = field(default_factory=now)


@dataclass(frozen=True)
class Score:
    node_id: str
    scorer: str  # a scorer's name, e.g. "likelihood:smollm2-135m"; several per node are fine
    value: float
    created_at: datetime = field(default_factory=now)


@dataclass(frozen=True)
class Annotation:
    """One act of a person on a node. Append-only: the current state is the latest per node."""

    node_id: str
    verdict: str | None  # one of VERDICTS, CLEAR_VERDICT, or None for an edit that keeps the verdict
    edited_text: str | None = None
    author: str = ""
    id: str = field(default_factory=random_id)
    created_at: datetime = field(default_factory=now)


@dataclass(frozen=True)
class NodeState:
    """The derived current curation state of one node (latest verdict, latest edit)."""

    verdict: str | None = None
    edited_text: str | None = None


@dataclass(frozen=True)
class Pair:
    """A preference pair. `context` is the conversation before the compared assistant turn."""

    kind: str  # one of PAIR_KINDS
    prompt_id: str
    context: list[Message]
    chosen: str
    rejected: str
    decided_by: str = "reward"  # "reward" or "human"
    chosen_node_id: str | None = None
    rejected_node_id: str | None = None
    chosen_score: float | None = None
    rejected_score: float | None = None
    rules: str = "paper"  # the rule set that built it (PairConfig.rule_set); decided_by says who chose

    @property
    def id(self) -> str:
        return content_id("pair", self.kind, self.prompt_id, self.chosen_node_id, self.rejected_node_id,
                          self.chosen, self.rejected)


@dataclass(frozen=True)
class SftSample:
    """A supervised sample: the whole conversation; the last message is the assistant target."""

    kind: str  # one of SFT_KINDS
    prompt_id: str
    messages: list[Message]
    node_ids: tuple[str, ...] = ()
    rules: str = "paper"  # the rule set that built it (PairConfig.rule_set)

    @property
    def id(self) -> str:
        return content_id("sft", self.kind, self.prompt_id, *[m["content"] for m in self.messages])


@dataclass(frozen=True)
class Chain:
    """A Stage II greedy refinement chain: answers y0..yn with the criticisms between them."""

    id: str
    prompt_id: str
    node_ids: tuple[str, ...]  # y0, c1, y1, c2, y2, ..., c_final (alternating answers and criticisms)
    best_node_id: str
    scores: tuple[float, ...] = ()  # reward of each answer in node_ids order (criticisms skipped)
    long_thought_node_id: str | None = None
    created_at: datetime = field(default_factory=now)


@dataclass(frozen=True)
class Templates:
    """The JUDGE and REVISE user turns (DESIGN.md §1.1), versioned; every node records its version."""

    version: str
    judge: str
    revise: str
    name: str = "default"

    @classmethod
    def make(cls, judge: str, revise: str, name: str = "default") -> Templates:
        return cls(version=content_id("templates", judge, revise), judge=judge, revise=revise, name=name)


@dataclass(frozen=True)
class Job:
    id: str
    kind: str  # "stage1", "chain", "score", "refine", "train_sft", "train_dpo", ...
    status: str  # "queued" | "running" | "finished" | "failed" | "cancelled"
    request: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=now)
    finished_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class Run:
    """A training run (backend/training): its folder `runs/<id>/` holds the config, data snapshot,
    checkpoints, adapter or model, metrics and result; this row is what the app lists and picks."""

    id: str
    stage: str  # "rsft" | "dpo" | "long_sft" | "long_dpo" | "reward"
    config: dict[str, Any]  # the exact TrainingConfig it ran with, preset filled in
    data_hash: str  # hash of the Parquet snapshot it read
    status: str  # "prepared" | "running" | "finished" | "failed" | "cancelled"
    output_dir: str  # the run folder, relative to the project folder
    created_at: datetime = field(default_factory=now)
    base: str = ""  # the model it started from (embedded name, folder, or run:<id>)
    seed: int | None = None
    adapter_path: str | None = None  # the trained adapter or model folder, relative to the project folder
    metrics: dict[str, Any] = field(default_factory=dict)  # final metrics
    environment: dict[str, Any] = field(default_factory=dict)  # package versions, device, processes
    finished_at: datetime | None = None
    error: str | None = None

"""Typed job requests: one dataclass per job kind, the one shape of everything a job needs.

The worker never opens the project database, so a request carries its inputs (the prompts, and the
nodes and scores already stored, so that a job makes only what is missing). The settings are the
config dataclasses themselves (`ModelSpec`, `SamplingConfig`, `ScorerSpec`, `TreeConfig`,
`ChainConfig`, `Templates`), embedded whole, so a field added to one of them reaches the worker
with no change here.

The path of a request: `backend/worker/request_builders.py` reads the project into one;
`backend.worker.submission.prepare_job` encodes it once (`backend.protocol.encode_request`) into
`jobs/<id>/request.json`; the worker decodes it once (`backend.protocol.decode_request`) and calls
the job's `run(request, ctx)`.

A new kind (the training jobs follow this): a dataclass here with its `KIND`, its settings as
embedded config dataclasses, `BULKY` naming the fields too big for the jobs table, an entry in
`REQUEST_TYPES`; then a module in `backend/worker/jobs/` with `run(request, ctx) -> summary`,
listed in `backend.worker.jobs.JOB_MODULES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from backend.config import ChainConfig, ModelSpec, SamplingConfig, ScorerSpec, TreeConfig
from backend.domain import Node, Prompt, Score, Templates


@dataclass
class JobRequest:
    """What every request kind has: its `KIND` and which of its fields stay out of the jobs table."""

    KIND: ClassVar[str] = ""
    BULKY: ClassVar[tuple[str, ...]] = ()  # kept in request.json only (the row says how many)


@dataclass(frozen=True)
class ChainStart:
    """A chain's first answer y0, with its score under the chain's scorer if it has one: a stored answer,
    or (`reference`) the prompt's reference answer, which the job stores as an imported response node
    with this id (`backend.worker.request_builders.reference_start_id`)."""

    node_id: str
    text: str
    score: float | None = None
    reference: bool = False


@dataclass(frozen=True)
class ScoreItem:
    """One answer to score, with the prompt it answers (a long thought's final answer only)."""

    node_id: str
    prompt: str
    answer: str


@dataclass(frozen=True)
class NodeText:
    """A node as a job sees it: its current text (the person's edit, if any) and where it sits."""

    id: str
    text: str
    round: int = 0
    edited: bool = False


def _needs_prompts(kind: str, prompts: list[Prompt]) -> None:
    if not prompts:
        raise ValueError(f"the {kind} job has no prompts; import prompts into the project first "
                         "(avr-studio import DIR FILE), or check the prompt selection")


@dataclass
class Stage1Request(JobRequest):
    """Grow each prompt's round-0 tree (1 → k → k·m) and score every answer with each scorer."""

    KIND: ClassVar[str] = "stage1"
    BULKY: ClassVar[tuple[str, ...]] = ("prompts", "known_nodes", "known_scores")
    prompts: list[Prompt]
    templates: Templates
    model: ModelSpec = field(default_factory=ModelSpec)
    scorers: list[ScorerSpec] = field(default_factory=lambda: [ScorerSpec()])
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    tree: TreeConfig = field(default_factory=TreeConfig)
    known_nodes: list[Node] = field(default_factory=list)  # stored round-0 nodes: not generated again
    known_scores: list[Score] = field(default_factory=list)  # their stored scores: not scored again

    def __post_init__(self) -> None:
        _needs_prompts(self.KIND, self.prompts)


@dataclass
class ChainRequest(JobRequest):
    """Stage II greedy chains from each prompt's y0 (`starts`: its reference answer or best stored answer,
    per `ChainConfig.start`; a fresh answer where there is none), the scorer as the acceptance test."""

    KIND: ClassVar[str] = "chain"
    BULKY: ClassVar[tuple[str, ...]] = ("prompts", "starts")
    prompts: list[Prompt]
    templates: Templates
    model: ModelSpec = field(default_factory=ModelSpec)
    scorer: ScorerSpec = field(default_factory=ScorerSpec)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    chain: ChainConfig = field(default_factory=ChainConfig)
    tree: TreeConfig = field(default_factory=TreeConfig)  # rating_retries of each round's criticisms
    starts: dict[str, ChainStart] = field(default_factory=dict)  # prompt id -> y0 (none: a fresh answer)

    def __post_init__(self) -> None:
        _needs_prompts(self.KIND, self.prompts)


@dataclass
class ScoreRequest(JobRequest):
    """Score stored answers with one scorer."""

    KIND: ClassVar[str] = "score"
    BULKY: ClassVar[tuple[str, ...]] = ("items",)
    items: list[ScoreItem]
    scorer: ScorerSpec = field(default_factory=ScorerSpec)

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("nothing to score: the selection has no answers; generate trees first")


@dataclass
class RegenerateRequest(JobRequest):
    """New improvements of one criticism from its current text (the person's edit, if any)."""

    KIND: ClassVar[str] = "regenerate"
    prompt: Prompt
    answer: NodeText  # the answer the criticism judged, as it reads now
    criticism: NodeText
    templates: Templates  # the ones that produced the criticism
    improvements: int = 2
    model: ModelSpec = field(default_factory=ModelSpec)
    scorers: list[ScorerSpec] = field(default_factory=lambda: [ScorerSpec()])
    sampling: SamplingConfig = field(default_factory=SamplingConfig)

    def __post_init__(self) -> None:
        if self.improvements < 1:
            raise ValueError(f"asked for {self.improvements} improvements; ask for at least 1")
        for name, part in (("answer", self.answer), ("criticism", self.criticism)):
            if not part.id or not part.text.strip():
                raise ValueError(f"the {name} to improve from has no text; select a criticism with a stored "
                                 "answer (and, if you edited it, give it some text)")


@dataclass
class RefineRequest(JobRequest):
    """Recursive refinement of one typed prompt at inference time; nothing is stored."""

    KIND: ClassVar[str] = "refine"
    prompt: str
    templates: Templates
    rounds: int = 3
    model: ModelSpec = field(default_factory=ModelSpec)
    scorer: ScorerSpec = field(default_factory=ScorerSpec)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)

    def __post_init__(self) -> None:
        if not self.prompt.strip():
            raise ValueError("refine needs a prompt: pass the question as text")
        if self.rounds < 1:
            raise ValueError("rounds must be at least 1")


# -- training (backend/training; the jobs in backend/worker/jobs/{train,sample_thoughts,evaluate,merge}.py) --

@dataclass
class TrainRequest(JobRequest):
    """Train (or resume from its last checkpoint) one prepared run: its folder `runs/<id>/` holds the exact
    config and the data snapshot (`backend.training.runs.prepare_run`), so the folder is the whole input."""

    KIND: ClassVar[str] = "train"
    run_id: str
    run_dir: str  # absolute path of the run folder
    base_folder: str | None = None  # load the recorded base from this folder instead (a copy elsewhere)

    def __post_init__(self) -> None:
        if not self.run_id.strip() or not self.run_dir.strip():
            raise ValueError("a training job needs a prepared run; prepare one with backend.training.runs.prepare_run")


@dataclass
class SampleThoughtsRequest(JobRequest):
    """Stage II after SFT: sample `samples` long thoughts per prompt with the SFT model (a thought without a
    parseable 'Final answer:' is sampled again, `tries` in all), score each final answer and the prompt's
    reference answer, and choose the prompt's long-thought DPO pair (`backend.avr.stage2`)."""

    KIND: ClassVar[str] = "sample_thoughts"
    BULKY: ClassVar[tuple[str, ...]] = ("prompts", "references")
    prompts: list[Prompt]
    model: ModelSpec
    scorer: ScorerSpec
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    references: dict[str, str] = field(default_factory=dict)  # prompt id -> reference answer (the pair's gate)
    samples: int = 5
    tries: int = 2

    def __post_init__(self) -> None:
        _needs_prompts(self.KIND, self.prompts)
        if self.samples < 2 or self.tries < 1:
            raise ValueError("a long-thought pair needs at least 2 samples per prompt and 1 try each")


@dataclass(frozen=True)
class EvalSide:
    """One model of a before/after evaluation: `name` 'base' or 'trained'. A Stage II model writes a long
    thought, whose answer is the text after 'Final answer:' (`long_thought`)."""

    name: str
    model: ModelSpec
    sampling: SamplingConfig
    long_thought: bool = False


@dataclass
class EvaluateRequest(JobRequest):
    """Answer each held-out prompt with both models and score every answer with each scorer."""

    KIND: ClassVar[str] = "evaluate"
    BULKY: ClassVar[tuple[str, ...]] = ("prompts",)
    evaluation_id: str
    prompts: list[Prompt]
    sides: list[EvalSide]
    scorers: list[ScorerSpec]

    def __post_init__(self) -> None:
        _needs_prompts(self.KIND, self.prompts)
        if sorted(side.name for side in self.sides) != ["base", "trained"]:
            raise ValueError("an evaluation compares two models: one 'base' side and one 'trained' side")
        if not self.scorers:
            raise ValueError("an evaluation needs at least one scorer")


@dataclass
class MergeRequest(JobRequest):
    """Save a trained run (its base with every adapter merged in) as a plain model folder at `out_dir`."""

    KIND: ClassVar[str] = "merge"
    run_id: str
    runs_dir: str  # the project's runs/ folder (absolute)
    out_dir: str  # absolute; must not exist yet

    def __post_init__(self) -> None:
        if not self.out_dir.strip():
            raise ValueError("merging needs an output folder")


REQUEST_TYPES: dict[str, type[JobRequest]] = {
    cls.KIND: cls for cls in (Stage1Request, ChainRequest, ScoreRequest, RegenerateRequest, RefineRequest,
                              TrainRequest, SampleThoughtsRequest, EvaluateRequest, MergeRequest)}

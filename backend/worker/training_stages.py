"""A training stage as a chain of worker jobs, one per phase, advanced by the process that owns the database
(the CLI's `train`, or the app's Training panel), so both walk the same steps:

    Stage 1:      rsft -> regenerate (new trees by the RSFT model; pairs rebuilt as they arrive) -> dpo
    Stage 2:      chains (greedy chains by the Stage I model) -> long_sft -> thoughts (5 long thoughts per
                  new prompt by the SFT model, and their pairs) -> long_dpo
    Stage reward: reward

Each training phase is a run (`backend.training.runs`); each phase's base is the run before it. The stage
itself is recorded in the project (setting `training_stages`): its options, and the run or job of every phase
reached so far, so that `train` again (or the app reopened) continues the same stage after a crash instead of
choosing new prompts or retraining what finished. A finished stage is never trained again silently; a
finished run with the same settings and data as a phase is used, not retrained.

`next_step` says what to run next; the caller runs it (`TrainStep`: a `train` job; `JobStep`: a new
generation job; `ResumeStep`: an interrupted generation job again), tells `job_started`, and after the job
`job_ended`; then asks `next_step` again until it returns None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.config import EMBEDDED_MODEL, ChainConfig, ModelSpec
from backend.domain import now, random_id
from backend.errors import UserError
from backend.job_requests import JobRequest, SampleThoughtsRequest, TrainRequest
from backend.training.config import RUN_PREFIX, TrainingConfig, stage_family
from backend.training.snapshot import NotEnoughDataError
from backend.training.stage2_data import SAMPLES_PER_PROMPT

if TYPE_CHECKING:
    from backend.store import Store

STAGES_SETTING = "training_stages"
STAGE_NAMES = ("1", "2", "reward")
# Every phase of a stage, in order; the generation phases sit between the training ones.
STAGE_PLAN: dict[str, tuple[str, ...]] = {
    "1": ("rsft", "regenerate", "dpo"),
    "2": ("chains", "long_sft", "thoughts", "long_dpo"),
    "reward": ("reward",),
}
GENERATION_PHASES = ("regenerate", "chains", "thoughts")
OPTIONAL_PHASES = ("regenerate", "chains")  # skipped by StageOptions.generate=False (--skip-regenerate)
PHASE_TITLES = {"rsft": "RSFT", "regenerate": "New trees", "dpo": "DPO", "chains": "Greedy chains",
                "long_sft": "Long-thought SFT", "thoughts": "Long-thought samples", "long_dpo": "Long-thought DPO",
                "reward": "Reward model"}
LONG_THOUGHT_TOKENS = 4  # a long thought holds several answers: its token cap is this many times an answer's
END_STATUSES = ("finished", "failed", "cancelled")


class StageAlreadyFinishedError(UserError):
    """The same stage with the same options already finished; nothing is retrained silently."""


@dataclass(frozen=True)
class StageOptions:
    """What a person chose for a stage. The same options continue an unfinished stage."""

    stage: str  # "1", "2" or "reward"
    base: str  # the model the stage starts from (Stage 2: the Stage I model)
    preset: str = "cpu-small"
    settings: dict[str, Any] = field(default_factory=dict)  # TrainingConfig fields set for every phase
    beta: float = 0.1  # DPO phases only
    generate: bool = True  # run the generation phase between the training ones (regenerate / chains)
    generation_prompts: int = 16  # prompts each generation phase works on
    generator: dict[str, Any] = field(default_factory=dict)  # ModelSpec fields (not the name) of generation jobs
    sampling: dict[str, Any] = field(default_factory=dict)  # preset overrides of generation jobs (max_new_tokens, ...)
    fresh: bool = False  # train new runs even where a finished run has the same settings and data

    def __post_init__(self) -> None:
        if self.stage not in STAGE_NAMES:
            raise ValueError(f"stage must be 1, 2 or reward, not {self.stage!r}")
        if self.generation_prompts < 1:
            raise ValueError("generation_prompts must be at least 1")
        self.phase_config(STAGE_PLAN[self.stage][0] if self.stage != "2" else "long_sft", self.base)  # checks

    @property
    def phases(self) -> tuple[str, ...]:
        return tuple(p for p in STAGE_PLAN[self.stage] if self.generate or p not in OPTIONAL_PHASES)

    def phase_config(self, phase: str, base: str) -> TrainingConfig:
        """The TrainingConfig of a training phase on `base` (ValueError with the config's own message)."""
        values = dict(self.settings)
        if stage_family(phase) == "dpo":
            values["beta"] = self.beta
        return TrainingConfig(stage=phase, base=base, preset=self.preset, **values)

    def generator_spec(self, name: str) -> ModelSpec:
        return ModelSpec.from_dict({**self.generator, "name": name})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StageRun:
    """One stage being trained: its options and, per phase reached, {"run_id": ...} or {"job_id": ...}."""

    id: str
    options: StageOptions
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: str = "running"  # running | finished | failed | cancelled
    created_at: str = field(default_factory=lambda: now().isoformat())

    @property
    def run_ids(self) -> list[str]:
        """The runs of its training phases so far, in order."""
        return [self.steps[p]["run_id"] for p in self.options.phases if "run_id" in self.steps.get(p, {})]

    @property
    def model(self) -> str | None:
        """'run:<id>' of its last training phase once the stage finished."""
        return f"{RUN_PREFIX}{self.run_ids[-1]}" if self.status == "finished" and self.run_ids else None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "options": self.options.to_dict(), "steps": self.steps, "status": self.status,
                "created_at": self.created_at}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageRun:
        return cls(id=data["id"], options=StageOptions(**data["options"]), steps=dict(data.get("steps") or {}),
                   status=data.get("status", "running"), created_at=data.get("created_at", ""))


@dataclass(frozen=True)
class TrainStep:
    phase: str
    run_id: str
    request: TrainRequest
    resumed: bool  # the run had started before: it continues from its last checkpoint


@dataclass(frozen=True)
class JobStep:
    phase: str
    request: JobRequest
    prompts: int


@dataclass(frozen=True)
class ResumeStep:
    phase: str
    job_id: str


Step = TrainStep | JobStep | ResumeStep


# --- the stored stages ------------------------------------------------------------------------------

def stage_runs(store: Store) -> list[StageRun]:
    """Every stage the project trained or is training, oldest first."""
    return [StageRun.from_dict(item) for item in store.get_setting(STAGES_SETTING, []) or []]


def save_stage(store: Store, stage_run: StageRun) -> None:
    kept = [item for item in store.get_setting(STAGES_SETTING, []) or [] if item["id"] != stage_run.id]
    store.set_setting(STAGES_SETTING, [*kept, stage_run.to_dict()])


def default_base(store: Store, stage: str) -> str:
    """Stage 2 starts from the model of the latest finished Stage 1; everything else from the embedded model."""
    if stage == "2":
        finished = [s for s in stage_runs(store) if s.options.stage == "1" and s.model]
        if finished:
            return finished[-1].model  # type: ignore[return-value]
        dpo = [run for run in store.runs(stage="dpo") if run.status == "finished"]
        if dpo:
            return f"{RUN_PREFIX}{dpo[-1].id}"
    return EMBEDDED_MODEL


def begin_stage(store: Store, options: StageOptions) -> tuple[StageRun, bool]:
    """(the stage to train, whether it continues an unfinished one). An unfinished stage with the same options
    continues; a finished one raises StageAlreadyFinishedError unless `options.fresh`."""
    same = [s for s in stage_runs(store) if s.options == options]
    if same and same[-1].status != "finished":
        stage_run = same[-1]
        stage_run.status = "running"
        save_stage(store, stage_run)
        return stage_run, True
    if same and not options.fresh:
        done = same[-1]
        raise StageAlreadyFinishedError(
            f"Stage {options.stage} already trained with these settings (stage {done.id}: runs "
            f"{', '.join(done.run_ids)}); use {done.model}, or ask for a new round (--new) to train again")
    stage_run = StageRun(id=random_id()[:12], options=options)
    save_stage(store, stage_run)
    return stage_run, False


@dataclass(frozen=True)
class PhasePlan:
    """What one phase will use, shown before the click."""

    phase: str
    data: str  # e.g. "18 pairs: response 6 (person 2, reward 4), ..." or what the phase before will make
    estimate: str | None = None  # the time estimate of a training phase whose data is known now
    problem: str | None = None  # why it cannot train (too little data)
    heldout: str | None = None  # the held-out prompts (said once, by the first phase that knows them)

    @property
    def title(self) -> str:
        return PHASE_TITLES[self.phase]


def _data_known_now(options: StageOptions) -> set[str]:
    """Training phases whose data does not come from an earlier phase of the stage (Stage 1's DPO counts the
    pairs there are now: new trees only add to them)."""
    return {"rsft", "dpo", "reward"} | ({"long_sft"} if "chains" not in options.phases else set())


def plan_stage(store: Store, options: StageOptions) -> list[PhasePlan]:
    """Per phase, what it will use (counts by kind and by who decided), its estimated time, and any problem;
    nothing is written."""
    from backend.training.runs import plan_run

    plans, heldout_said = [], False
    for phase in options.phases:
        if phase in GENERATION_PHASES:
            made = {"regenerate": "new trees", "chains": "greedy chains",
                    "thoughts": f"{SAMPLES_PER_PROMPT} long thoughts each and their pairs"}[phase]
            by = {"regenerate": "the RSFT model", "chains": options.base, "thoughts": "the SFT model"}[phase]
            plans.append(PhasePlan(phase, f"up to {options.generation_prompts} prompts without one get {made} "
                                          f"from {by}"))
        elif phase in _data_known_now(options) or phase == "long_sft":
            plan = plan_run(store, options.phase_config(phase, options.base))
            heldout = None
            if not heldout_said:
                heldout_said = True
                n = plan.counts.heldout_prompts
                heldout = (f"{n} prompt{'s' if n != 1 else ''} held out for before / after"
                           + (" (chosen now, never trained on)" if plan.heldout_is_new else ""))
            if phase in _data_known_now(options):
                plans.append(PhasePlan(phase, counts_text(plan.counts), plan.estimate.describe(), plan.problem,
                                       heldout))
            else:  # the chains before it add their long thoughts
                plans.append(PhasePlan(phase, f"{counts_text(plan.counts)} now, plus the long thoughts of the new "
                                              "chains", heldout=heldout))
        else:
            plans.append(PhasePlan(phase, "the pairs of the sampled long thoughts"))
    return plans


def counts_text(counts) -> str:
    """What a training phase reads, by kind and by who decided.

    >>> from backend.training.snapshot import DataCounts
    >>> counts_text(DataCounts("dpo", 5, by_kind={"response": 3, "edit": 2},
    ...                        by_kind_and_decider={"response/human": 1, "response/reward": 2, "edit/human": 2}))
    '5 pairs: response 3 (person 1, reward 2), edit 2 (person 2)'
    >>> counts_text(DataCounts("rsft", 4, by_kind={"rsft": 4}))
    '4 samples: rsft 4'
    """
    what = "samples" if counts.stage in ("rsft", "long_sft") else "pairs"
    parts = []
    for kind, n in counts.by_kind.items():
        deciders = [f"{'person' if who == 'human' else who} {counts.by_kind_and_decider[f'{kind}/{who}']}"
                    for who in ("human", "reward") if counts.by_kind_and_decider.get(f"{kind}/{who}")]
        parts.append(f"{kind} {n}" + (f" ({', '.join(deciders)})" if deciders else ""))
    text = f"{counts.train_rows} {what}" + (f": {', '.join(parts)}" if parts else "")
    if counts.eval_rows:
        text += f"; {counts.eval_rows} person-decided pairs kept to measure agreement"
    return text


def preflight(store: Store, options: StageOptions) -> None:
    """Raise NotEnoughDataError, before anything starts, for a training phase whose data is already known
    to be too little."""
    for plan in plan_stage(store, options):
        if plan.problem:
            raise NotEnoughDataError(f"{plan.title}: {plan.problem}")


# --- the next step -----------------------------------------------------------------------------------

def next_step(store: Store, stage_run: StageRun) -> Step | None:
    """What to run next for the stage (None: every phase is done). Prepares runs and chooses prompts as it
    reaches them, and records them in the stage."""
    for phase in stage_run.options.phases:
        step = stage_run.steps.get(phase)
        if phase in GENERATION_PHASES:
            found = _generation_step(store, stage_run, phase, step)
        else:
            found = _train_step(store, stage_run, phase, step)
        if found is not None:
            return found
    return None


def _base_of(stage_run: StageRun, phase: str) -> str:
    """A phase trains on the run of the training phase before it; the first one on the stage's base."""
    training = [p for p in STAGE_PLAN[stage_run.options.stage] if p not in GENERATION_PHASES]
    index = training.index(phase)
    if index == 0:
        return stage_run.options.base
    return f"{RUN_PREFIX}{stage_run.steps[training[index - 1]]['run_id']}"


def _train_step(store: Store, stage_run: StageRun, phase: str, step: dict | None) -> TrainStep | None:
    from backend.training.runs import plan_run, prepare_run, sync_run

    if step is not None:
        run = sync_run(store, step["run_id"])
        if run.status == "finished":
            return None
        return TrainStep(phase, run.id, _train_request(store, run.id), resumed=run.status != "prepared")
    config = stage_run.options.phase_config(phase, _base_of(stage_run, phase))
    plan = plan_run(store, config)
    if plan.problem:
        done = stage_run.steps.get("thoughts", {})
        if phase == "long_dpo" and done.get("prompts_done"):
            raise NotEnoughDataError(
                f"{PHASE_TITLES[phase]}: the long thoughts sampled for {done['prompts_done']} prompts gave no pair "
                "(a prompt needs a final answer that beats its reference answer and a worse one that is not "
                "shorter); train the stage again as a new round (--new) with more prompts (--prompts)")
        raise NotEnoughDataError(f"{PHASE_TITLES[phase]}: {plan.problem}")
    if plan.finished_run and not stage_run.options.fresh:
        _record(store, stage_run, phase, run_id=plan.finished_run, reused=True)
        return None
    prepared = prepare_run(store, config, new=stage_run.options.fresh)
    _record(store, stage_run, phase, run_id=prepared.run.id, reused=False)
    return TrainStep(phase, prepared.run.id, _train_request(store, prepared.run.id), resumed=prepared.resumed)


def _train_request(store: Store, run_id: str) -> TrainRequest:
    from backend.training.runs import run_folder

    return TrainRequest(run_id=run_id, run_dir=str(run_folder(store, run_id).path.resolve()))


def _generation_step(store: Store, stage_run: StageRun, phase: str, step: dict | None) -> Step | None:
    if step is not None:
        if step.get("job_id") is None:
            return None  # nothing to do (no prompt was left for it)
        job = store.get_job(step["job_id"])
        if job is not None and job.status == "finished":
            return None
        return ResumeStep(phase, step["job_id"])
    request = _generation_request(store, stage_run, phase)
    if request is None:
        _record(store, stage_run, phase, job_id=None, prompts=0)
        return None
    return JobStep(phase, request, len(request.prompts))


def job_started(store: Store, stage_run: StageRun, step: Step, job_id: str) -> None:
    """Record the job that runs a step (a generation phase is then resumed, never started again)."""
    if isinstance(step, JobStep):
        _record(store, stage_run, step.phase, job_id=job_id, prompts=step.prompts)
    elif isinstance(step, TrainStep):
        stage_run.steps[step.phase]["job_id"] = job_id
        save_stage(store, stage_run)


def job_ended(store: Store, stage_run: StageRun, step: Step, job_dir: Path | str, status: str) -> None:
    """After a step's job (its journal already ingested): store what only the training side stores (the
    run's rows, the long-thought pairs), and end the stage unless the job finished."""
    from backend.training.runs import sync_run
    from backend.worker.thought_pairs import store_thought_pairs

    if isinstance(step, TrainStep):
        run = sync_run(store, step.run_id)
        if status == "finished" and run.status != "finished":
            status = run.status  # the trainer's own word (e.g. cancelled between steps)
    elif step.phase == "thoughts":
        prompts, pairs = store_thought_pairs(store, job_dir)
        stage_run.steps[step.phase].update(pairs=pairs, prompts_done=prompts)
    if status != "finished":
        stage_run.status = status if status in END_STATUSES else "failed"
    save_stage(store, stage_run)


def finish_stage(store: Store, stage_run: StageRun, status: str = "finished") -> None:
    """Record how the stage ended ("failed" when a phase could not start, e.g. too little data)."""
    stage_run.status = status
    save_stage(store, stage_run)


def _record(store: Store, stage_run: StageRun, phase: str, **values: Any) -> None:
    stage_run.steps[phase] = values
    save_stage(store, stage_run)


# --- generation phases --------------------------------------------------------------------------------

def _generation_request(store: Store, stage_run: StageRun, phase: str) -> JobRequest | None:
    from backend.presets import default_preset_for
    from backend.worker.before_after import plain_base, training_scorer
    from backend.worker.request_builders import chain_request, checked, generation_choice, stage1_request

    options = stage_run.options
    model_name = _generation_model(stage_run, phase)
    preset = default_preset_for(plain_base(store, model_name)).name  # a run of the embedded model: cpu-demo
    choice = generation_choice(store, options.generator_spec(model_name), preset, options.sampling)
    scorer = training_scorer(store)
    if scorer is None:
        raise UserError(f"{PHASE_TITLES[phase]}: the project has no ranking scorer the app can run; set one "
                        "(Curate -> Ranking Scorer, or score trees with `avr-studio score`) first")
    prompts = _generation_prompts(store, phase, options.generation_prompts)
    if not prompts:
        return None
    if phase == "regenerate":
        return stage1_request(store, prompts, choice.model, [scorer], choice.tree, choice.sampling, choice.templates)
    if phase == "chains":
        return chain_request(store, prompts, choice.model, scorer, ChainConfig(), choice.tree, choice.sampling,
                             choice.templates)
    references = store.reference_answers([p.id for p in prompts])
    sampling = choice.sampling
    if sampling.max_new_tokens is not None:
        sampling = replace(sampling, max_new_tokens=sampling.max_new_tokens * LONG_THOUGHT_TOKENS)
    return checked(SampleThoughtsRequest, prompts=prompts, model=choice.model, scorer=scorer, sampling=sampling,
                   references={pid: ref.text for pid, ref in references.items()})


def _generation_model(stage_run: StageRun, phase: str) -> str:
    if phase == "chains":
        return stage_run.options.base  # the Stage I model
    trained = "rsft" if phase == "regenerate" else "long_sft"
    return f"{RUN_PREFIX}{stage_run.steps[trained]['run_id']}"


def _generation_prompts(store: Store, phase: str, limit: int):
    """The prompts a generation phase works on, never held-out ones, in the order they were added:
    regenerate: prompts without any tree yet; chains: prompts without a chain, those with a reference answer
    (the chain's start) first; thoughts: new prompts (no chain, no tree), those with a reference answer first."""
    heldout = set(store.heldout_prompt_ids())
    with_nodes = set(store.prompt_ids_with_nodes())
    chained = {chain.prompt_id for chain in store.chains()}
    everything = [pid for pid in store.prompt_ids() if pid not in heldout]
    referenced = set(store.prompt_ids_with_reference())
    if phase == "regenerate":
        chosen = [pid for pid in everything if pid not in with_nodes]
    elif phase == "chains":
        chosen = [pid for pid in everything if pid not in chained]
    else:
        chosen = [pid for pid in everything if pid not in chained and pid not in with_nodes]
    if phase != "regenerate":
        chosen.sort(key=lambda pid: pid not in referenced)  # stable: added order within each group
    chosen = chosen[:limit]
    by_id = store.prompts_by_id(chosen)
    return [by_id[pid] for pid in chosen if pid in by_id]

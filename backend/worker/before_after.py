"""Before / after on the held-out prompts, for the process that owns the database (the app or the CLI):
choose the prompts and scorers and make the `evaluate` job's request; store what the job journalled; and
compute the comparison from the stored rows (`backend.training.evaluation.compare`).

The scorers: a chosen one that did not rank the training pairs where one can be had (by default the MiniLM
relevance scorer, else the likelihood one), and the training scorer (the project's ranking scorer, which
decided the reward-decided pairs), so a gain that only fools the training scorer shows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.config import ModelSpec, ScorerSpec
from backend.domain import random_id
from backend.errors import UserError
from backend.job_requests import EvalSide, EvaluateRequest
from backend.store.evaluations import Evaluation
from backend.training.config import RUN_PREFIX
from backend.training.evaluation import AnswerPair, Comparison, compare
from backend.training.records import EVAL_ANSWER, EVAL_SCORE

if TYPE_CHECKING:
    from backend.store import Store

LONG_THOUGHT_STAGES = ("long_sft", "long_dpo")
INDEPENDENT_SCORERS = (ScorerSpec(kind="relevance", model="embedded"), ScorerSpec(kind="likelihood", model="embedded"))
LONG_THOUGHT_TOKENS = 4  # a long thought holds several answers: its cap is this many times an answer's


@dataclass(frozen=True)
class EvaluationPlan:
    evaluation: Evaluation
    request: EvaluateRequest


def finished_generator_run(store: Store, name: str):
    """The store row of 'run:<id>' (or a bare id): a finished run that generates (not a reward model)."""
    run_id = name[len(RUN_PREFIX):] if name.startswith(RUN_PREFIX) else name
    run = store.get_run(run_id.strip())
    if run is None:
        raise UserError(f"no run {run_id!r} in this project; list the runs with `avr-studio runs DIR`")
    if run.stage == "reward":
        raise UserError(f"run {run.id} is a reward model, not a generator: its agreement with the person's verdicts "
                        "is in its metrics (`avr-studio runs DIR`); use it as a scorer with --scorer rm:" + run.id)
    if run.status != "finished":
        raise UserError(f"run {run.id} is {run.status}, not finished; train it to the end first (`avr-studio train`)")
    return run


def plain_base(store: Store, name: str) -> str:
    """The model a chain of runs started from: 'run:<id>' followed back through each run's base.

    A name that is not a run is returned as it is."""
    seen = set()
    while name.startswith(RUN_PREFIX):
        run = store.get_run(name[len(RUN_PREFIX):].strip())
        if run is None or run.id in seen:
            raise UserError(f"{name} is not a run of this project; list the runs with `avr-studio runs DIR`")
        seen.add(run.id)
        name = run.base
    return name


def training_scorer(store: Store) -> ScorerSpec | None:
    """The scorer that ranked the project's pairs (what the runs were trained towards), if the app can run it."""
    from backend.curation.ranking import ranking_scorer_spec

    return ranking_scorer_spec(store)


def prepare_evaluation(store: Store, run_id: str, against: str = "base", prompts: int | None = None,
                       scorer: ScorerSpec | None = None, generator: ModelSpec | None = None,
                       seed: int = 0, max_new_tokens: int | None | str = "preset") -> EvaluationPlan:
    """The evaluation of run `run_id` against its plain base ('base') or another run ('run:<id>'), on the
    first `prompts` held-out prompts (all by default); its row is added as 'prepared'. Both models sample
    with the settings of the plain base's generation preset (`backend.presets.default_preset_for`) and
    `seed`; `max_new_tokens` replaces the preset's cap of an answer (None: no cap)."""
    from backend.presets import default_preset_for

    run = finished_generator_run(store, run_id)
    if against == "base":
        base_name = plain_base(store, f"{RUN_PREFIX}{run.id}")
        base_long = False
    elif against.startswith(RUN_PREFIX):
        other = finished_generator_run(store, against)
        base_name, base_long = f"{RUN_PREFIX}{other.id}", other.stage in LONG_THOUGHT_STAGES
    else:
        raise UserError(f"--against takes 'base' or 'run:<id>', not {against!r}")
    heldout = store.heldout_prompt_ids()
    if not heldout:
        raise UserError("the project has no held-out prompts: they are chosen at its first training and never "
                        "trained on; train a run first")
    chosen_ids = heldout[:prompts] if prompts else heldout
    by_id = store.prompts_by_id(chosen_ids)
    chosen = [by_id[prompt_id] for prompt_id in chosen_ids if prompt_id in by_id]
    trained_with = training_scorer(store)
    if scorer is None:
        scorer = next(s for s in INDEPENDENT_SCORERS if trained_with is None or s.label != trained_with.label)
    scorers = [scorer] + ([trained_with] if trained_with is not None and trained_with.label != scorer.label else [])
    generator = generator or ModelSpec()
    sampling = replace(default_preset_for(plain_base(store, f"{RUN_PREFIX}{run.id}")).sampling, seed=seed)
    if max_new_tokens != "preset":
        sampling = replace(sampling, max_new_tokens=max_new_tokens)
    trained_long = run.stage in LONG_THOUGHT_STAGES
    sides = [EvalSide("base", replace(generator, name=base_name), _for_thoughts(sampling, base_long), base_long),
             EvalSide("trained", replace(generator, name=f"{RUN_PREFIX}{run.id}"),
                      _for_thoughts(sampling, trained_long), trained_long)]
    evaluation = Evaluation(id=random_id()[:12], run_id=run.id, against=against, base_model=base_name,
                            trained_model=f"{RUN_PREFIX}{run.id}", scorers=[s.label for s in scorers],
                            training_scorer=trained_with.label if trained_with else None, prompts=len(chosen))
    from backend.worker.request_builders import checked

    request = checked(EvaluateRequest, evaluation_id=evaluation.id, prompts=chosen, sides=sides, scorers=scorers)
    store.add_evaluation(evaluation)
    return EvaluationPlan(evaluation, request)


def _for_thoughts(sampling, long_thought: bool):
    if not long_thought or sampling.max_new_tokens is None:
        return sampling
    return replace(sampling, max_new_tokens=sampling.max_new_tokens * LONG_THOUGHT_TOKENS)


def sync_evaluation(store: Store, evaluation_id: str, job_dir: Path | str) -> int:
    """Store the answers and scores the evaluation's job journalled (idempotent); returns how many records."""
    from backend.worker.journal import read_records

    answers, scores = [], []
    for _, record in read_records(job_dir):
        if record.get("evaluation_id") != evaluation_id:
            continue
        if record.get("type") == EVAL_ANSWER:
            answers.append((record["prompt_id"], record["side"], record["text"], record["answer"]))
        elif record.get("type") == EVAL_SCORE:
            scores.append((record["prompt_id"], record["side"], record["scorer"], record["value"]))
    with store.transaction():
        store.add_eval_answers(evaluation_id, answers)
        store.add_eval_scores(evaluation_id, scores)
    return len(answers) + len(scores)


def comparisons(store: Store, evaluation_id: str) -> dict[str, Comparison]:
    """The comparison under each of the evaluation's scorers that has scored both sides of some prompt."""
    evaluation = store.get_evaluation(evaluation_id)
    if evaluation is None:
        raise UserError(f"no evaluation {evaluation_id!r} in this project")
    found = {}
    for label in evaluation.scorers:
        rows = store.eval_rows(evaluation_id, label)
        if rows:
            found[label] = compare([AnswerPair(r.prompt_id, r.base_answer, r.trained_answer, r.base_score,
                                               r.trained_score) for r in rows])
    return found


def summary(store: Store, evaluation_id: str) -> dict[str, Any]:
    """What `avr-studio eval --json` prints: the chosen scorer's figures on top, every scorer's below."""
    evaluation = store.get_evaluation(evaluation_id)
    found = comparisons(store, evaluation_id)
    main_label = evaluation.scorers[0]
    main = found.get(main_label)

    def figures(c: Comparison) -> dict[str, Any]:
        return {"n": c.n, "win_rate": c.win_rate, "wins": c.wins, "ties": c.ties, "losses": c.losses,
                "mean_reward": {"base": c.mean_reward_base, "trained": c.mean_reward_trained},
                "mean_length": {"base": c.mean_length_base, "trained": c.mean_length_trained}}

    return {"evaluation_id": evaluation.id, "run": evaluation.run_id, "against": evaluation.against,
            "base_model": evaluation.base_model, "trained_model": evaluation.trained_model,
            "scorer": main_label, "training_scorer": evaluation.training_scorer, "status": evaluation.status,
            **(figures(main) if main else {"n": 0}),
            "by_scorer": {label: figures(c) for label, c in found.items()}}

"""`avr-studio train | runs | eval | merge`: training stages, the project's runs, before / after, and a run
saved as a plain model folder.

`train` walks the stage's phases with `backend.worker.training_stages` (as the app's Training panel does): each
phase is one worker job, prepared with `backend.worker.submission.prepare_job` and run in a worker of its
own with a progress bar; the run folders are synced into the store as they train. Killed, it continues where
it stopped when run again with the same options.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from backend import protocol
from backend.cli.worker_cmds import NO_CAP, _ProgressPrinter, positive_int, scorer_spec, token_cap
from backend.errors import UserError
from backend.training.config import PRESETS, RUN_PREFIX

SYNC_EVERY_S = 2.0  # a run's rows follow its folder this often while it trains


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text!r}")
    return value


def _generator_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dtype", default=None, choices=("float32", "bfloat16", "float16"),
                        help="Generation dtype of the models that answer (default bfloat16).")
    parser.add_argument("--device", default="auto", help="Generation device: cpu, cuda or auto (default).")
    parser.add_argument("--max-new-tokens", type=token_cap, default=None, metavar="N|none",
                        help="Longest answer generated, in tokens, or none (default: the generation preset's).")
    parser.add_argument("--python", default=sys.executable, metavar="PATH", help="Interpreter that runs the worker.")


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train", help="Train a stage: 1 (RSFT -> new trees -> DPO), 2 (chains -> long-thought SFT -> sampled "
                      "thoughts -> DPO) or reward (a reward model from the person's verdicts).")
    train.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    train.add_argument("--stage", required=True, choices=("1", "2", "reward"))
    train.add_argument("--base", default=None, metavar="MODEL",
                       help="Model to start from: the embedded model (default), a model folder, or run:<id>. Stage 2 "
                            "defaults to the model of the latest finished Stage 1.")
    train.add_argument("--preset", choices=PRESETS, default="cpu-small",
                       help="cpu-small (LoRA on CPU), gpu-lora (bf16 LoRA) or gpu-full (bf16, every weight).")
    train.add_argument("--max-steps", type=positive_int, default=None, metavar="N",
                       help="Stop each phase after N optimizer updates (default: by epochs).")
    train.add_argument("--epochs", type=_positive_float, default=None, metavar="N")
    train.add_argument("--lr", type=_positive_float, default=None, metavar="X",
                       help="Learning rate of every phase (default: the preset's, per trainer).")
    train.add_argument("--beta", type=_positive_float, default=0.1, metavar="X", help="DPO beta (default 0.1).")
    train.add_argument("--max-length", type=positive_int, default=None, metavar="TOKENS",
                       help="Longest tokenized row kept (default: the preset's).")
    train.add_argument("--checkpoint-steps", type=positive_int, default=None, metavar="N",
                       help="Save a resumable checkpoint every N optimizer updates (default: the preset's).")
    train.add_argument("--skip-regenerate", action="store_true",
                       help="Skip the generation between training phases (Stage 1: new trees by the RSFT model; "
                            "Stage 2: greedy chains by the Stage I model) and train on the data there is.")
    train.add_argument("--prompts", type=positive_int, default=16, metavar="N",
                       help="Prompts each generation phase works on (default 16; never held-out ones).")
    train.add_argument("--prepare-only", action="store_true",
                       help="Prepare the next training phase's run (its config and Parquet data snapshot in "
                            "runs/<id>/) and stop, to train it elsewhere with `accelerate launch -m "
                            "backend.training.launch`; copy the folder back and run `train` again to go on.")
    train.add_argument("--new", action="store_true",
                       help="Train new runs even where a run with the same settings and data finished (a new "
                            "round); without it a finished stage is reported, not retrained.")
    _generator_flags(train)
    train.set_defaults(func=run_train)

    runs = subparsers.add_parser("runs", help="List the project's training runs.")
    runs.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    runs.add_argument("--json", action="store_true", help="One JSON array (id, stage, status, base, adapter_path, "
                                                         "data_hash, metrics, ...).")
    runs.set_defaults(func=run_runs)

    evaluate = subparsers.add_parser("eval", help="Before / after: a run's answers on the held-out prompts against "
                                                  "its base model's (or another run's), scored.")
    evaluate.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    evaluate.add_argument("--run", required=True, metavar="ID", help="The trained run (see `avr-studio runs DIR`).")
    evaluate.add_argument("--against", default="base", metavar="base|run:ID",
                          help="The model it is compared with: its plain base model (default) or another run.")
    evaluate.add_argument("--prompts", type=positive_int, default=None, metavar="N",
                          help="Use the first N held-out prompts (default: all of them).")
    evaluate.add_argument("--scorer", default=None, metavar="KIND[:MODEL]",
                          help="The judging scorer, e.g. relevance, likelihood, classifier:/path, rm:<run id> (default: "
                               "relevance, or likelihood when the project ranks by relevance). The project's ranking "
                               "scorer (what the pairs were built with) scores too.")
    evaluate.add_argument("--seed", type=int, default=0, help="Sampling seed of both models (default 0).")
    evaluate.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    _generator_flags(evaluate)
    evaluate.set_defaults(func=run_eval)

    merge = subparsers.add_parser("merge", help="Save a trained run as a plain model folder (base + adapters).")
    merge.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    merge.add_argument("--run", required=True, metavar="ID")
    merge.add_argument("--out", required=True, type=Path, metavar="FOLDER", help="A new folder for the model.")
    merge.add_argument("--python", default=sys.executable, metavar="PATH", help="Interpreter that runs the worker.")
    merge.set_defaults(func=run_merge)


def _cap(value: int | str) -> int | None:
    return None if value == NO_CAP else int(value)


# -- train --------------------------------------------------------------------------------------------
def stage_options(args: argparse.Namespace, store):
    from backend.worker.training_stages import StageOptions, default_base

    settings = {key: value for key, value in (("max_steps", args.max_steps), ("epochs", args.epochs),
                                               ("learning_rate", args.lr), ("max_length", args.max_length),
                                               ("checkpoint_steps", args.checkpoint_steps))
                if value is not None}
    generator = {"device": args.device, **({"dtype": args.dtype} if args.dtype else {})}
    sampling = {} if args.max_new_tokens is None else {"max_new_tokens": _cap(args.max_new_tokens)}
    try:
        return StageOptions(stage=args.stage, base=args.base or default_base(store, args.stage), preset=args.preset,
                            settings=settings, beta=args.beta, generate=not args.skip_regenerate,
                            generation_prompts=args.prompts, generator=generator, sampling=sampling,
                            fresh=args.new)
    except ValueError as exc:
        raise UserError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None


def run_train(args: argparse.Namespace) -> int:
    from backend.cli.opening import open_project
    from backend.worker import training_stages as stages

    with open_project(args.project) as store:
        options = stage_options(args, store)
        plans = stages.plan_stage(store, options)
        for plan in plans:
            if plan.problem:
                raise stages.NotEnoughDataError(f"{plan.title}: {plan.problem}")
        stage_run, continued = stages.begin_stage(store, options)
        print(f"{'Continuing' if continued else 'Training'} stage {options.stage} ({stage_run.id}) from "
              f"{options.base} with {options.preset}.", file=sys.stderr)
        if not continued:
            for plan in plans:
                print(f"  {plan.title}: {plan.data}" + (f"; {plan.estimate}" if plan.estimate else "")
                      + (f"; {plan.heldout}" if plan.heldout else ""), file=sys.stderr)
        if args.prepare_only:
            return _prepare_only(store, stage_run)
        while (step := _next_step(store, stage_run)) is not None:
            outcome = _run_step(store, stage_run, step, args.python)
            if outcome != "finished":
                print(f"Stage {options.stage} stopped: {stages.PHASE_TITLES[step.phase]} {outcome}. Run the same "
                      "command again to continue where it stopped.", file=sys.stderr)
                return 1
        stages.finish_stage(store, stage_run)
        runs = [store.get_run(run_id) for run_id in stage_run.run_ids]
    for phase, run in zip([p for p in options.phases if p not in stages.GENERATION_PHASES], runs, strict=True):
        loss = run.metrics.get("train_loss")
        print(f"{stages.PHASE_TITLES[phase]}: run {run.id} {run.status}"
              + (f", final loss {loss:.4g}" if isinstance(loss, float) else "") + f" (data {run.data_hash})")
    if options.stage == "reward":
        agreement = runs[-1].metrics.get("heldout_agreement")
        print(f"Reward model finished: score with it with --scorer rm:{runs[-1].id}"
              + (f" (agrees with {agreement:.0%} of your held-out verdicts)." if isinstance(agreement, float) else "."))
    else:
        print(f"Stage {options.stage} finished: use it with --model {stage_run.model} "
              f"(evaluate: avr-studio eval {args.project} --run {runs[-1].id}).")
    return 0


def _prepare_only(store, stage_run) -> int:
    from backend.worker import training_stages as stages

    step = _next_step(store, stage_run)
    if step is None:
        stages.finish_stage(store, stage_run)
        print(f"Stage {stage_run.options.stage} has no phase left to train: its model is {stage_run.model}.")
    elif isinstance(step, stages.TrainStep):
        print(f"Prepared run {step.run_id} ({stages.PHASE_TITLES[step.phase]}) in {step.request.run_dir}\n"
              f"Train it with: accelerate launch --config_file packaging/accelerate/ddp.yaml -m "
              f"backend.training.launch {step.request.run_dir}")
    else:
        print(f"The next phase is {stages.PHASE_TITLES[step.phase]}, a generation job: run `avr-studio train` "
              "without --prepare-only to run it.")
    return 0


def _next_step(store, stage_run):
    """The stage's next step; a phase that cannot start (too little data) ends the stage as failed."""
    from backend.worker import training_stages as stages

    try:
        return stages.next_step(store, stage_run)
    except UserError:
        stages.finish_stage(store, stage_run, "failed")
        raise


def _run_step(store, stage_run, step, python: str) -> str:
    """Run one step's job to its end; returns its status (a failure becomes a UserError with what to do)."""
    from backend.worker import training_stages as stages
    from backend.worker.job_session import run_prepared_job
    from backend.worker.submission import prepare_job, resume_job

    title = stages.PHASE_TITLES[step.phase]
    if isinstance(step, stages.ResumeStep):
        job = resume_job(store, step.job_id)
        print(f"{title}: resuming job {job.job_id}", file=sys.stderr)
    else:
        job = prepare_job(step.request, store=store)
        if isinstance(step, stages.TrainStep):
            print(f"{title}: {'continuing' if step.resumed else 'training'} run {step.run_id}", file=sys.stderr)
        else:
            print(f"{title}: {step.prompts} prompts (job {job.job_id})", file=sys.stderr)
    stages.job_started(store, stage_run, step, job.job_id)
    printer = _ProgressPrinter(title)
    synced = {"at": time.monotonic()}

    def on_event(event: protocol.Message) -> None:
        printer(event)
        if (isinstance(step, stages.TrainStep) and isinstance(event, protocol.Result)
                and time.monotonic() - synced["at"] >= SYNC_EVERY_S):
            from backend.training.runs import sync_run

            sync_run(store, step.run_id)  # the store follows the run while it trains
            synced["at"] = time.monotonic()

    outcome = None
    try:
        outcome = run_prepared_job(job, store=store, python_executable=python, on_event=on_event)
    finally:
        printer.close()
        stages.job_ended(store, stage_run, step, job.job_dir, outcome.status if outcome else "failed")
    if outcome.status == "failed" and outcome.failure is not None:
        raise UserError(f"{title}: {outcome.failure.title}. {outcome.failure.what_to_do} (job {outcome.job_id}; "
                        f"log {outcome.job_dir / 'log.txt'}). Run the same command again to continue.")
    return outcome.status


# -- runs ---------------------------------------------------------------------------------------------
def run_listing(run) -> dict:
    """What `runs --json` prints for one run."""
    return {"id": run.id, "stage": run.stage, "status": run.status, "base": run.base, "adapter_path": run.adapter_path,
            "data_hash": run.data_hash, "metrics": run.metrics, "seed": run.seed, "created_at": run.created_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None, "error": run.error,
            "config": run.config}


def run_runs(args: argparse.Namespace) -> int:
    from backend.cli.opening import open_project
    from backend.training.runs import sync_run

    with open_project(args.project) as store:
        runs = [sync_run(store, run.id) for run in store.runs()]
    if args.json:
        print(json.dumps([run_listing(run) for run in runs], indent=2, default=str))
        return 0
    if not runs:
        print("No runs yet; train one with `avr-studio train DIR --stage 1`.")
        return 0
    for run in runs:
        figures = [f"{label} {run.metrics[key]:.4g}" for key, label in (("train_loss", "loss"),
                                                                         ("heldout_agreement", "agreement"))
                   if isinstance(run.metrics.get(key), int | float)]
        extra = ", ".join(figures) or (run.error or "")
        print(f"{run.id}  {run.stage:<8} {run.status:<9} {run.base:<40} data {run.data_hash}  {extra}".rstrip())
    return 0


# -- eval ---------------------------------------------------------------------------------------------
def run_eval(args: argparse.Namespace) -> int:
    from backend.cli.opening import open_project
    from backend.config import ModelSpec
    from backend.worker import before_after
    from backend.worker.job_session import run_prepared_job
    from backend.worker.request_builders import checked
    from backend.worker.submission import prepare_job

    scorer = scorer_spec(args.scorer) if args.scorer else None
    generator = checked(ModelSpec, device=args.device, **({"dtype": args.dtype} if args.dtype else {}))
    run_id = args.run[len(RUN_PREFIX):] if args.run.startswith(RUN_PREFIX) else args.run
    with open_project(args.project) as store:
        cap = "preset" if args.max_new_tokens is None else _cap(args.max_new_tokens)
        plan = before_after.prepare_evaluation(store, run_id, args.against, args.prompts, scorer, generator, args.seed,
                                               cap)
        job = prepare_job(plan.request, store=store)
        store.update_evaluation(plan.evaluation.id, "running", job.job_id)
        printer = _ProgressPrinter("eval")
        outcome = None
        try:
            outcome = run_prepared_job(job, store=store, python_executable=args.python, on_event=printer)
        finally:
            printer.close()
            before_after.sync_evaluation(store, plan.evaluation.id, job.job_dir)
            store.update_evaluation(plan.evaluation.id, outcome.status if outcome else "failed")
        if outcome.status == "failed" and outcome.failure is not None:
            raise UserError(f"{outcome.failure.title}. {outcome.failure.what_to_do} (job {outcome.job_id})")
        figures = before_after.summary(store, plan.evaluation.id)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0 if outcome.status == "finished" else 1
    print(f"Run {figures['run']} against {figures['against']} ({figures['base_model']}) on {figures['n']} held-out "
          f"prompts (evaluation {figures['evaluation_id']}):")
    for label, f in figures["by_scorer"].items():
        role = "training scorer" if label == figures["training_scorer"] else "judge"
        print(f"  {label} ({role}): win rate {f['win_rate']:.3f} ({f['wins']} wins, {f['ties']} ties, "
              f"{f['losses']} losses); mean reward {f['mean_reward']['trained']:.4g} vs {f['mean_reward']['base']:.4g}; "
              f"mean length {f['mean_length']['trained']:.0f} vs {f['mean_length']['base']:.0f} characters")
    return 0 if outcome.status == "finished" else 1


# -- merge --------------------------------------------------------------------------------------------
def run_merge(args: argparse.Namespace) -> int:
    from backend.cli.opening import open_project
    from backend.job_requests import MergeRequest
    from backend.worker.before_after import finished_generator_run
    from backend.worker.job_session import run_prepared_job
    from backend.worker.submission import prepare_job

    out = args.out.expanduser().resolve()
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out} already exists and is not empty; choose a new folder for the merged model")
    with open_project(args.project) as store:
        run = finished_generator_run(store, args.run)
        job = prepare_job(MergeRequest(run_id=run.id, runs_dir=str(store.runs_dir.resolve()), out_dir=str(out)),
                          store=store)
        outcome = run_prepared_job(job, store=store, python_executable=args.python)
    if outcome.status != "finished":
        what = outcome.failure.what_to_do if outcome.failure else outcome.status
        raise UserError(f"merging run {run.id} failed: {what}")
    print(f"Saved run {run.id} as a model folder: {out}")
    return 0

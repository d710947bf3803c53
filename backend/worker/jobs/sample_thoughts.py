"""The `sample_thoughts` job (Stage II, after SFT on long thoughts): per prompt, sample long thoughts with the
SFT model, sample again those with no parseable `Final answer:`, score each final answer and the prompt's
reference answer, and choose the prompt's long-thought DPO pair (`backend.training.stage2_data`).

Prompts are done a few at a time (their samples generated in one batch); each finished prompt is journalled
whole: its thought nodes, their scores (of the final answer), and one `thought_pair` record (the pair, or
none when the method's gate drops it). A resumed job skips the prompts that have that record. The process
owning the database stores the pairs (`backend.worker.thought_pairs`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from backend import protocol
from backend.avr.templates import respond_messages
from backend.domain import Score
from backend.engines.base import GenRequest, ListSource
from backend.job_requests import SampleThoughtsRequest
from backend.training.records import THOUGHT_PAIR, pair_of, pair_record
from backend.worker.context import JobContext
from backend.worker.jobs import common

PROMPTS_PER_BATCH = 8


def run(request: SampleThoughtsRequest, ctx: JobContext) -> dict[str, Any]:
    from backend.training.stage2_data import long_thought_dpo_pair, sample_many_with_final_answers

    done = {record["prompt_id"] for record in ctx.previous_records if record.get("type") == THOUGHT_PAIR}
    todo = [prompt for prompt in request.prompts if prompt.id not in done]
    ctx.progress.start(len(request.prompts), already_done=len(request.prompts) - len(todo),
                       message="sampling long thoughts")
    pairs = sum(1 for record in ctx.previous_records if pair_of(record) is not None)
    if not todo:
        return {"prompts": len(request.prompts), "pairs": pairs, "thoughts": 0}
    engine = common.load_engine(ctx, request.model)
    scorer = None
    thoughts_made = 0
    try:
        scorer = common.load_scorer(ctx, request.scorer)
        factory = common.NodeFactory(ctx, request.model.name, request.sampling, "")
        for start in range(0, len(todo), PROMPTS_PER_BATCH):
            batch = {prompt.id: prompt for prompt in todo[start:start + PROMPTS_PER_BATCH]}

            sampled = sample_many_with_final_answers(partial(_sample, ctx, engine, request, batch), list(batch),
                                                     request.samples, request.tries)
            for prompt_id, texts in sampled.items():
                prompt = batch[prompt_id]
                nodes = [factory.make(prompt_id, "long_thought", text) for text in texts]
                reference = request.references.get(prompt_id)
                pair, scored = long_thought_dpo_pair(prompt, texts, scorer.score, reference, [n.id for n in nodes])
                for node, thought in zip(nodes, scored, strict=True):
                    if not thought.text:
                        continue
                    factory.emit(node)
                    thoughts_made += 1
                    if thought.score is not None:
                        ctx.record(protocol.score_record(Score(node.id, request.scorer.label, thought.score)))
                ctx.record(pair_record(prompt_id, pair))
                pairs += pair is not None
                ctx.progress.advance(1, message=f"{pairs} pairs so far")
    finally:
        common.close_quietly(engine)
        if scorer is not None:
            common.close_quietly(scorer)
    return {"prompts": len(request.prompts), "pairs": pairs, "thoughts": thoughts_made}



def _sample(ctx: JobContext, engine, request: SampleThoughtsRequest, prompts: dict,
            wanted: dict[str, int]) -> dict[str, list[str]]:
    """`wanted[prompt id]` thoughts for each prompt, generated in one batch; a failed request gives empty
    texts (no final answer: the pair choice leaves them out)."""
    source = ListSource([GenRequest(prompt_id, respond_messages(prompts[prompt_id].text, prompts[prompt_id].system),
                                    n=n, sampling=request.sampling) for prompt_id, n in wanted.items()],
                        ctx.is_cancelled)
    engine.run(source)
    ctx.check_cancelled()
    texts = {}
    for prompt_id, n in wanted.items():
        result = source.results.get(prompt_id)
        got = list(result.texts) if result is not None and not result.error else []
        texts[prompt_id] = (got + [""] * n)[:n]
    return texts

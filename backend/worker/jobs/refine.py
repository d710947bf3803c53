"""The `refine` job: explicit recursive refinement of one prompt at inference time (DESIGN.md §1.4.4).

Answer, then up to `rounds` JUDGE → REVISE rounds, each under the best answer so far; the scorer is
the acceptance test (a revision replaces the best only if it scores strictly higher). Nothing is
stored: each round is a journal record ("refine_answer", "refine_round") and the summary holds the
final answer. Payload: prompt, rounds, model, scorers (first used), sampling, templates, rating_mode.
"""

from __future__ import annotations

from typing import Any

from backend.avr.chain import accept_step
from backend.avr.templates import criticize_messages, improve_messages, respond_messages
from backend.engines.base import GenRequest
from backend.errors import BadInputError
from backend.worker.context import JobContext
from backend.worker.jobs import common
from backend.worker.jobs.rating_policy import RatingStats, rate


def _generate_one(ctx: JobContext, engine, messages, sampling) -> str:
    [result] = engine.generate([GenRequest("refine", messages, sampling=sampling)]) or [None]
    ctx.check_cancelled()
    if result is None or result.error or not result.texts:
        raise BadInputError(f"The model returned no text ({result.error if result else 'no result'}). "
                            "Check the model or server and try again.")
    ctx.progress.advance(1, result.tokens)
    return result.texts[0]


def run(ctx: JobContext) -> dict[str, Any]:
    payload = ctx.payload
    prompt = (payload.get("prompt") or "").strip()
    if not prompt:
        raise BadInputError("refine needs a prompt: pass the question as text.")
    rounds = int(payload.get("rounds", 3))
    sampling, templates = common.sampling_config(payload), common.templates(payload)
    mode, spec = common.rating_mode(payload), common.scorer_specs(payload)[0]
    ctx.progress.start(1 + 2 * rounds, message="refining")
    engine = common.load_engine(ctx)
    try:
        scorer = common.load_scorer(ctx, spec)
        try:
            best = _generate_one(ctx, engine, respond_messages(prompt), sampling)
            [best_score] = scorer.score([(prompt, best)])
            ctx.record({"type": "refine_answer", "round": 0, "text": best, "score": float(best_score)})
            accepted_rounds = 0
            for round_ in range(1, rounds + 1):
                conversation = criticize_messages(prompt, best, templates)
                criticism = _generate_one(ctx, engine, conversation, sampling)
                [rating] = rate(engine, conversation, [criticism], mode, RatingStats())
                answer = _generate_one(ctx, engine, improve_messages(prompt, best, criticism, templates), sampling)
                [score] = scorer.score([(prompt, answer)])
                accepted = accept_step(best_score, [float(score)]) is not None
                ctx.record({"type": "refine_round", "round": round_, "criticism": criticism, "rating": rating,
                            "answer": answer, "score": float(score), "accepted": accepted})
                if accepted:
                    best, best_score, accepted_rounds = answer, float(score), accepted_rounds + 1
        finally:
            common.close_quietly(scorer)
    finally:
        common.close_quietly(engine)
    return {"final_answer": best, "final_score": float(best_score), "rounds": rounds,
            "accepted_rounds": accepted_rounds, "scorer": spec.label}

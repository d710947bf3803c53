"""The `refine` job: explicit recursive refinement of one prompt at inference time.

Answer, then up to `rounds` JUDGE → REVISE rounds, each under the best answer so far; the scorer is
the acceptance test (a revision replaces the best only if it scores strictly higher, as in
`backend.avr.chain.accept_step`). Nothing is stored: each round is a journal record
("refine_answer", "refine_round") and the summary holds the final answer.
"""

from __future__ import annotations

from typing import Any

from backend.avr.chain import accept_step
from backend.avr.templates import criticize_messages, improve_messages, respond_messages
from backend.engines.base import GenRequest
from backend.errors import BadInputError
from backend.job_requests import RefineRequest
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


def run(request: RefineRequest, ctx: JobContext) -> dict[str, Any]:
    prompt, rounds, sampling, templates = request.prompt, request.rounds, request.sampling, request.templates
    ctx.progress.start(1 + 2 * rounds, message="refining")
    engine = common.load_engine(ctx, request.model)
    try:
        scorer = common.load_scorer(ctx, request.scorer)
        try:
            best = _generate_one(ctx, engine, respond_messages(prompt), sampling)
            [best_score] = scorer.score([(prompt, best)])
            ctx.record({"type": "refine_answer", "round": 0, "text": best, "score": float(best_score)})
            accepted_rounds = 0
            for round_ in range(1, rounds + 1):
                conversation = criticize_messages(prompt, best, templates)
                criticism = _generate_one(ctx, engine, conversation, sampling)
                [rating] = rate(engine, conversation, [criticism], request.model.rating_mode, RatingStats())
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
            "accepted_rounds": accepted_rounds, "scorer": request.scorer.label}

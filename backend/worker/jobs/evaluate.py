"""The `evaluate` job: before / after on held-out prompts. Each side (the base model, the trained one)
answers every prompt once; a Stage II model's answer is the text after `Final answer:`. Every answer is
then scored by each scorer.

Records: `eval_answer` (evaluation, prompt, side, the whole text, the answer scored) and `eval_score`
(evaluation, prompt, side, scorer label, value). A resumed job skips what its journal holds. The process
owning the database stores them (`backend.training.evaluations`), and the win rates come from there.
"""

from __future__ import annotations

from typing import Any

from backend.avr.long_thought import extract_final_answer
from backend.avr.templates import respond_messages
from backend.engines.base import GenRequest, ListSource
from backend.job_requests import EvalSide, EvaluateRequest
from backend.training.records import EVAL_ANSWER, EVAL_SCORE, answer_record, score_record
from backend.worker.context import JobContext
from backend.worker.jobs import common

PROMPTS_PER_BATCH = 16


def answer_of(text: str, long_thought: bool) -> str:
    """What is scored: the text itself, or for a long thought the text after `Final answer:` (the whole text
    when the model never wrote one: an unfinished thought is judged as it stands).

    >>> answer_of("x\\n\\nFinal answer:\\n\\nTwelve.", True), answer_of("Twelve.", True)
    ('Twelve.', 'Twelve.')
    """
    if not long_thought:
        return text
    final = extract_final_answer(text)
    return text if final is None else final


def run(request: EvaluateRequest, ctx: JobContext) -> dict[str, Any]:
    answers: dict[tuple[str, str], str] = {}
    scored: set[tuple[str, str, str]] = set()
    for record in ctx.previous_records:
        if record.get("type") == EVAL_ANSWER:
            answers[(record["prompt_id"], record["side"])] = record["answer"]
        elif record.get("type") == EVAL_SCORE:
            scored.add((record["prompt_id"], record["side"], record["scorer"]))
    prompts = {prompt.id: prompt for prompt in request.prompts}
    steps = len(prompts) * len(request.sides) * (1 + len(request.scorers))
    ctx.progress.start(steps, already_done=len(answers) + len(scored), message="evaluating")
    for side in request.sides:
        missing = [prompt for prompt in request.prompts if (prompt.id, side.name) not in answers]
        if missing:
            answers.update(_answer(ctx, request.evaluation_id, side, missing))
    for spec in request.scorers:
        todo = [(prompt_id, side) for prompt_id in prompts for side in (s.name for s in request.sides)
                if (prompt_id, side, spec.label) not in scored]
        if not todo:
            continue
        scorer = common.load_scorer(ctx, spec)
        try:
            for start in range(0, len(todo), max(spec.batch_size, 1)):
                ctx.check_cancelled()
                chunk = todo[start:start + spec.batch_size]
                values = scorer.score([(prompts[pid].text, answers[(pid, side)]) for pid, side in chunk])
                for (prompt_id, side), value in zip(chunk, values, strict=True):
                    ctx.record(score_record(request.evaluation_id, prompt_id, side, spec.label, value))
                ctx.progress.advance(len(chunk), message=f"scored with {spec.label}")
        finally:
            common.close_quietly(scorer)
    return {"evaluation_id": request.evaluation_id, "prompts": len(prompts),
            "scorers": [spec.label for spec in request.scorers]}


def _answer(ctx: JobContext, evaluation_id: str, side: EvalSide, prompts) -> dict[tuple[str, str], str]:
    """One answer per prompt from this side's model, journalled as it comes."""
    made: dict[tuple[str, str], str] = {}
    engine = common.load_engine(ctx, side.model)
    try:
        for start in range(0, len(prompts), PROMPTS_PER_BATCH):
            batch = prompts[start:start + PROMPTS_PER_BATCH]
            source = ListSource([GenRequest(p.id, respond_messages(p.text, p.system), sampling=side.sampling)
                                 for p in batch], ctx.is_cancelled)
            engine.run(source)
            ctx.check_cancelled()
            for prompt in batch:
                result = source.results.get(prompt.id)
                if result is None or result.error or not result.texts:
                    ctx.log("warning", f"{side.name} model gave no answer for prompt {prompt.id}: "
                                       f"{result.error if result else 'no result'}; it is scored as empty")
                    text = ""
                else:
                    text = result.texts[0]
                answer = answer_of(text, side.long_thought)
                ctx.record(answer_record(evaluation_id, prompt.id, side.name, side.model.name, text, answer))
                made[(prompt.id, side.name)] = answer
                ctx.progress.advance(1, tokens=result.tokens if result else 0, message=f"{side.name} answers")
    finally:
        common.close_quietly(engine)
    return made

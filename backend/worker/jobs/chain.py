"""The `chain` job: Stage II greedy chains, round by round across all prompts at once.

Each chain starts from the prompt's best stored answer (`ChainRequest.starts`) or, with none or with
chain.start == "sample", a fresh response; the scorer is the acceptance test of every round
(the rules are `backend/avr/chain.py`). A prompt whose chain record is already in this job's journal
is skipped on resubmit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from backend import protocol
from backend.avr.chain import (
    ChainStep,
    accept_step,
    chain_long_thought,
    closing_criticism_index,
    finalize_chain,
)
from backend.avr.long_thought import format_long_thought
from backend.avr.templates import criticize_messages, improve_messages, respond_messages
from backend.config import SamplingConfig
from backend.domain import Chain, Node, random_id
from backend.engines.base import GenRequest
from backend.job_requests import ChainRequest
from backend.worker.context import JobContext
from backend.worker.jobs import common
from backend.worker.jobs.rating_policy import RatingStats, criticize_all, warning_text

CRITICISMS_PER_ROUND = 2  # the paper's 2 x 2 tree under the current answer
IMPROVEMENTS_PER_CRITICISM = 2


@dataclass
class ChainState:
    prompt_id: str
    prompt: str
    current: Node | None = None
    current_score: float | None = None
    start: Node | None = None  # y0
    start_score: float | None = None
    steps: list[ChainStep] = field(default_factory=list)  # accepted rounds
    texts: dict[str, str] = field(default_factory=dict)  # node id -> text, for the long thought
    closing: Node | None = None  # c_final: a criticism of the best answer from the first failed round
    stopped: bool = False


def _start_states(ctx: JobContext, request: ChainRequest) -> list[ChainState]:
    done = common.journalled_chain_prompts(ctx)
    states = []
    for prompt in request.prompts:
        if prompt.id in done:
            continue
        state = ChainState(prompt.id, prompt.text)
        start = request.starts.get(prompt.id) if request.chain.start == "best" else None
        if start is not None:
            state.current = Node(id=start.node_id, prompt_id=prompt.id, kind="response", text=start.text)
            state.current_score = start.score
        states.append(state)
    return states


def run(request: ChainRequest, ctx: JobContext) -> dict[str, Any]:
    rounds, tree, mode, spec = request.chain.rounds, request.tree, request.model.rating_mode, request.scorer
    states = _start_states(ctx, request)
    ctx.progress.start(len(states) * rounds, message="chains")
    stats = RatingStats()
    engine = common.load_engine(ctx, request.model)
    try:
        scorer = common.load_scorer(ctx, spec)
        try:
            factory = common.NodeFactory(ctx, request.model.name, request.sampling, request.templates.version)
            chain_round = _ChainRound(ctx, engine, scorer, spec, factory, request.sampling, request.templates, mode,
                                      tree, stats, rounds)
            chain_round.start(states)
            for round_ in range(1, rounds + 1):
                active = [s for s in states if not s.stopped]
                if not active:
                    break
                chain_round.expand(active, round_)
        finally:
            common.close_quietly(scorer)
    finally:
        common.close_quietly(engine)
    warning = warning_text(stats, mode, tree.rating_retries)
    if warning:
        ctx.log("warning", warning)
    chains = sum(_finish(ctx, factory, s, rounds) for s in states)
    return {"prompts": len(states), "chains": chains, "criticisms_dropped": stats.dropped}


class _ChainRound:
    """One level of every active chain: 2 criticisms, 2 improvements each, scores, accept or stop."""

    def __init__(self, ctx, engine, scorer, spec, factory, sampling, templates, mode, tree, stats,
                 rounds: int) -> None:
        self.ctx, self.engine, self.scorer, self.spec, self.factory = ctx, engine, scorer, spec, factory
        self.sampling, self.templates, self.mode, self.tree, self.stats = sampling, templates, mode, tree, stats
        self.rounds = rounds

    def _score(self, nodes: list[Node], prompts: dict[str, str]) -> dict[str, float]:
        items = [(n.id, prompts[n.prompt_id], n.text) for n in nodes]
        return common.score_items(self.ctx, self.scorer, self.spec.label, items, self.spec.batch_size,
                                  count_progress=False)

    def start(self, states: list[ChainState]) -> None:
        """y0: sample where there is no stored answer, score where there is no stored score."""
        fresh = [s for s in states if s.current is None]
        if fresh:
            requests = [GenRequest(s.prompt_id, respond_messages(s.prompt), sampling=self.sampling) for s in fresh]
            results = {r.key: r for r in self.engine.generate(requests)}
            self.ctx.check_cancelled()
            for state in fresh:
                result = results.get(state.prompt_id)
                if result is None or result.error or not result.texts:
                    self.ctx.log("warning", f"no first answer for prompt {state.prompt_id}: "
                                            f"{result.error if result else 'no result'}")
                    state.stopped = True
                    self.ctx.progress.advance(self.rounds)
                    continue
                state.current = self.factory.emit(self.factory.make(state.prompt_id, "response", result.texts[0]))
        unscored = [s.current for s in states if s.current is not None and s.current_score is None]
        values = self._score(unscored, {s.prompt_id: s.prompt for s in states})
        for state in states:
            if state.current is not None:
                if state.current_score is None:
                    state.current_score = values[state.current.id]
                state.start, state.start_score = state.current, state.current_score
                state.texts[state.current.id] = state.current.text

    def round_sampling(self, round_: int) -> SamplingConfig:
        """A seeded run reseeds every generate call; a fixed seed would replay round 1's random stream
        in every round, so each round gets its own (recorded on its nodes)."""
        if self.sampling.seed is None:
            return self.sampling
        return replace(self.sampling, seed=self.sampling.seed + round_)

    def expand(self, active: list[ChainState], round_: int) -> None:
        prompts = {s.prompt_id: s.prompt for s in active}
        sampling = self.round_sampling(round_)
        conversations = [criticize_messages(s.prompt, s.current.text, self.templates) for s in active]
        criticized = criticize_all(self.engine, conversations, CRITICISMS_PER_ROUND, sampling, self.mode,
                                   self.tree.rating_retries, self.stats)
        self.ctx.check_cancelled()
        critic_nodes: dict[str, list[Node]] = {}
        requests = []
        for state, kept in zip(active, criticized, strict=True):
            critic_nodes[state.prompt_id] = [
                self.factory.emit(self.factory.make(state.prompt_id, "criticism", text, state.current.id, round_,
                                                    self_rating=rating, sampling=sampling)) for text, rating in kept]
            requests += [GenRequest(c.id, improve_messages(state.prompt, state.current.text, c.text, self.templates),
                                    n=IMPROVEMENTS_PER_CRITICISM, sampling=sampling)
                         for c in critic_nodes[state.prompt_id]]
        results = {r.key: r for r in self.engine.generate(requests)}
        self.ctx.check_cancelled()
        children: dict[str, list[Node]] = {}
        for criticisms in critic_nodes.values():
            for c in criticisms:
                result = results.get(c.id)
                texts = result.texts if result is not None and not result.error else []
                children[c.id] = [self.factory.emit(self.factory.make(c.prompt_id, "improvement", t, c.id, round_,
                                                                      sampling=sampling)) for t in texts]
        values = self._score([n for nodes in children.values() for n in nodes], prompts)
        for state in active:
            self._accept_or_stop(state, critic_nodes[state.prompt_id], children, values)
            # a chain that stops now skips its remaining rounds
            steps = 1 + (self.rounds - round_ if state.stopped else 0)
            self.ctx.progress.advance(steps, message=f"round {round_}")

    def _accept_or_stop(self, state: ChainState, criticisms: list[Node], children: dict[str, list[Node]],
                        values: dict[str, float]) -> None:
        candidates = [(c, y) for c in criticisms for y in children[c.id]]
        choice = accept_step(state.current_score, [values[y.id] for _, y in candidates]) if candidates else None
        if choice is None:
            state.stopped = True
            closing = closing_criticism_index([c.self_rating for c in criticisms])
            state.closing = None if closing is None else criticisms[closing]  # criticises the best answer
            return
        criticism, answer = candidates[choice]
        state.steps.append(ChainStep(criticism.id, answer.id, values[answer.id]))
        state.texts.update({criticism.id: criticism.text, answer.id: answer.text})
        state.current, state.current_score = answer, values[answer.id]


def _finish(ctx: JobContext, factory: common.NodeFactory, state: ChainState, rounds: int) -> int:
    """Journal the chain and its long thought if it qualifies (an accepted round and a closing criticism)."""
    closing_id = state.closing.id if state.closing is not None else None
    outcome = (finalize_chain(state.start.id, state.start_score, state.steps, closing_id, rounds)
               if state.start is not None else None)
    if outcome is None:
        reason = ("no round improved the answer" if not state.steps
                  else "the best answer came in the last allowed round, so nothing closes the thought")
        ctx.log("info", f"prompt {state.prompt_id}: no chain kept ({reason})")
        return 0
    texts = {**state.texts, closing_id: state.closing.text}
    thought = chain_long_thought(outcome, texts)
    text = format_long_thought(thought.answers, thought.criticisms, thought.final_answer)
    node = factory.emit(factory.make(state.prompt_id, "long_thought", text))
    chain = Chain(id=random_id(), prompt_id=state.prompt_id, node_ids=outcome.node_ids,
                  best_node_id=outcome.best_node_id, scores=outcome.scores, long_thought_node_id=node.id)
    ctx.record(protocol.chain_record(chain))
    return 1

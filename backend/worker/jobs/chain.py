"""The `chain` job: Stage II greedy chains, round by round across all prompts at once.

Each chain starts from y0 (`ChainRequest.starts`: the prompt's reference answer or best stored answer;
a fresh response where there is none). Every round criticizes the current answer twice (each criticism
sampled up to `TreeConfig.rating_retries + 1` times for a rating; one that never gets one stays out),
improves twice under each criticism, scores every improvement, and accepts the best one only if it
strictly beats the current answer; the first round that does not ends the chain and is kept for its
closing criticism. The rules are `backend.avr.chain.greedy_outcome`, the nodes recorded
`greedy_path`: the same as the authors' greedy records get from their importer
(`backend.io.importers.avr_greedy_chain`), so chains grown here and imported ones look alike: y0 at
round 0, round r's criticisms under the answer that round criticized and their improvements under
them, both with `round = r`. Every chain is recorded; its long thought only where the paper keeps it.
A prompt whose chain record is already in this job's journal is skipped on resubmit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from backend import protocol
from backend.avr.chain import RoundNodes, RoundScores, greedy_outcome, greedy_path
from backend.avr.filters import is_degenerate
from backend.avr.long_thought import format_long_thought
from backend.avr.templates import criticize_messages, improve_messages, respond_messages
from backend.config import SamplingConfig
from backend.domain import IMPORTED_MODEL, Chain, Node, Prompt, now, random_id
from backend.engines.base import GenRequest
from backend.job_requests import ChainRequest, ChainStart
from backend.worker.context import JobContext
from backend.worker.jobs import common
from backend.worker.jobs.rating_policy import RatingStats, criticize_all, warning_text

CRITICISMS_PER_ROUND = 2  # the paper's 2 x 2 tree under the current answer
IMPROVEMENTS_PER_CRITICISM = 2


@dataclass
class ChainState:
    prompt: Prompt
    start: Node | None = None  # y0
    current: Node | None = None
    current_score: float | None = None
    scores: dict[str, float] = field(default_factory=dict)  # R of y0 and of every scored improvement
    texts: dict[str, str] = field(default_factory=dict)  # node id -> text, for the long thought
    round_nodes: list[RoundNodes] = field(default_factory=list)  # per round run
    round_scores: list[RoundScores] = field(default_factory=list)  # parallel to round_nodes
    stopped: bool = False

    def remember(self, node: Node) -> Node:
        self.texts[node.id] = node.text
        return node


def _start_node(ctx: JobContext, prompt: Prompt, start: ChainStart) -> Node:
    """y0 as a node: a stored answer is referred to by id; a reference answer becomes an imported
    response node (journalled; its id is the one the greedy-chain importer would give it)."""
    node = Node(id=start.node_id, prompt_id=prompt.id, kind="response", text=start.text)
    if start.reference:
        node = replace(node, model=IMPORTED_MODEL, job_id=ctx.job_id, created_at=now())
        ctx.record(protocol.node_record(node))
    return node


def _start_states(ctx: JobContext, request: ChainRequest) -> list[ChainState]:
    done = common.journalled_chain_prompts(ctx)
    states = []
    for prompt in request.prompts:
        if prompt.id in done:
            continue
        state = ChainState(prompt)
        start = request.starts.get(prompt.id) if request.chain.start != "sample" else None
        if start is not None:
            state.current = state.remember(_start_node(ctx, prompt, start))
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
            chain_round = _ChainRound(ctx, engine, scorer, spec, factory, request, stats)
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
    finished = [_finish(ctx, factory, s) for s in states if s.start is not None]
    return {"prompts": len(states), "chains": len(finished), "long_thoughts": sum(finished),
            "criticisms_dropped": stats.dropped}


class _ChainRound:
    """One level of every active chain: 2 criticisms, 2 improvements each, scores, accept or stop."""

    def __init__(self, ctx: JobContext, engine, scorer, spec, factory: common.NodeFactory, request: ChainRequest,
                 stats: RatingStats) -> None:
        self.ctx, self.engine, self.scorer, self.spec, self.factory = ctx, engine, scorer, spec, factory
        self.sampling, self.templates, self.stats = request.sampling, request.templates, stats
        self.mode, self.retries, self.rounds = request.model.rating_mode, request.tree.rating_retries, request.chain.rounds

    def _score(self, nodes: list[Node], states: list[ChainState]) -> dict[str, float]:
        prompts = {s.prompt.id: s.prompt.text for s in states}
        items = [(n.id, prompts[n.prompt_id], n.text) for n in nodes]
        return common.score_items(self.ctx, self.scorer, self.spec.label, items, self.spec.batch_size,
                                  count_progress=False)

    def start(self, states: list[ChainState]) -> None:
        """y0: sample where there is no stored or reference answer, score where there is no stored score."""
        fresh = [s for s in states if s.current is None]
        if fresh:
            requests = [GenRequest(s.prompt.id, respond_messages(s.prompt.text, s.prompt.system),
                                   sampling=self.sampling) for s in fresh]
            results = {r.key: r for r in self.engine.generate(requests)}
            self.ctx.check_cancelled()
            for state in fresh:
                result = results.get(state.prompt.id)
                if result is None or result.error or not result.texts:
                    self.ctx.log("warning", f"no first answer for prompt {state.prompt.id}: "
                                            f"{result.error if result else 'no result'}")
                    state.stopped = True
                    self.ctx.progress.advance(self.rounds)
                    continue
                answer = self.factory.make(state.prompt.id, "response", result.texts[0])
                state.current = state.remember(self.factory.emit(answer))
        unscored = [s.current for s in states if s.current is not None and s.current_score is None]
        values = self._score(unscored, states)
        for state in states:
            if state.current is not None:
                if state.current_score is None:
                    state.current_score = values[state.current.id]
                state.start = state.current
                state.scores[state.start.id] = state.current_score

    def round_sampling(self, round_: int) -> SamplingConfig:
        """A seeded run reseeds every generate call; a fixed seed would replay round 1's random stream
        in every round, so each round gets its own (recorded on its nodes)."""
        if self.sampling.seed is None:
            return self.sampling
        return replace(self.sampling, seed=self.sampling.seed + round_)

    def expand(self, active: list[ChainState], round_: int) -> None:
        sampling = self.round_sampling(round_)
        conversations = [criticize_messages(s.prompt.text, s.current.text, self.templates, s.prompt.system)
                         for s in active]
        criticized = criticize_all(self.engine, conversations, CRITICISMS_PER_ROUND, sampling, self.mode,
                                   self.retries, self.stats)
        self.ctx.check_cancelled()
        critic_nodes: dict[str, list[Node]] = {}
        requests = []
        for state, kept in zip(active, criticized, strict=True):
            critic_nodes[state.prompt.id] = [
                state.remember(self.factory.emit(self.factory.make(
                    state.prompt.id, "criticism", text, state.current.id, round_, self_rating=rating,
                    sampling=sampling)))
                for text, rating in kept]
            requests += [GenRequest(c.id, improve_messages(state.prompt.text, state.current.text, c.text,
                                                           self.templates, state.prompt.system),
                                    n=IMPROVEMENTS_PER_CRITICISM, sampling=sampling)
                         for c in critic_nodes[state.prompt.id]]
        results = {r.key: r for r in self.engine.generate(requests)} if requests else {}
        self.ctx.check_cancelled()
        children: dict[str, list[Node]] = {}
        for state in active:
            for c in critic_nodes[state.prompt.id]:
                result = results.get(c.id)
                if result is not None and result.error:
                    self.ctx.log("warning", f"improve for prompt {state.prompt.id} failed: {result.error}")
                texts = result.texts if result is not None and not result.error else []
                children[c.id] = [state.remember(self.factory.emit(self.factory.make(
                    c.prompt_id, "improvement", t, c.id, round_, sampling=sampling))) for t in texts]
        values = self._score([n for nodes in children.values() for n in nodes], active)
        for state in active:
            self._accept_or_stop(state, critic_nodes[state.prompt.id], children, values)
            # a chain that stops now skips its remaining rounds
            steps = 1 + (self.rounds - round_ if state.stopped else 0)
            self.ctx.progress.advance(steps, message=f"round {round_}")

    def _accept_or_stop(self, state: ChainState, criticisms: list[Node], children: dict[str, list[Node]],
                        values: dict[str, float]) -> None:
        """Record the round; the chain moves on to its accepted improvement, or stops."""
        state.round_nodes.append([(c.id, [y.id for y in children[c.id]]) for c in criticisms])
        state.round_scores.append([[values.get(y.id) for y in children[c.id]] for c in criticisms])
        state.scores.update((y.id, values[y.id]) for c in criticisms for y in children[c.id] if y.id in values)
        accepted = greedy_outcome(state.current_score, state.round_scores[-1:]).accepted
        if not accepted:
            state.stopped = True
            return
        [(i, j)] = accepted
        answer_id = state.round_nodes[-1][i][1][j]
        state.current = Node(id=answer_id, prompt_id=state.prompt.id, kind="improvement", text=state.texts[answer_id])
        state.current_score = state.scores[answer_id]


def _finish(ctx: JobContext, factory: common.NodeFactory, state: ChainState) -> bool:
    """Journal the chain, and its long thought where the paper keeps one; whether it was kept."""
    outcome = greedy_outcome(state.scores[state.start.id], state.round_scores, is_degenerate(state.start.text))
    path = greedy_path(state.start.id, outcome, state.round_nodes)
    thought_id = None
    if outcome.dropped is None:
        text = format_long_thought([state.texts[a] for a in path.answer_ids],
                                   [state.texts[c] for c in path.criticism_ids], state.texts[path.best_id])
        thought_id = factory.emit(factory.make(state.prompt.id, "long_thought", text)).id
    else:
        ctx.log("info", f"prompt {state.prompt.id}: chain kept without a long thought ({outcome.dropped})")
    chain = Chain(id=random_id(), prompt_id=state.prompt.id, node_ids=path.node_ids, best_node_id=path.best_id,
                  scores=tuple(state.scores[a] for a in path.answer_ids), long_thought_node_id=thought_id)
    ctx.record(protocol.chain_record(chain))
    return thought_id is not None

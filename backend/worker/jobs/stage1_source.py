"""The Stage I dispatcher: a RequestSource over `plan.missing_steps` and the in-memory trees.

A prompt is re-planned whenever one of its results arrives, so a criticism's improvements become ready
the moment it is done: the transformers engine then batches a whole level across prompts, and server
engines dispatch children immediately. Every node is journalled as it is made.

A criticism gets at most `TreeConfig.rating_retries + 1` samples in all (`rating_policy`): the answer's
open criticisms are always asked for together, so the requests made for an answer since its last kept
criticism count the samples of each one still open. A failed request counts as one sample.
"""

from __future__ import annotations

import threading
from collections import deque

from backend.avr.plan import PlannedStep, missing_steps
from backend.avr.templates import criticize_messages, improve_messages, respond_messages
from backend.avr.tree import build_trees
from backend.config import SamplingConfig, TreeConfig
from backend.domain import Node, Prompt, Templates
from backend.engines.base import GenRequest, GenResult
from backend.worker.context import JobContext
from backend.worker.jobs.common import NodeFactory
from backend.worker.jobs.rating_policy import RatingStats, keepable, rate

_KIND_OF_ACTION = {"respond": "response", "criticize": "criticism", "improve": "improvement"}


class Stage1Source:
    def __init__(self, ctx: JobContext, engine, factory: NodeFactory, prompts: dict[str, Prompt],
                 nodes: dict[str, Node], tree: TreeConfig, sampling: SamplingConfig, templates: Templates,
                 rating_mode: str) -> None:
        self._ctx, self._engine, self._factory = ctx, engine, factory
        self._prompts = prompts
        self._nodes: dict[str, Node] = dict(nodes)
        self._tree, self._sampling, self._templates, self._mode = tree, sampling, templates, rating_mode
        self._lock = threading.RLock()
        self._dirty: set[str] = set(prompts)
        self._ready: deque[tuple[GenRequest, PlannedStep]] = deque()
        self._in_flight: dict[str, PlannedStep] = {}
        self._busy_parents: set[tuple[str, str | None]] = set()  # (prompt, parent) with a step out
        self._samples: dict[str | None, int] = {}  # samples so far of an answer's open criticisms
        self._given_up: dict[str | None, int] = {}  # criticisms dropped per answer (never re-planned)
        self._blocked: set[tuple[str, str | None, str]] = set()  # (prompt, parent, action) that failed
        self._serial = 0
        self.stats = RatingStats()  # criticisms (their failed requests too)
        self.failed_requests: list[str] = []  # every action's

    # -- RequestSource ----------------------------------------------------------------------------
    def next_requests(self, limit: int) -> list[GenRequest]:
        with self._lock:
            self._replan()
            taken = []
            while self._ready and len(taken) < limit:
                request, step = self._ready.popleft()
                self._in_flight[request.key] = step
                taken.append(request)
            return taken

    def on_result(self, result: GenResult) -> None:
        with self._lock:
            step = self._in_flight.pop(result.key)
            self._busy_parents.discard((step.prompt_id, step.parent_id))
            self._dirty.add(step.prompt_id)
            if result.error:
                self.failed_requests.append(result.error)
                self._ctx.log("warning", f"{step.action} for prompt {step.prompt_id} failed: {result.error}")
                if step.action == "criticize":  # one sample of each criticism it asked for
                    self.stats.failed_requests.append(result.error)
                    self._add_criticisms(step, [], 0)
                else:
                    self._block(step)
                return
            texts = result.texts[: step.count]
            if step.action == "criticize":
                self._add_criticisms(step, texts, result.tokens)
            else:
                for text in texts:
                    self._add(self._factory.make(step.prompt_id, _KIND_OF_ACTION[step.action], text,
                                                 step.parent_id))
                self._ctx.progress.advance(len(texts), result.tokens, f"{step.action} done")

    def is_done(self) -> bool:
        with self._lock:
            if self._dirty:
                self._replan()
            return not (self._ready or self._in_flight or self._dirty)

    def is_cancelled(self) -> bool:
        return self._ctx.is_cancelled()

    @property
    def nodes(self) -> dict[str, Node]:
        return self._nodes

    # -- planning ---------------------------------------------------------------------------------
    def _replan(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for prompt_id in sorted(dirty):
            roots = build_trees([n for n in self._nodes.values() if n.prompt_id == prompt_id], {}, {})
            for step in missing_steps(prompt_id, roots, self._tree):
                count = step.count - (self._given_up.get(step.parent_id, 0) if step.action == "criticize" else 0)
                if (count <= 0 or (prompt_id, step.parent_id) in self._busy_parents
                        or (prompt_id, step.parent_id, step.action) in self._blocked):
                    continue
                step = PlannedStep(step.action, prompt_id, step.parent_id, count)
                self._busy_parents.add((prompt_id, step.parent_id))
                self._serial += 1
                request = GenRequest(f"{step.action}:{self._serial}", self._messages(step), n=count,
                                     sampling=self._sampling)
                self._ready.append((request, step))

    def _messages(self, step: PlannedStep):
        prompt = self._prompts[step.prompt_id]
        if step.action == "respond":
            return respond_messages(prompt.text, prompt.system)
        parent = self._nodes[step.parent_id]
        if step.action == "criticize":
            return criticize_messages(prompt.text, parent.text, self._templates, prompt.system)
        answer = self._nodes[parent.parent_id]
        return improve_messages(prompt.text, answer.text, parent.text, self._templates, prompt.system)

    # -- results ----------------------------------------------------------------------------------
    def _add(self, node: Node) -> None:
        self._nodes[node.id] = node
        self._factory.emit(node)

    def _add_criticisms(self, step: PlannedStep, texts: list[str], tokens: int) -> None:
        """One sample of each of the step's criticisms: keep what can be kept; the rest are planned
        again, or dropped after their last sample."""
        texts = texts[: step.count]
        ratings = rate(self._engine, self._messages(step), texts, self._mode, self.stats) if texts else []
        keep = keepable(ratings, self._mode)
        for i in keep:
            self._add(self._factory.make(step.prompt_id, "criticism", texts[i], step.parent_id,
                                         self_rating=ratings[i]))
        self.stats.kept += len(keep)
        self._ctx.progress.advance(len(keep), tokens, "criticize done")
        still_open = step.count - len(keep)
        if still_open:
            samples = self._samples.get(step.parent_id, 0) + 1
            self._samples[step.parent_id] = samples
            if samples <= self._tree.rating_retries:
                self.stats.resampled += still_open  # the plan asks for them again
            else:
                self._give_up(step, still_open)

    def _give_up(self, step: PlannedStep, count: int) -> None:
        """Skip `count` criticisms of an answer for the rest of this run (progress skips their subtrees)."""
        self._given_up[step.parent_id] = self._given_up.get(step.parent_id, 0) + count
        self.stats.dropped += count
        self._ctx.progress.advance(count * (1 + self._tree.improvements), message="criticism dropped")

    def _block(self, step: PlannedStep) -> None:
        """A request that failed after the engine's retries: do not plan it again in this run."""
        self._blocked.add((step.prompt_id, step.parent_id, step.action))
        per_child = {"respond": 1 + self._tree.criticisms * (1 + self._tree.improvements),
                     "criticize": 1 + self._tree.improvements, "improve": 1}[step.action]
        self._ctx.progress.advance(step.count * per_child, message=f"{step.action} failed")

"""The transformers engine's decode loop: continuous batching over a slot cache (slot_cache.py).

Each of up to `rows` rows holds one sample of one request. A row that finishes hands its result on and
its row is refilled with a waiting sample at once, so short sequences never wait for the longest.
A request's prompt is prefilled once and copied to its n samples' rows; a prompt that starts with a
sequence finished earlier in the same run (its answer, its criticism) takes that prefix's keys from
the prefix store and prefills only the rest. Results go back per request as soon as all its samples end.

Reproducible: the schedule depends only on the requests and their order, each row draws from its own
seeded stream (sampler.py), and the prefix store starts empty on every `run`.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import torch

from backend.engines.base import GenRequest, GenResult, RequestSource
from backend.engines.prefix_store import PrefixStore
from backend.engines.row_attention import runs_of_equal_length, use_row_attention
from backend.engines.sampler import TokenSampler, row_seed
from backend.engines.slot_cache import DecodePlan, PrefillPlan, SlotCache

_MIN_REUSED_PREFIX = 32  # fewer stored tokens: the rating prompt joins the batched full forward instead
_IDLE_POLL_S = 0.02  # a source with nothing ready yet (fed from another thread) is polled this often


@dataclass
class BatchStats:
    """What one run did, for benchmarks and tests: how much prefill was done, reused and shared."""

    prompts: int = 0  # prompts prefilled (once per request, however many samples)
    prefilled: int = 0  # prompt tokens run through the model
    reused: int = 0  # prompt tokens taken from the prefix store instead
    shared: int = 0  # prompt tokens copied from a request's first sample to its other samples
    steps: int = 0  # decode steps
    row_steps: int = 0  # decode steps summed over rows (tokens decoded)


@dataclass(eq=False)  # jobs compare by identity
class _Job:
    """A request being served: its prompt tokens and the texts of its finished samples."""

    request: GenRequest
    prompt: tuple[int, ...]
    max_new: int
    texts: list[str | None]
    tokens: int = 0
    unfinished: int = 0


@dataclass
class _Row:
    job: _Job
    sample: int
    length: int  # positions held in the cache
    generated: list[int] = field(default_factory=list)  # sampled tokens; the last is not in the cache yet


class ContinuousBatcher:
    def __init__(self, model, tokenizer, rows: int, stop_ids: set[int], store_positions: int,
                 on_step=lambda: None, lean=None) -> None:
        self.model = model
        self.lean = lean  # a LeanDecoder (lean_llama.py) for the loop's forwards, else the model's own
        self.on_step = on_step  # called before every step (the engine re-checks its thread count)
        self.tokenizer = tokenizer
        self.capacity = rows
        self.stop_ids = stop_ids
        config = model.config.get_text_config()
        self.max_positions = int(getattr(config, "max_position_embeddings", 0) or 1 << 30)
        self.device = model.device
        self.num_layers = config.num_hidden_layers
        self.cache: SlotCache | None = None
        self.sampler = TokenSampler(rows, model.get_output_embeddings().weight.shape[0])
        self.store = PrefixStore(store_positions)
        self.stats = BatchStats()
        self.rows: list[_Row] = []
        self.waiting: deque[tuple[_Job, int]] = deque()
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.row_attention = lean is not None or use_row_attention(model)

    # -- the loop ------------------------------------------------------------------------------------
    def run(self, source: RequestSource) -> None:
        # A fresh store per run keeps runs reproducible; it stays filled after the run for ratings of
        # what the run generated (rating_digits after generate), until the next run.
        self.store.clear()
        self.stats = BatchStats()
        self.cache = SlotCache(self.num_layers, self.capacity)
        try:
            with torch.inference_mode():
                while not source.is_cancelled():
                    self.on_step()
                    self._admit(source)
                    if not self.rows:
                        if not self.waiting and source.is_done():
                            return
                        if not self.waiting:
                            time.sleep(_IDLE_POLL_S)
                        continue
                    self._step(source)
        finally:
            self.rows.clear()  # cancelled or failed: partial samples are not results
            self.waiting.clear()
            self.cache = None  # the row buffers are the big part; a run allocates its own

    def _admit(self, source: RequestSource) -> None:
        free = self.capacity - len(self.rows)
        if free <= 0:
            return
        if len(self.waiting) < free:
            for request in source.next_requests(free - len(self.waiting)):
                self._accept(request, source)
        admitted = [self.waiting.popleft() for _ in range(min(free, len(self.waiting)))]
        if admitted:
            self._prefill(admitted, source)

    def _accept(self, request: GenRequest, source: RequestSource) -> None:
        from backend.engines.loading import chat_prompt

        text = chat_prompt(self.tokenizer, request.messages) + request.assistant_prefix
        # The chat template already wrote any BOS token; do not add special tokens twice.
        prompt = tuple(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        room = self.max_positions - len(prompt)
        if not prompt or room < 1:
            source.on_result(GenResult(request.key, [], 0, error=(
                f"the prompt has {len(prompt)} tokens; the model reads at most {self.max_positions}. Shorten the "
                "prompt or choose a model with a longer context")))
            return
        cap = request.sampling.max_new_tokens  # None: no cap below the model's context (the paper preset)
        job = _Job(request, prompt, room if cap is None else min(cap, room), [None] * request.n,
                   unfinished=request.n)
        self.waiting.extend((job, sample) for sample in range(request.n))

    def cached_prefix(self, text: str):
        """(token ids of `text`, saved keys/values, cached length) when the prefix store holds a useful
        prefix of `text` (half of it, or _MIN_REUSED_PREFIX tokens of a longer one), else None. For
        one-off forwards such as ratings. Re-tokenizing a generated text can split it differently from how
        it was sampled (SmolLM2 sampled "\n\n" as one token that the tokenizer writes as two), so a
        criticism's rating prompt may match only up to there; the stored part is still worth using: the
        rest is one short prefill instead of the whole prompt (measured: 158 of a 420-token prompt)."""
        ids = tuple(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        saved, shared = self.store.longest(ids)
        shared = min(shared, len(ids) - 1)
        if saved is None or shared < min(_MIN_REUSED_PREFIX, (len(ids) + 1) // 2):
            return None
        return list(ids), saved, shared

    # -- prefill -------------------------------------------------------------------------------------
    def _prefill(self, admitted: list[tuple[_Job, int]], source: RequestSource) -> None:
        """Prefill one row per admitted request (after any stored prefix) and copy it to its other
        admitted samples, which take the rows right after it (equal lengths side by side)."""
        groups: dict[int, list[tuple[_Job, int]]] = {}
        for job, sample in admitted:
            groups.setdefault(id(job), []).append((job, sample))
        leader_rows, offsets = [], []
        row = len(self.rows)
        for group in groups.values():
            job = group[0][0]
            saved, shared = self.store.longest(job.prompt)
            shared = min(shared, len(job.prompt) - 1)  # at least one token to prefill: its logits are needed
            if shared > 0:
                self.cache.load_row(row, saved, shared)
            leader_rows.append(row)
            offsets.append(shared)
            row += len(group)
            self.stats.prompts += 1
            self.stats.prefilled += len(job.prompt) - shared
            self.stats.reused += shared
        logits = self._forward_prefill(leader_rows, [g[0][0].prompt for g in groups.values()], offsets)
        first = len(self.rows)
        row_logits = []
        for leader, group, group_logits in zip(leader_rows, groups.values(), logits, strict=True):
            job = group[0][0]
            for job, sample in group:
                if len(self.rows) != leader:
                    self.cache.copy_prefix(leader, len(self.rows), len(job.prompt))
                    self.stats.shared += len(job.prompt)
                self.sampler.start_row(len(self.rows), list(job.prompt), job.request.sampling,
                                       row_seed(job.request.sampling.seed, job.request.key, sample))
                self.rows.append(_Row(job, sample, len(job.prompt)))
                row_logits.append(group_logits)
            if any(waiting is job for waiting, _ in self.waiting):  # more samples come later: keep the prompt
                self.store.add(job.prompt, self.cache.save_row(leader, len(job.prompt)))
        self._take_tokens(first, torch.stack(row_logits), source)

    def _forward_prefill(self, rows: list[int], prompts: list[tuple[int, ...]], offsets: list[int]) -> torch.Tensor:
        """One forward over the uncached tokens of `rows`, left-padded to one width; last logits per row."""
        suffixes = [prompt[offset:] for prompt, offset in zip(prompts, offsets, strict=True)]
        width = max(len(s) for s in suffixes)
        pads = [width - len(s) for s in suffixes]
        self.cache.ensure_capacity(max(o + width for o in offsets))
        input_ids = torch.tensor([[self.pad_id] * pad + list(s) for pad, s in zip(pads, suffixes, strict=True)])
        offset_t = torch.tensor(offsets)[:, None]
        real = torch.arange(width)[None, :] - torch.tensor(pads)[:, None]  # index of each input among the real ones
        positions = offset_t + real.clamp(min=0)
        span = max(o + len(s) for o, s in zip(offsets, suffixes, strict=True))
        # Query i of a row sees the row's cached prefix and its own tokens up to i; padding sees position 0.
        mask = torch.arange(span)[None, None, :] <= positions[:, :, None]
        self.cache.plan = PrefillPlan(rows, offsets, pads, span)
        return self._forward(input_ids, positions, mask[:, None])

    # -- decode --------------------------------------------------------------------------------------
    def _step(self, source: RequestSource) -> None:
        """Feed every row its last sampled token and sample the next."""
        count = len(self.rows)
        lengths = [row.length for row in self.rows]
        positions = torch.tensor(lengths)
        span = max(lengths) + 1
        self.cache.ensure_capacity(span)
        input_ids = torch.tensor([[row.generated[-1]] for row in self.rows])
        self.cache.plan = DecodePlan(count, positions.to(self.device), span)
        runs = runs_of_equal_length([n + 1 for n in lengths]) if self.row_attention else None
        # Row attention reads each row's own length; the mask is for the model's SDPA path only.
        mask = None if self.lean is not None else (torch.arange(span)[None, :] <= positions[:, None])[:, None, None]
        logits = self._forward(input_ids, positions[:, None], mask, runs)
        for row in self.rows:
            row.length += 1
        self.stats.steps += 1
        self.stats.row_steps += count
        self._take_tokens(0, logits, source)

    def _forward(self, input_ids, positions, mask, slot_runs=None) -> torch.Tensor:
        """Last-position logits of one forward over the cache's current plan."""
        input_ids, positions = input_ids.to(self.device), positions.to(self.device)
        mask = mask.to(self.device) if mask is not None else None
        if self.lean is not None:
            return self.lean(input_ids, positions, self.cache, mask, slot_runs)
        extra = {"slot_runs": slot_runs} if slot_runs is not None else {}
        out = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions, cache=self.cache,
                         use_cache=True, logits_to_keep=1, **extra)
        return out.logits[:, -1]

    def _take_tokens(self, first: int, logits: torch.Tensor, source: RequestSource) -> None:
        """Sample the next token of rows first.. from their logits; finish the rows that end."""
        tokens = self.sampler.next_tokens(logits, first)
        ended = []
        for index, token in enumerate(tokens, start=first):
            row = self.rows[index]
            row.generated.append(token)
            if token in self.stop_ids or len(row.generated) >= row.job.max_new:
                ended.append(index)
        for index in reversed(ended):  # from the back, so moving the last row into a hole is safe
            self._finish(index, source)

    def _finish(self, index: int, source: RequestSource) -> None:
        row = self.rows[index]
        generated = row.generated[:-1] if row.generated[-1] in self.stop_ids else row.generated
        # What the cache holds: the prompt and every sampled token but the last (never fed back).
        self.store.add(row.job.prompt + tuple(row.generated[:-1]), self.cache.save_row(index, row.length))
        last = len(self.rows) - 1
        if index != last:
            self.cache.move_row(last, index, self.rows[last].length)
            self.sampler.move_row(last, index)
            self.rows[index] = self.rows[last]
        self.rows.pop()
        job = row.job
        job.texts[row.sample] = self.tokenizer.decode(generated, skip_special_tokens=True)
        job.tokens += len(generated)
        job.unfinished -= 1
        if job.unfinished == 0:
            source.on_result(GenResult(job.request.key, list(job.texts), job.tokens))

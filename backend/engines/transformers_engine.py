"""The default generator: a local causal LM through transformers.

Models whose layers all use full attention (Llama, Qwen, SmolLM, Mistral without a window, ...) run in
the continuous-batching loop of continuous.py: up to `batch_size` rows, refilled as each finishes, one
prefill per request shared by its n samples, prefixes of finished sequences reused. A seed makes a run
reproducible (same seed and requests, same texts).

Other models (sliding-window or hybrid layers) fall back to `model.generate` over batches of up to
`batch_size` rows with one sampling setting each, refilled between batches (rows of one batch share
one random stream).
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

from backend.config import ModelSpec, SamplingConfig
from backend.domain import Message
from backend.engines.base import RATING_PROMPT_SUFFIX, Engine, GenRequest, GenResult, RequestSource
from backend.engines.embedded import resolve_model_dir
from backend.engines.loading import (
    architectures,
    chat_prompt,
    load_tokenizer,
    load_weights,
    pick_device,
    read_model_config,
)
from backend.engines.packed_linear import pack_linear_layers, room_for_a_copy
from backend.engines.threads import ThreadGovernor
from backend.errors import ModelLoadError

_IDLE_POLL_S = 0.02  # a source with nothing ready yet (fed from another thread) is polled this often


def _sampling_key(sampling: SamplingConfig) -> tuple:
    return tuple(sorted(sampling.to_dict().items()))


class TransformersEngine(Engine):
    def __init__(self, spec: ModelSpec) -> None:
        from transformers import AutoModelForCausalLM

        self.spec = spec
        self.model_name = spec.name
        self.folder = resolve_model_dir(spec.name)
        config = read_model_config(self.folder)
        if any(a.endswith("ForSequenceClassification") for a in architectures(config)):
            raise ModelLoadError(f"{self.folder} is a reward classifier ({architectures(config)[0]}), not a "
                                 "text generator. Use it as a scorer, and choose a chat model to generate.")
        self.device = pick_device(spec.device)
        # Threads are chosen here, before the first forward, and kept right while generating (threads.py).
        self.governor = ThreadGovernor(fixed=spec.threads)
        self.governor.start()
        self.tokenizer = load_tokenizer(self.folder, spec.trust_remote_code)
        self.model = load_weights(AutoModelForCausalLM, self.folder, spec.dtype, self.device,
                                  spec.trust_remote_code)
        self._lean = None  # the loop's fast forward for Llama-family models (lean_llama.py)
        if self.device == "cpu" and room_for_a_copy(self.model):
            from backend.engines.lean_llama import lean_decoder

            self._lean = lean_decoder(self.model) if self.continuous else None
            if self._lean is None:
                pack_linear_layers(self.model)
        self._stop_ids = self._end_token_ids()
        self._held: deque[GenRequest] = deque()  # pulled from the source but not yet in a batch
        self._batcher = None  # the continuous-batching loop, made on first use

    @classmethod
    def from_folder(cls, folder: str | Path, **spec_fields) -> TransformersEngine:
        return cls(ModelSpec(name=str(folder), engine="transformers", **spec_fields))

    def _end_token_ids(self) -> set[int]:
        ids = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id}
        eos = self.model.generation_config.eos_token_id
        ids.update(eos if isinstance(eos, list) else [eos])
        return {i for i in ids if i is not None}

    # -- dispatch --------------------------------------------------------------------------------
    @property
    def continuous(self) -> bool:
        """Whether this model runs in the continuous-batching loop (every layer full attention)."""
        from transformers.cache_utils import get_layer_types_and_kwargs

        config = self.model.config.get_text_config(decoder=True)
        try:
            layer_types, _ = get_layer_types_and_kwargs(config)
        except Exception:  # an unusual config: the generate() path handles whatever generate handles
            return False
        return bool(layer_types) and all(kind == "full_attention" for kind in layer_types)

    def run(self, source: RequestSource) -> None:
        if self.continuous:
            self._continuous_batcher().run(source)
        else:
            self._run_with_generate(source)

    @property
    def last_run_stats(self):
        """What the last continuous-batching run did (continuous.BatchStats), or None."""
        return self._batcher.stats if self._batcher is not None else None

    def _continuous_batcher(self):
        if self._batcher is None:
            from backend.engines.continuous import ContinuousBatcher

            self._batcher = ContinuousBatcher(self.model, self.tokenizer, self.spec.batch_size, self._stop_ids,
                                              store_positions=_prefix_store_positions(self.model),
                                              on_step=self.governor.tick, lean=self._lean)
        return self._batcher

    def _run_with_generate(self, source: RequestSource) -> None:
        self._held.clear()  # leftovers of an earlier, cancelled run belong to its source
        while not source.is_cancelled():
            self.governor.tick()
            batch = self._next_batch(source)
            if not batch:
                if source.is_done() and not self._held:
                    return
                time.sleep(_IDLE_POLL_S)
                continue
            results = self._generate_batch(batch, source.is_cancelled)
            if results is None:  # cancelled mid-batch: partial texts are not results
                return
            for result in results:
                source.on_result(result)

    def _next_batch(self, source: RequestSource) -> list[GenRequest]:
        """Up to batch_size rows of requests that share sampling settings; the rest wait their turn."""
        limit = self.spec.batch_size
        batch: list[GenRequest] = []
        rows = 0
        key = None
        candidates = list(self._held)
        self._held.clear()
        while True:
            for request in candidates:
                fits = rows + request.n <= limit or not batch  # an oversized request goes alone
                same = key is None or _sampling_key(request.sampling) == key
                if fits and same:
                    batch.append(request)
                    rows += request.n
                    key = _sampling_key(request.sampling)
                else:
                    self._held.append(request)
            if rows >= limit or self._held:
                return batch
            candidates = source.next_requests(limit - rows)
            if not candidates:
                return batch

    # -- generation ------------------------------------------------------------------------------
    def _prompt_texts(self, batch: list[GenRequest]) -> list[str]:
        texts = []
        for request in batch:
            text = chat_prompt(self.tokenizer, request.messages) + request.assistant_prefix
            texts.extend([text] * request.n)
        return texts

    def _encode(self, texts: list[str]):
        # The chat template already wrote any BOS token; do not add special tokens twice.
        return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)

    def _generate_batch(self, batch: list[GenRequest], is_cancelled) -> list[GenResult] | None:
        import torch

        sampling = batch[0].sampling
        inputs = self._encode(self._prompt_texts(batch))
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)
        with torch.inference_mode():
            output = self.model.generate(**inputs, **self._generate_kwargs(sampling, inputs["input_ids"].shape[1]),
                                         stopping_criteria=_cancel_criteria(is_cancelled))
        if is_cancelled():
            return None
        new_tokens = output[:, inputs["input_ids"].shape[1]:].tolist()
        results, row = [], 0
        for request in batch:
            texts, tokens = [], 0
            for ids in new_tokens[row:row + request.n]:
                kept = self._until_end(ids)
                tokens += len(kept)
                texts.append(self.tokenizer.decode(kept, skip_special_tokens=True))
            results.append(GenResult(key=request.key, texts=texts, tokens=tokens))
            row += request.n
        return results

    def _generate_kwargs(self, sampling: SamplingConfig, prompt_length: int) -> dict:
        cap = sampling.max_new_tokens
        if cap is None:  # no cap below the model's context (the paper preset); generate() would stop at 20
            positions = getattr(self.model.config.get_text_config(), "max_position_embeddings", None) or 1 << 30
            cap = max(int(positions) - prompt_length, 1)
        kwargs = dict(max_new_tokens=cap, repetition_penalty=sampling.repetition_penalty,
                      pad_token_id=self.tokenizer.pad_token_id, eos_token_id=sorted(self._stop_ids))
        if sampling.temperature > 0:
            # top_k=0 switches off the model's default top-k, as in the paper (and vLLM): top-p only.
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def _until_end(self, ids: list[int]) -> list[int]:
        for index, token in enumerate(ids):
            if token in self._stop_ids:
                return ids[:index]
        return ids

    # -- constrained rating ----------------------------------------------------------------------
    def rating_digits(self, conversations: list[list[Message]], criticisms: list[str]) -> list[int | None]:
        """Constrained ratings; a prompt that continues a sequence still in the prefix store (a criticism
        just generated in this run) only runs its last few tokens through the model."""
        from backend.engines.rating import constrained_rating_after_prefix, constrained_ratings

        prompts = [chat_prompt(self.tokenizer, conversation) + criticism.rstrip() + RATING_PROMPT_SUFFIX
                   for conversation, criticism in zip(conversations, criticisms, strict=True)]
        ratings: list[int | None] = [None] * len(prompts)
        uncached = []
        for i, prompt in enumerate(prompts):
            found = self._batcher.cached_prefix(prompt) if self._batcher is not None else None
            if found is None:
                uncached.append(i)
                continue
            ids, saved, cached = found
            ratings[i] = constrained_rating_after_prefix(self.model, self.tokenizer, ids, saved, cached, self.device,
                                                         lean=self._lean)
        for start in range(0, len(uncached), self.spec.batch_size):
            chunk = uncached[start:start + self.spec.batch_size]
            for i, rating in zip(chunk, constrained_ratings(self.model, self.tokenizer, [prompts[i] for i in chunk],
                                                            self.device), strict=True):
                ratings[i] = rating
        return ratings

    def close(self) -> None:
        self.model = None
        self._batcher = None
        self._held.clear()


_PREFIX_STORE_BYTES = 1 << 30  # finished sequences kept for prefix reuse (~46k positions of SmolLM2-135M)


def _prefix_store_positions(model) -> int:
    """How many cached positions fit in the prefix store's memory budget for this model."""
    config = model.config.get_text_config()
    heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    per_position = config.num_hidden_layers * 2 * heads * head_dim * model.dtype.itemsize
    return max(_PREFIX_STORE_BYTES // per_position, 1)


def _cancel_criteria(is_cancelled):
    """A stopping criterion that ends the whole batch within one decoding step of a cancel."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class CancelCriterion(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), bool(is_cancelled()), dtype=torch.bool,
                              device=input_ids.device)

    return StoppingCriteriaList([CancelCriterion()])

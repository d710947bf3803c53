"""vLLM's offline engine (GPU machines; vLLM pins its own torch and transformers, so it lives in its
own environment and the worker runs with that environment's python).

vLLM schedules continuously by itself, so `run()` hands it everything that is ready at once and
loops while finished requests make new ones (a node's children) ready.
"""

from __future__ import annotations

import time

from backend.config import ModelSpec, SamplingConfig
from backend.domain import Message
from backend.engines.base import RATING_PROMPT_SUFFIX, Engine, GenRequest, GenResult, RequestSource
from backend.engines.embedded import resolve_model_dir
from backend.engines.loading import chat_prompt
from backend.engines.openai_engine import samples_to_ask
from backend.engines.rating import parse_rating_text

_IDLE_POLL_S = 0.02
_MAX_READY = 100_000  # ask the source for everything it has; vLLM batches internally


class VLLMEngine(Engine):
    def __init__(self, spec: ModelSpec) -> None:
        from vllm import LLM

        self.spec = spec
        self.model_name = spec.name
        folder = resolve_model_dir(spec.name)
        self.llm = LLM(model=str(folder), dtype=spec.dtype, trust_remote_code=spec.trust_remote_code)
        self.tokenizer = self.llm.get_tokenizer()

    def _params(self, sampling: SamplingConfig, n: int):
        from vllm import SamplingParams

        return SamplingParams(n=n, temperature=sampling.temperature, top_p=sampling.top_p,
                              max_tokens=sampling.max_new_tokens, repetition_penalty=sampling.repetition_penalty,
                              seed=sampling.seed)

    def run(self, source: RequestSource) -> None:
        while not source.is_cancelled() and not source.is_done():
            ready = source.next_requests(_MAX_READY)
            if not ready:
                time.sleep(_IDLE_POLL_S)  # nothing in flight here: the source waits on someone else
                continue
            prompts = [chat_prompt(self.tokenizer, r.messages) + r.assistant_prefix for r in ready]
            # Greedy siblings are one text: ask once and copy (vLLM's server refuses n > 1 at temperature 0).
            outputs = self.llm.generate(prompts, [self._params(r.sampling, samples_to_ask(r)) for r in ready],
                                        use_tqdm=False)
            for request, output in zip(ready, outputs, strict=True):
                copies = request.n // len(output.outputs)
                texts = [o.text for o in output.outputs] * copies
                tokens = sum(len(o.token_ids) for o in output.outputs) * copies
                source.on_result(GenResult(key=request.key, texts=texts, tokens=tokens))

    def rating_digits(self, conversations: list[list[Message]], criticisms: list[str]) -> list[int | None]:
        greedy = SamplingConfig(temperature=0.0, top_p=1.0, max_new_tokens=3, repetition_penalty=1.0)
        requests = [GenRequest(str(i), list(c), sampling=greedy, assistant_prefix=k.rstrip() + RATING_PROMPT_SUFFIX)
                    for i, (c, k) in enumerate(zip(conversations, criticisms, strict=True))]
        ratings: list[int | None] = []
        for result in self.generate(requests):
            ratings.append(parse_rating_text(result.texts[0]) if result.texts else None)
        return ratings

    def close(self) -> None:
        self.llm = None

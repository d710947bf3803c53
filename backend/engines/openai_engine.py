"""Generation on any OpenAI-compatible server (`vllm serve`, or others), several replicas at once.

A bounded window of requests is kept in flight (max_concurrency per base URL, each request going to
the least-loaded replica); a new request is pulled from the source as soon as a slot frees, and each
result is reported as it completes, so a node's children start while its cousins are still running.
Siblings travel as one `n=` request, so the server computes their shared prefix once.

`assistant_prefix` is sent as a final assistant message with `continue_final_message: true` and
`add_generation_prompt: false` — a vLLM extension; servers without it may ignore the prefix.
`repetition_penalty` and `seed` are extra fields that vLLM accepts.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time

from backend.config import ModelSpec, SamplingConfig
from backend.domain import Message
from backend.engines.base import RATING_PROMPT_SUFFIX, Engine, GenRequest, GenResult, RequestSource
from backend.engines.embedded import EMBEDDED_ALIASES
from backend.engines.http_retry import BadReply, ServerReplyError, post_json, post_json_async

_POLL_S = 0.1  # how often an idle dispatcher re-checks cancel and the source


def samples_to_ask(request: GenRequest) -> int:
    """How many samples to ask the server for: greedy samples are all the same text, and vLLM refuses
    n > 1 with temperature 0 ("n must be 1 when using greedy sampling"), so greedy asks for one.

    >>> from backend.config import SamplingConfig
    >>> samples_to_ask(GenRequest("k", [], n=3, sampling=SamplingConfig(temperature=0.0)))
    1
    """
    return 1 if request.sampling.temperature == 0 else request.n


def chat_payload(model: str, request: GenRequest) -> dict:
    s = request.sampling
    payload = {"model": model, "messages": list(request.messages), "n": samples_to_ask(request),
               "temperature": s.temperature, "top_p": s.top_p, "repetition_penalty": s.repetition_penalty}
    if s.max_new_tokens is not None:  # omitted: the server's own limit, the model's context (the paper preset)
        payload["max_tokens"] = s.max_new_tokens
    if s.seed is not None:
        payload["seed"] = s.seed
    if request.assistant_prefix:
        payload["messages"].append({"role": "assistant", "content": request.assistant_prefix})
        payload.update(continue_final_message=True, add_generation_prompt=False)
    return payload


def best_rating_token(body) -> int | None:
    """The highest-probability token of the first generated position that reads as 1..10.

    >>> best_rating_token({"choices": [{"logprobs": {"content": [{"top_logprobs": [
    ...     {"token": "k", "logprob": -0.1}, {"token": "7", "logprob": -1.0}, {"token": "1", "logprob": -2.0}]}]}}]})
    7
    """
    try:
        candidates = body["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
    except (KeyError, IndexError, TypeError):
        return None
    for candidate in sorted(candidates, key=lambda c: -c.get("logprob", float("-inf"))):
        token = str(candidate.get("token", "")).strip()
        if token.isdigit() and 1 <= int(token) <= 10:
            return int(token)
    return None


def parse_chat_reply(body, n: int) -> tuple[list[str], int]:
    """(texts in choice order, completion tokens) from a chat-completions body; BadReply if malformed."""
    if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
        raise BadReply("no 'choices' list in the reply")
    choices = sorted(body["choices"], key=lambda c: c.get("index", 0) if isinstance(c, dict) else 0)
    if len(choices) != n:
        raise BadReply(f"asked for n={n} samples, got {len(choices)}")
    texts = []
    for choice in choices:
        content = (choice.get("message") or {}).get("content") if isinstance(choice, dict) else None
        if not isinstance(content, str):
            raise BadReply("a choice has no message content")
        texts.append(content)
    usage = body.get("usage") or {}
    return texts, int(usage.get("completion_tokens") or 0)  # 0 when the server reports no usage


class ReplicaPool:
    """Base URLs with their in-flight counts. `pick` returns the least loaded (ties rotate), avoiding
    a replica that failed in the last few seconds while a healthy one exists, so retries go elsewhere."""

    COOLDOWN_S = 5.0

    def __init__(self, base_urls: list[str]) -> None:
        self.urls = [u.rstrip("/") for u in base_urls]
        self.in_flight = dict.fromkeys(self.urls, 0)
        self.failed_at = dict.fromkeys(self.urls, -1e9)
        self._rotation = itertools.cycle(range(len(self.urls)))

    def pick(self) -> str:
        start = next(self._rotation)
        order = self.urls[start:] + self.urls[:start]
        now = time.monotonic()
        url = min(order, key=lambda u: (now - self.failed_at[u] < self.COOLDOWN_S, self.in_flight[u]))
        self.in_flight[url] += 1
        return url

    def release(self, url: str, ok: bool = True) -> None:
        self.in_flight[url] -= 1
        if not ok:
            self.failed_at[url] = time.monotonic()


class OpenAIEngine(Engine):
    def __init__(self, spec: ModelSpec, retries: int = 3, backoff_s: float = 0.5) -> None:
        self.spec = spec
        self.retries = retries
        self.backoff_s = backoff_s
        self.pool = ReplicaPool(spec.base_urls)
        self.window = spec.max_concurrency * len(self.pool.urls)
        self._served_name = None if spec.name.strip() in EMBEDDED_ALIASES or not spec.name else spec.name
        self.model_name = spec.name

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.spec.api_key_env, "") if self.spec.api_key_env else ""
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _client(self):
        import httpx

        timeout = httpx.Timeout(self.spec.timeout_s, connect=min(10.0, self.spec.timeout_s))
        limits = httpx.Limits(max_connections=self.window, max_keepalive_connections=self.window)
        return httpx.AsyncClient(timeout=timeout, limits=limits, headers=self._headers())

    async def _resolve_with_own_client(self) -> str:
        async with self._client() as client:
            return await self._resolve_model(client)

    async def _resolve_model(self, client) -> str:
        """The served model's name: the spec's, or the first the server lists (`GET /models`)."""
        if self._served_name is None:
            url = self.pool.urls[0] + "/models"
            try:
                response = await client.get(url)
                self._served_name = response.json()["data"][0]["id"]
            except Exception as error:
                raise ServerReplyError(f"Could not ask {url} which model it serves ({error}). Set the "
                                       "model name to the one the server was started with.") from None
            self.model_name = self._served_name
        return self._served_name

    # -- dispatch --------------------------------------------------------------------------------
    def run(self, source: RequestSource) -> None:
        loop = asyncio.new_event_loop()  # private loop: run() is blocking and may be called from any thread
        try:
            loop.run_until_complete(self._drive(source))
        finally:
            loop.close()

    async def _drive(self, source: RequestSource) -> None:
        async with self._client() as client:
            model = await self._resolve_model(client)
            in_flight: set[asyncio.Task] = set()
            try:
                while not source.is_cancelled():
                    free = self.window - len(in_flight)
                    if free > 0:
                        for request in source.next_requests(free):
                            in_flight.add(asyncio.create_task(self._one(client, model, request)))
                    if not in_flight:
                        if source.is_done():
                            return
                        await asyncio.sleep(_POLL_S / 10)
                        continue
                    done, _ = await asyncio.wait(in_flight, timeout=_POLL_S, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        in_flight.discard(task)
                        source.on_result(task.result())
            finally:
                for task in in_flight:  # cancelled: abandon what is in flight
                    task.cancel()
                if in_flight:
                    await asyncio.gather(*in_flight, return_exceptions=True)

    async def _one(self, client, model: str, request: GenRequest) -> GenResult:
        try:
            texts, tokens = await post_json_async(
                client, self.pool.pick, self.pool.release, "/chat/completions", chat_payload(model, request),
                retries=self.retries, backoff_s=self.backoff_s,
                validate=lambda b: parse_chat_reply(b, samples_to_ask(request)))
        except ServerReplyError as error:
            return GenResult(key=request.key, texts=[], tokens=0, error=str(error))
        except Exception as error:  # one odd reply must not stop the other requests of the job
            return GenResult(key=request.key, texts=[], tokens=0, error=f"{type(error).__name__}: {error}")
        copies = request.n // len(texts)  # greedy: the one text stands for every sample
        return GenResult(key=request.key, texts=texts * copies, tokens=tokens * copies)

    # -- constrained rating ----------------------------------------------------------------------
    def rating_digits(self, conversations: list[list[Message]], criticisms: list[str]) -> list[int | None]:
        """The most likely rating token after "...Rating: [[" among 1..10, read from the server's top
        log-probabilities of one generated token (the closest a server comes to restricting the
        vocabulary). Plain greedy text is not enough: a small model copies the template's "[[k]]"."""
        import httpx

        greedy = SamplingConfig(temperature=0.0, top_p=1.0, max_new_tokens=1, repetition_penalty=1.0)
        ratings: list[int | None] = []
        model = self._served_name or asyncio.run(self._resolve_with_own_client())
        with httpx.Client(timeout=self.spec.timeout_s, headers=self._headers()) as client:
            for conversation, criticism in zip(conversations, criticisms, strict=True):
                request = GenRequest(key="rating", messages=list(conversation), sampling=greedy,
                                     assistant_prefix=criticism.rstrip() + RATING_PROMPT_SUFFIX)
                payload = chat_payload(model, request) | {"logprobs": True, "top_logprobs": 20}
                url = self.pool.pick()
                try:
                    body = post_json(client, url + "/chat/completions", payload,
                                     retries=self.retries, backoff_s=self.backoff_s)
                    self.pool.release(url, True)
                except ServerReplyError:
                    self.pool.release(url, False)
                    ratings.append(None)
                    continue
                ratings.append(best_rating_token(body))
        return ratings

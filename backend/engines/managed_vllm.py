"""The `vllm` engine where vLLM is not importable but its own environment is installed (`scripts/setup
--vllm` makes `.venv-vllm/`): the engine starts a local vLLM-CPU server on the spec's model folder
(vllm_server.py: a child process on a free loopback port, bf16 by default) and generates through it
with the openai engine. `close()` stops the server; so does the worker's exit (atexit), and the
launcher ends itself if the worker dies, so no server outlives the app.
"""

from __future__ import annotations

import dataclasses

from backend.config import ModelSpec
from backend.domain import Message
from backend.engines.base import Engine, RequestSource
from backend.engines.embedded import EMBEDDED_ALIASES, resolve_model_dir
from backend.engines.openai_engine import OpenAIEngine
from backend.engines.vllm_server import VLLMServer

SERVED_EMBEDDED_NAME = "smollm2"  # the served name of the embedded model (any other folder: its name)


def served_name(spec: ModelSpec) -> str:
    """The name the server answers to.

    >>> served_name(ModelSpec(name="embedded")), served_name(ModelSpec(name="/models/Qwen2.5-0.5B/"))
    ('smollm2', 'Qwen2.5-0.5B')
    """
    name = spec.name.strip()
    return SERVED_EMBEDDED_NAME if name in EMBEDDED_ALIASES else name.rstrip("/").rsplit("/", 1)[-1]


class ManagedVLLMEngine(Engine):
    def __init__(self, spec: ModelSpec, server: VLLMServer | None = None) -> None:
        self.spec = spec
        self.model_name = spec.name
        self.server = server or VLLMServer(resolve_model_dir(spec.name), served_name=served_name(spec),
                                           dtype=spec.dtype)
        self.server.start()  # blocks until the server answers (~1-2 min on 2 cores); stops it on failure
        self.client = OpenAIEngine(dataclasses.replace(spec, engine="openai", name=self.server.served_name,
                                                       base_urls=[self.server.base_url]))

    @property
    def log_path(self):
        return self.server.log_path

    def run(self, source: RequestSource) -> None:
        self.client.run(source)

    def rating_digits(self, conversations: list[list[Message]], criticisms: list[str]) -> list[int | None]:
        return self.client.rating_digits(conversations, criticisms)

    def close(self) -> None:
        self.server.stop()

"""Generation engines behind one interface (base.Engine); `make_engine` picks one from a ModelSpec.

Importing this package is cheap: torch, transformers, httpx and vllm load only when an engine is made.
"""

from __future__ import annotations

from backend.config import ModelSpec
from backend.engines.base import Engine, GenRequest, GenResult, ListSource, RequestSource
from backend.errors import UserError

__all__ = ["Engine", "GenRequest", "GenResult", "ListSource", "RequestSource", "make_engine"]


def make_engine(spec: ModelSpec) -> Engine:
    if spec.engine == "transformers":
        from backend.engines.transformers_engine import TransformersEngine

        return TransformersEngine(spec)
    if spec.engine == "openai":
        from backend.engines.openai_engine import OpenAIEngine

        return OpenAIEngine(spec)
    if spec.engine == "vllm":
        from backend.engines.vllm_engine import VLLMEngine, vllm_available

        if not vllm_available():
            raise UserError("vLLM is not installed in this Python environment. vLLM lives in its own "
                            "environment (it pins its own torch and transformers): install it there and set "
                            "the worker interpreter to that environment's python, or run `vllm serve` and "
                            "use the openai engine.")
        return VLLMEngine(spec)
    raise UserError(f"Unknown engine {spec.engine!r}; choose transformers, openai or vllm.")

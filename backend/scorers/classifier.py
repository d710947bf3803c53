"""A `*ForSequenceClassification` reward model from a local folder (one output: a scalar reward).

Scored in fp32, in batches, on the chat-templated [user prompt, assistant answer] conversation.
Right padding keeps every real token at the position it has when scored alone, so a batch gives
the same scores as one-by-one.
"""

from __future__ import annotations

from pathlib import Path

from backend.config import ScorerSpec
from backend.engines.loading import (
    architectures,
    load_tokenizer,
    load_weights,
    pick_device,
    read_model_config,
)
from backend.errors import ModelLoadError
from backend.scorers.base import Scorer, batches
from backend.scorers.conversation import conversation_ids, token_budget


class ClassifierScorer(Scorer):
    def __init__(self, spec: ScorerSpec, device: str = "auto") -> None:
        from transformers import AutoModelForSequenceClassification

        self.spec = spec
        self.label = spec.label
        folder = Path(spec.model).expanduser()
        config = read_model_config(folder)
        names = architectures(config)
        if not any(name.endswith("ForSequenceClassification") for name in names):
            raise ModelLoadError(
                f"{folder} is not a reward classifier: its architecture is {names or 'unknown'}, and a reward "
                "model is a *ForSequenceClassification with one output. Use a likelihood or relevance "
                "scorer for a chat model, or choose a reward model folder.")
        labels = config.get("num_labels") or len(config.get("id2label") or {}) or 1
        if labels != 1:
            raise ModelLoadError(f"{folder} has {labels} output labels; a reward model has exactly one "
                                 "(a scalar score). Choose a reward model folder.")
        self.device = pick_device(device)
        self.tokenizer = load_tokenizer(folder, padding_side="right")
        self.model = load_weights(AutoModelForSequenceClassification, folder, "float32", self.device)
        if self.model.config.pad_token_id is None:
            self.model.config.pad_token_id = self.tokenizer.pad_token_id  # needed to find each row's last token
        self.budget = token_budget(self.tokenizer, self.model.config, spec.max_length)

    def score(self, items: list[tuple[str, str]]) -> list[float]:
        import torch

        scores: list[float] = []
        for chunk in batches(items, self.spec.batch_size):
            rows = [{"input_ids": conversation_ids(self.tokenizer, p, a, self.budget)} for p, a in chunk]
            inputs = self.tokenizer.pad(rows, return_tensors="pt", padding=True).to(self.device)
            with torch.inference_mode():
                logits = self.model(**inputs).logits
            scores.extend(float(x) for x in logits[:, 0].tolist())
        return scores

    def close(self) -> None:
        self.model = None

"""Mean per-token log-likelihood of the answer given the chat-templated prompt, under a frozen LM.

An offline stand-in for a reward model (MODELS.md: 15/16 agreement with hand labels). The scorer
loads its own fp32 copy, so it is never the policy being trained (that would reward self-preference).
"""

from __future__ import annotations

from backend.config import ScorerSpec
from backend.engines.embedded import resolve_model_dir
from backend.engines.loading import chat_prompt, load_tokenizer, load_weights, pick_device, read_model_config
from backend.scorers.base import Scorer, batches
from backend.scorers.conversation import token_budget

EMPTY_ANSWER_SCORE = -100.0  # below any real mean log-probability; keeps scores finite for storage


class LikelihoodScorer(Scorer):
    def __init__(self, spec: ScorerSpec, device: str = "auto") -> None:
        from transformers import AutoModelForCausalLM

        self.spec = spec
        self.label = spec.label
        folder = resolve_model_dir(spec.model)
        read_model_config(folder)
        self.device = pick_device(device)
        self.tokenizer = load_tokenizer(folder, padding_side="right")
        self.model = load_weights(AutoModelForCausalLM, folder, "float32", self.device)
        self.model.requires_grad_(False)
        self.budget = token_budget(self.tokenizer, self.model.config, spec.max_length)

    def _row(self, prompt: str, answer: str) -> tuple[list[int], int]:
        """(ids, number of answer tokens at the end): the prompt keeps its start, the answer its start."""
        tok = self.tokenizer
        context = tok(chat_prompt(tok, [{"role": "user", "content": prompt}]), add_special_tokens=False)["input_ids"]
        answer_ids = tok(answer, add_special_tokens=False)["input_ids"]
        keep_context = min(len(context), max(self.budget - len(answer_ids), self.budget // 2))
        answer_ids = answer_ids[:self.budget - keep_context]
        return context[:keep_context] + answer_ids, len(answer_ids)

    def score(self, items: list[tuple[str, str]]) -> list[float]:
        import torch

        scores: list[float] = []
        for chunk in batches(items, self.spec.batch_size):
            rows = [self._row(p, a) for p, a in chunk]
            inputs = self.tokenizer.pad([{"input_ids": ids} for ids, _ in rows], return_tensors="pt",
                                        padding=True).to(self.device)
            with torch.inference_mode():
                logits = self.model(**inputs).logits.float()
            logprobs = logits[:, :-1].log_softmax(-1).gather(-1, inputs["input_ids"][:, 1:, None])[..., 0]
            for row, (ids, answer_len) in enumerate(rows):
                if answer_len == 0:
                    scores.append(EMPTY_ANSWER_SCORE)
                    continue
                # Token t is predicted at position t-1: the answer's predictions end at len(ids)-2.
                end = len(ids) - 1
                scores.append(float(logprobs[row, end - answer_len:end].mean()))
        return scores

    def close(self) -> None:
        self.model = None

"""Choosing each row's next token in the continuous-batching loop: repetition penalty, temperature and
nucleus (top-p) sampling as transformers' `generate` does them, with settings and a random stream per row.

A row's random stream is seeded from (seed, request key, sample index) alone, so which other rows share
its batch does not change its draws. Greedy rows (temperature 0) take the most likely token.
Nucleus sampling looks at the `_CANDIDATES` most likely tokens first, then at `_WIDE_CANDIDATES` for a
row whose nucleus is wider, and sorts the whole vocabulary only past that (a full sort of 32 rows of
SmolLM2's 49k logits costs ~60 ms here; top-64 ~4 ms).
"""

from __future__ import annotations

import hashlib
import secrets

import torch

from backend.config import SamplingConfig

_CANDIDATES = 64
_WIDE_CANDIDATES = 1024


def row_seed(seed: int | None, key: str, sample: int) -> int:
    """The 63-bit seed of sample `sample` of request `key` (fresh randomness when `seed` is None).

    >>> row_seed(7, "respond:1", 0)
    6703595590068087544
    >>> row_seed(7, "respond:1", 0) == row_seed(7, "respond:1", 1)
    False
    """
    if seed is None:
        return secrets.randbits(63)
    digest = hashlib.sha256(f"{seed}:{key}:{sample}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class TokenSampler:
    """Per-row sampling state for `rows` rows over a vocabulary of `vocab` tokens."""

    def __init__(self, rows: int, vocab: int) -> None:
        self.seen = torch.zeros(rows, vocab, dtype=torch.bool)  # tokens the repetition penalty applies to
        self.penalty = torch.ones(rows)
        self.temperature = torch.ones(rows)
        self.top_p = torch.ones(rows)
        self.generators: list[torch.Generator | None] = [None] * rows

    def start_row(self, row: int, prompt_ids: list[int], sampling: SamplingConfig, seed: int) -> None:
        """Row `row` starts a sequence after `prompt_ids` (the penalty covers the prompt, as in generate)."""
        self.seen[row] = False
        self.seen[row, prompt_ids] = True
        self.penalty[row] = sampling.repetition_penalty
        self.temperature[row] = sampling.temperature
        self.top_p[row] = sampling.top_p
        generator = None
        if sampling.temperature > 0:
            generator = torch.Generator()
            generator.manual_seed(seed)
        self.generators[row] = generator

    def move_row(self, source: int, target: int) -> None:
        for tensor in (self.seen, self.penalty, self.temperature, self.top_p):
            tensor[target] = tensor[source]
        self.generators[target] = self.generators[source]
        self.generators[source] = None

    def next_tokens(self, logits: torch.Tensor, first: int = 0) -> list[int]:
        """One token for each of the rows first .. first+len(logits)-1, from their last-position logits."""
        rows = range(first, first + logits.shape[0])
        logits = self._penalized(logits.to(device="cpu", dtype=torch.float32, copy=True), rows)
        sampled = [i for i, row in enumerate(rows) if self.generators[row] is not None]
        if len(sampled) < len(rows):
            chosen = logits.argmax(dim=-1)
        else:
            chosen = torch.empty(len(rows), dtype=torch.long)
        if sampled:
            index = torch.tensor(sampled) if len(sampled) < len(rows) else slice(None)
            scaled = logits[index] / self.temperature[first:first + len(rows)][index, None]
            draws = self._nucleus_draws(scaled, self.top_p[first:first + len(rows)][index],
                                        [first + i for i in sampled])
            chosen[index] = torch.tensor(draws)
        self.seen[rows.start:rows.stop][torch.arange(len(rows)), chosen] = True
        return chosen.tolist()

    def _penalized(self, logits: torch.Tensor, rows: range) -> torch.Tensor:
        penalty = self.penalty[rows.start:rows.stop]
        if bool((penalty == 1).all()):
            return logits
        # transformers' RepetitionPenaltyLogitsProcessor: shrink the scores of tokens already seen. Only a
        # few hundred of a row's tokens are seen, so the scores are changed where they are, not everywhere.
        row, token = self.seen[rows.start:rows.stop].nonzero(as_tuple=True)
        scores, factor = logits[row, token], penalty[row]
        logits[row, token] = torch.where(scores < 0, scores * factor, scores / factor)
        return logits

    def _nucleus_draws(self, scaled: torch.Tensor, top_p: torch.Tensor, rows: list[int]) -> list[int]:
        """Draw from the smallest set of most likely tokens whose mass reaches top_p (at least one token);
        a token is kept when the mass of the tokens ranked above it is below top_p. One uniform number per
        row from the row's own stream picks the token (inverse of the kept tokens' cumulative mass)."""
        log_total = scaled.logsumexp(dim=-1, keepdim=True)
        values, indices = scaled.topk(min(_CANDIDATES, scaled.shape[-1]), dim=-1)
        probs = (values - log_total).exp()
        covered = (probs.sum(dim=-1) >= top_p).tolist()
        uniform = torch.tensor([float(torch.rand((), generator=self.generators[row])) for row in rows])
        draws = _inverse_cdf(probs, indices, top_p, uniform).tolist()
        for i in (i for i, ok in enumerate(covered) if not ok):  # a flat distribution: look further down
            p = (scaled[i] - log_total[i]).exp()
            if float(top_p[i]) >= 1:  # no nucleus: the whole distribution, in any order
                ids = torch.arange(p.shape[-1])
            else:
                p, ids = scaled[i].topk(min(_WIDE_CANDIDATES, scaled.shape[-1]))
                p = (p - log_total[i]).exp()
                if float(p.sum()) < float(top_p[i]):
                    p, ids = (scaled[i] - log_total[i]).exp().sort(descending=True)
            draws[i] = int(_inverse_cdf(p[None], ids[None], top_p[i:i + 1], uniform[i:i + 1])[0])
        return draws


def _inverse_cdf(probs: torch.Tensor, ids: torch.Tensor, top_p: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Per row: the token whose share of the kept (nucleus) mass covers `uniform` (0 <= uniform < 1).

    Rows of `probs` are sorted from most to least likely, with their token ids in `ids`.
    """
    cumulative = probs.cumsum(dim=-1)
    kept = probs * (cumulative - probs < top_p[:, None])  # the mass ranked above a kept token is below top_p
    cumulative = kept.cumsum(dim=-1)
    target = uniform[:, None] * cumulative[:, -1:]
    pick = torch.searchsorted(cumulative, target, right=True).clamp(max=probs.shape[-1] - 1)
    return ids.gather(1, pick)[:, 0]

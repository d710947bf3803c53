"""What happens to a criticism whose `Rating: [[k]]` does not parse, per ModelSpec.rating_mode.

drop: re-sample up to TreeConfig.rating_retries times, then drop (the paper's rule); constrained: keep
the text and complete the rating with the engine's digit choice; none: keep it with no rating.
Failures are counted so a job can always say what it did with them (never drop silently).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from backend.avr.ratings import parse_rating
from backend.config import SamplingConfig
from backend.domain import Message
from backend.engines.base import GenRequest


@dataclass
class RatingStats:
    criticisms: int = 0  # criticism texts generated
    unparsed: int = 0  # ... of which had no parseable "Rating: [[k]]"
    resampled: int = 0
    dropped: int = 0
    filled: int = 0  # ratings completed by constrained decoding
    tokens: int = 0
    failed_requests: list[str] = field(default_factory=list)


def _outside_event_loop(function, *args):
    """Call `function` here, or on a helper thread when this thread runs an asyncio loop: a server
    engine reports results from inside its loop, and its rating_digits starts a loop of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="avr-rating") as pool:
        return pool.submit(function, *args).result()


def rate(engine, conversation: list[Message], texts: list[str], mode: str,
         stats: RatingStats) -> list[int | None]:
    """Parsed ratings of `texts`, with the gaps filled when mode is constrained (None = no rating)."""
    ratings = [parse_rating(text) for text in texts]
    stats.criticisms += len(texts)
    missing = [i for i, rating in enumerate(ratings) if rating is None]
    stats.unparsed += len(missing)
    if missing and mode == "constrained":
        filled = _outside_event_loop(engine.rating_digits, [conversation] * len(missing),
                                     [texts[i] for i in missing])
        for i, rating in zip(missing, filled, strict=True):
            ratings[i] = rating
        stats.filled += sum(r is not None for r in filled)
    return ratings


def criticize_all(engine, conversations: list[list[Message]], n: int, sampling: SamplingConfig, mode: str,
                  retries: int, stats: RatingStats) -> list[list[tuple[str, int | None]]]:
    """Up to `n` (text, rating) criticisms per conversation; in drop mode unrated ones are re-sampled
    and, after `retries` re-samples, dropped (so a conversation may get fewer than n)."""
    kept: list[list[tuple[str, int | None]]] = [[] for _ in conversations]
    need = [n] * len(conversations)
    attempt = 0
    while any(need):
        requests = [GenRequest(f"criticize:{i}", conversations[i], n=need[i], sampling=sampling)
                    for i in range(len(conversations)) if need[i]]
        results = {r.key: r for r in engine.generate(requests)}
        for request in requests:
            i = int(request.key.split(":")[1])
            result = results.get(request.key)
            if result is None or result.error:
                stats.failed_requests.append(result.error if result else "no result (cancelled)")
                need[i] = 0
                continue
            stats.tokens += result.tokens
            texts = result.texts[: need[i]]
            ratings = rate(engine, conversations[i], texts, mode, stats)
            for text, rating in zip(texts, ratings, strict=True):
                if rating is not None or mode != "drop":
                    kept[i].append((text, rating))
            need[i] = n - len(kept[i])
        attempt += 1
        if mode != "drop" or attempt > retries:
            stats.dropped += sum(need)
            break
        stats.resampled += sum(need)
    return kept


def warning_text(stats: RatingStats, mode: str, retries: int) -> str | None:
    """A sentence on unparsed ratings and what became of them; None when every rating parsed."""
    if not stats.unparsed:
        return None
    text = (f"{stats.unparsed} of {stats.criticisms} criticisms had no parseable 'Rating: [[k]]' "
            f"(rating mode {mode!r}). ")
    if mode == "drop":
        return text + (f"Re-sampled {stats.resampled}, dropped {stats.dropped} after {retries} re-samples. "
                       "Small models rarely write the rating line: use rating mode 'constrained' or "
                       "'none' to keep their criticisms.")
    if mode == "constrained":
        return text + f"{stats.filled} ratings were filled by constrained digit completion."
    return text + "They are kept with no self-rating."

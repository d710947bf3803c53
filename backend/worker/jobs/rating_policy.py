"""What happens to a criticism whose `Rating: [[k]]` does not parse, per ModelSpec.rating_mode.

Every criticism gets at most `TreeConfig.rating_retries + 1` samples in all (the paper: 5), and a
request that failed counts as one sample of each criticism it asked for. drop: an unrated sample is
re-sampled, and the criticism dropped after its last sample (the paper's rule); constrained: keep the
text and complete the rating with the engine's digit choice; none: keep it with no rating. Failures
are counted so a job can always say what it did with them (never drop silently).
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
    kept: int = 0  # ... of which became criticism nodes
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


def keepable(ratings: list[int | None], mode: str) -> list[int]:
    """Indexes of the sampled criticisms to keep: in drop mode only the rated ones.

    >>> keepable([7, None, 3], "drop"), keepable([7, None], "none")
    ([0, 2], [0, 1])
    """
    return [i for i, rating in enumerate(ratings) if rating is not None or mode != "drop"]


def criticize_all(engine, conversations: list[list[Message]], n: int, sampling: SamplingConfig, mode: str,
                  retries: int, stats: RatingStats) -> list[list[tuple[str, int | None]]]:
    """Up to `n` (text, rating) criticisms per conversation, each sampled at most `retries + 1` times:
    a sample that cannot be kept (no rating in drop mode, a failed request, a missing text) is sampled
    again, and after the last sample the criticism is dropped (a conversation may get fewer than n)."""
    kept: list[list[tuple[str, int | None]]] = [[] for _ in conversations]
    need = [n] * len(conversations)
    for sample in range(1, retries + 2):
        requests = [GenRequest(f"criticize:{i}", conversations[i], n=need[i], sampling=sampling)
                    for i in range(len(conversations)) if need[i]]
        if not requests:
            break
        results = {r.key: r for r in engine.generate(requests)}
        for request in requests:
            i = int(request.key.split(":")[1])
            result = results.get(request.key)
            if result is None or result.error:  # counts as one sample of each criticism it asked for
                stats.failed_requests.append(result.error if result else "no result (cancelled)")
                continue
            stats.tokens += result.tokens
            texts = result.texts[: need[i]]
            ratings = rate(engine, conversations[i], texts, mode, stats)
            kept[i] += [(texts[j], ratings[j]) for j in keepable(ratings, mode)]
            need[i] = n - len(kept[i])
        if sample <= retries:
            stats.resampled += sum(need)
    stats.dropped += sum(need)
    stats.kept += sum(len(k) for k in kept)
    return kept


def warning_text(stats: RatingStats, mode: str, retries: int) -> str | None:
    """Sentences on unparsed ratings and dropped criticisms and what became of them; None when every
    rating parsed and nothing was dropped.

    >>> print(warning_text(RatingStats(criticisms=10, unparsed=10, resampled=8, dropped=2), "drop", 4))
    No criticism was kept. 10 of 10 criticisms had no parseable 'Rating: [[k]]' (rating mode 'drop'). \
Re-sampled 8; dropped 2 criticisms after 5 samples each. Small models rarely write the rating line: use \
rating mode 'constrained' or 'none' (or the cpu-demo preset) to keep their criticisms.
    """
    if not stats.unparsed and not stats.dropped:
        return None
    parts = ["No criticism was kept."] if stats.dropped and not stats.kept else []
    if stats.unparsed:
        parts.append(f"{stats.unparsed} of {stats.criticisms} criticisms had no parseable 'Rating: [[k]]' "
                     f"(rating mode {mode!r}).")
    failed = len(stats.failed_requests)
    if failed:
        parts.append(f"{failed} criticism requests failed (each counts as one sample).")
    if stats.dropped:
        parts.append(f"Re-sampled {stats.resampled}; dropped {stats.dropped} criticisms after {retries + 1} "
                     "samples each.")
    if mode == "drop" and stats.unparsed:
        parts.append("Small models rarely write the rating line: use rating mode 'constrained' or 'none' "
                     "(or the cpu-demo preset) to keep their criticisms.")
    elif mode == "constrained" and stats.unparsed:
        parts.append(f"{stats.filled} ratings were filled by constrained digit completion.")
    elif stats.unparsed:
        parts.append("They are kept with no self-rating.")
    return " ".join(parts)

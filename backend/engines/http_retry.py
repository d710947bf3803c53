"""HTTP POST with bounded retries and exponential backoff, shared by the server engine and scorer.

Retried: connection errors, timeouts, 408/429/5xx, and replies that fail validation (a server that
returned garbage once may answer properly next time). Other 4xx replies are the caller's mistake and
fail at once with the server's own words.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class ServerReplyError(Exception):
    """A request that failed for good; the message says what the server did and what to try."""


class BadReply(ValueError):
    """Raised by a validator when a reply's body is not what the endpoint promises."""


def backoff_delay(attempt: int, base_s: float, cap_s: float = 8.0) -> float:
    return min(cap_s, base_s * 2**attempt)


def _classify_attempt(url: str, response=None, error: Exception | None = None,
                      validate: Callable[[Any], Any] | None = None) -> tuple[bool, Any, str]:
    """(done, value, problem): done with value on success; otherwise whether to retry is decided by
    the caller from the problem text prefix 'retry:' / 'fatal:'."""
    import httpx

    if error is not None:
        if isinstance(error, httpx.TimeoutException):
            return False, None, f"retry:{url} did not answer in time ({type(error).__name__})"
        return False, None, f"retry:could not reach {url} ({type(error).__name__}: {error})"
    status = response.status_code
    if status != 200:
        snippet = response.text[:300].strip()
        kind = "retry" if status in RETRYABLE_STATUS else "fatal"
        return False, None, f"{kind}:{url} answered HTTP {status}: {snippet}"
    try:
        body = response.json()
    except ValueError:
        return False, None, f"retry:{url} answered with something that is not JSON: {response.text[:120]!r}"
    try:
        return True, validate(body) if validate else body, ""
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as bad:
        return False, None, f"retry:{url} answered with a malformed reply ({bad})"


def _final_error(problem: str, attempts: int) -> ServerReplyError:
    text = problem.split(":", 1)[1]
    return ServerReplyError(f"{text} (after {attempts} attempt(s)). Check that the server is running, "
                            "serves this model, and is not overloaded; or raise the timeout.")


async def post_json_async(client, pick_url: Callable[[], str], release_url: Callable[[str, bool], None],
                          path: str, payload: dict, *, retries: int, backoff_s: float,
                          validate: Callable[[Any], Any] | None = None) -> Any:
    """POST `payload` to pick_url()+path; release_url(base, ok) after each attempt, so that a retry
    can go to another replica."""
    problem = ""
    for attempt in range(retries + 1):
        base = pick_url()
        url = base + path
        done = False
        try:
            response = await client.post(url, json=payload)
            done, value, problem = _classify_attempt(url, response, validate=validate)
        except Exception as error:  # httpx raises many transport errors; all are retryable here
            done, value, problem = _classify_attempt(url, error=error)
        finally:
            release_url(base, done)
        if done:
            return value
        if problem.startswith("fatal:") or attempt == retries:
            raise _final_error(problem, attempt + 1)
        await asyncio.sleep(backoff_delay(attempt, backoff_s))
    raise AssertionError("unreachable")


def post_json(client, url: str, payload: dict, *, retries: int, backoff_s: float,
              validate: Callable[[Any], Any] | None = None) -> Any:
    """The blocking twin of post_json_async for one URL."""
    problem = ""
    for attempt in range(retries + 1):
        try:
            response = client.post(url, json=payload)
            done, value, problem = _classify_attempt(url, response, validate=validate)
        except Exception as error:
            done, value, problem = _classify_attempt(url, error=error)
        if done:
            return value
        if problem.startswith("fatal:") or attempt == retries:
            raise _final_error(problem, attempt + 1)
        time.sleep(backoff_delay(attempt, backoff_s))
    raise AssertionError("unreachable")

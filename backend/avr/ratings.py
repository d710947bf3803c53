"""Parse the self-rating `Rating: [[k]]` that a criticism ends with (DESIGN.md §1.1).

The rating is stored on the criticism node; it is never the reward.
"""

from __future__ import annotations

import re

RATING_PREFIX = "Rating: [["
RATING_PATTERN = re.compile(r"\[\[(\d+)\]\]")
MIN_RATING, MAX_RATING = 1, 10


def parse_rating(text: str) -> int | None:
    """The self-rating of a criticism: the LAST `[[k]]` in the text, if k is in 1..10.

    The last one, because JUDGE asks for the rating at the very end, and a criticism may quote
    the scale or another number in brackets before it. If that last `[[k]]` is out of range the
    model wrote a malformed rating, and we do not guess from an earlier one.

    >>> parse_rating("Clear but thin. Rating: [[6]]")
    6
    >>> parse_rating("On a scale [[1]] to [[10]] I give: Rating: [[7]]")
    7
    >>> parse_rating("Rating: [[11]]") is None, parse_rating("no rating") is None
    (True, True)
    """
    found = RATING_PATTERN.findall(text)
    if not found:
        return None
    value = int(found[-1])
    return value if MIN_RATING <= value <= MAX_RATING else None

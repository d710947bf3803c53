"""Parse the self-rating `Rating: [[k]]` of a criticism (DESIGN.md §1.1).

The rating is stored on the criticism node; it is never the reward.
"""

from __future__ import annotations

import re

RATING_PREFIX = "Rating: [["
RATING_PATTERN = re.compile(r"\[\[(\d+)\]\]")
MIN_RATING, MAX_RATING = 1, 10


def parse_rating(text: str) -> int | None:
    """The self-rating of a criticism: the FIRST `[[k]]` in the text, valid only if k is in 1..10.

    The first one, as the authors parse it; if that one is out of range the rating is invalid
    (a later `[[k]]` is not tried), and under the paper's rule the criticism is sampled again.

    >>> parse_rating("Clear but thin. Rating: [[6]]")
    6
    >>> parse_rating("Rating: [[7]], where [[1]] is worst")
    7
    >>> parse_rating("On a scale [[0]] to [[10]]: Rating: [[7]]") is None   # the first is out of range
    True
    >>> parse_rating("Rating: [[11]]") is None, parse_rating("no rating") is None
    (True, True)
    >>> parse_rating("Rating: [[" + "9" * 5000 + "]]") is None
    True
    """
    found = RATING_PATTERN.search(text)
    if found is None:
        return None
    digits = found.group(1).lstrip("0") or "0"
    if len(digits) > 2:  # out of range; and int() refuses more than 4,300 digits (a hostile file)
        return None
    value = int(digits)
    return value if MIN_RATING <= value <= MAX_RATING else None

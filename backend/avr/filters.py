"""Filters on texts before they become training data (DESIGN.md §1.3): degeneration and growth."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache


@lru_cache(maxsize=16)
def _same_symbol_repeated(repeats: int) -> re.Pattern[str]:
    return re.compile(r"([^\w\s])\1{" + str(repeats - 1) + ",}")


def is_degenerate(text: str, repeats: int = 60) -> bool:
    """True if one word, or one run of symbols, occurs `repeats` or more times in the text.

    "Occurs" counts every occurrence in the whole text, not only back-to-back ones. What is counted:
    - whitespace-separated tokens (`str.split`), compared exactly: a word ("ok"), a word with its
      punctuation ("wow!!"), or a run of symbols standing alone ("**", "...", "!!");
    - except single-symbol tokens ("|", "-", "*", "#"): markdown tables and lists repeat those;
    - one symbol repeated `repeats` times in a row ("!!!!…", "=====…") counts as well.
    A 1,000-word answer can use "the" 60 times, so long outputs need a higher threshold.

    >>> is_degenerate("ok " * 60), is_degenerate("ok " * 59)
    (True, False)
    >>> is_degenerate("Wow!! " * 3, repeats=3), is_degenerate("Fine" + "!" * 3, repeats=3)
    (True, True)
    >>> is_degenerate("| a | b |\\n| c | d |\\n", repeats=3)   # only "|" repeats: a table
    False
    """
    words = text.split()
    distinct = words  # the tokens to look for a symbol run in; their set once it is built
    # A token occurring `repeats` times leaves at most len - repeats + 1 distinct tokens; counting
    # only when that bound allows it skips Counter for almost every normal text.
    if len(words) >= repeats:
        distinct = set(words)
        if len(words) - len(distinct) + 1 >= repeats:
            for token, count in Counter(words).most_common():
                if count < repeats:
                    break
                if len(token) > 1 or token.isalnum():
                    return True
    # A run of one symbol `repeats` long sits inside a single token at least that long.
    if distinct and max(map(len, distinct)) >= repeats:
        same_symbol = _same_symbol_repeated(repeats)
        return any(len(word) >= repeats and same_symbol.search(word) for word in distinct)
    return False


def passes_length_filter(
    original: str, refined: str, max_growth_chars: int = 400, max_growth_ratio: float = 1.2
) -> bool:
    """Keep a refinement that grows by fewer than `max_growth_chars` characters OR stays under
    `max_growth_ratio` × the original length (so long answers may grow by more than 400 chars).

    >>> passes_length_filter("a" * 100, "a" * 499)      # +399 chars
    True
    >>> passes_length_filter("a" * 100, "a" * 500)      # +400 chars and 5×
    False
    >>> passes_length_filter("a" * 3000, "a" * 3500)    # +500 chars but only 1.17×
    True
    """
    original_length, refined_length = len(original), len(refined)
    return (refined_length - original_length < max_growth_chars
            or refined_length < max_growth_ratio * original_length)

"""Filters on texts before they become training data (DESIGN.md §1.3): degeneration and growth.

`is_degenerate` is the authors' loop detector (§1.3.3), the paper rules' only one. The older
whitespace-token detector stays as a named option (`PairConfig.degeneration = "whitespace-tokens"`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

from backend.config import DEGENERATION_CHECKS

_DIGIT_OR_SYMBOL_RUN = re.compile(r"[\d\W]+")  # maximal runs of digits and non-word characters
_WORD = re.compile(r"\b\w+\b")
_LATIN_LETTER = re.compile(r"[A-Za-z]")


def is_degenerate(text: str, repeats: int = 60) -> bool:
    """True if the text loops: the authors' detector, threshold `repeats` (paper: 60).

    Two counts, either of which reaching `repeats` flags the text:
    - with every space removed, the maximal runs of digits and non-word characters ("!?", "1.",
      "\\n\\n", "，"), each distinct run counted wherever it occurs;
    - tokens: the lower-cased `\\b\\w+\\b` words when the text has a Latin letter (A-Z, a-z),
      otherwise its single characters (spaces and newlines included).
    So a long answer that uses "the" 60 times is flagged too: the authors' behaviour.

    >>> is_degenerate("ok " * 60), is_degenerate("ok " * 59)
    (True, False)
    >>> is_degenerate("The cat. " * 3, repeats=3)           # "the", "cat" and ". " each 3 times
    True
    >>> is_degenerate("a1 b1 c1", repeats=3), is_degenerate("好" * 3, repeats=3)
    (True, True)
    >>> is_degenerate("A b! C d! E f?", repeats=3)           # "!" twice, "?" once: no run 3 times
    False
    """
    if len(text) < repeats:  # each counted thing takes at least one character
        return False
    if text.isascii():
        return _ascii_is_degenerate(text.encode("ascii"), text, repeats)
    return _runs_repeat(text, repeats) or _tokens_repeat(text, repeats)


def _runs_repeat(text: str, repeats: int) -> bool:
    return _one_occurs(_DIGIT_OR_SYMBOL_RUN.findall(text.replace(" ", "")), repeats)


def _tokens_repeat(text: str, repeats: int) -> bool:
    tokens: list[str] | str = _WORD.findall(text.lower()) if _LATIN_LETTER.search(text) else text
    return _one_occurs(tokens, repeats)


# ASCII text (most answers) is checked with bytes.translate, several times faster than the regexes and
# the same counts: in ASCII, \w is [A-Za-z0-9_] and \d is [0-9].
_ASCII_LETTERS = bytes(range(ord("a"), ord("z") + 1)) + bytes(range(ord("A"), ord("Z") + 1))
_NOT_IN_RUNS = _ASCII_LETTERS + b"_ "  # what remains are the characters of digit/symbol runs
_WORD_BYTES = frozenset(_ASCII_LETTERS + b"0123456789_")
# One pass that lower-cases letters and turns every non-word byte into a space, ready to split.
_WORDS_LOWERCASED = bytes(byte | 0x20 if chr(byte).isupper() else byte if byte in _WORD_BYTES else ord(" ")
                          for byte in range(128)) + b" " * 128


def _ascii_is_degenerate(data: bytes, text: str, repeats: int) -> bool:
    # A run occurring `repeats` times needs at least that many run characters.
    if len(data.translate(None, _NOT_IN_RUNS)) >= repeats and _runs_repeat(text, repeats):
        return True
    if len(data.translate(None, _ASCII_LETTERS)) == len(data):  # no Latin letter: single characters
        return _one_occurs(text, repeats)
    return _one_occurs(data.translate(_WORDS_LOWERCASED).split(), repeats)


def _one_occurs(items: list[str] | list[bytes] | str, repeats: int) -> bool:
    """Whether one item occurs `repeats` or more times."""
    if len(items) < repeats:
        return False
    # One item occurring n times leaves at most len - n + 1 distinct ones; a set is cheaper than a
    # Counter and rules out almost every normal text.
    if len(items) - len(set(items)) + 1 < repeats:
        return False
    return Counter(items).most_common(1)[0][1] >= repeats


@lru_cache(maxsize=16)
def _same_symbol_repeated(repeats: int) -> re.Pattern[str]:
    return re.compile(r"([^\w\s])\1{" + str(repeats - 1) + ",}")


def is_degenerate_by_whitespace_tokens(text: str, repeats: int = 60) -> bool:
    """The project's earlier loop detector, kept as an option (off in the paper rules).

    Counts whitespace-separated tokens exactly ("wow!!" and "wow" differ), ignores single-symbol
    tokens ("|", "-", "*": tables and lists repeat those), and flags one symbol repeated `repeats`
    times in a row. Unlike the paper's detector it does not flag a common word in a long answer
    when the word carries punctuation, nor CJK text without spaces.

    >>> is_degenerate_by_whitespace_tokens("ok " * 60), is_degenerate_by_whitespace_tokens("ok " * 59)
    (True, False)
    >>> is_degenerate_by_whitespace_tokens("| a | b |\\n| c | d |\\n", repeats=3)   # only "|" repeats
    False
    """
    words = text.split()
    distinct = words
    if len(words) >= repeats:
        distinct = set(words)
        if len(words) - len(distinct) + 1 >= repeats:
            for token, count in Counter(words).most_common():
                if count < repeats:
                    break
                if len(token) > 1 or token.isalnum():
                    return True
    if distinct and max(map(len, distinct)) >= repeats:
        same_symbol = _same_symbol_repeated(repeats)
        return any(len(word) >= repeats and same_symbol.search(word) for word in distinct)
    return False


def degeneration_check(name: str) -> Callable[[str, int], bool]:
    """The detector a `PairConfig.degeneration` name stands for.

    >>> degeneration_check("paper") is is_degenerate
    True
    """
    checks = {"paper": is_degenerate, "whitespace-tokens": is_degenerate_by_whitespace_tokens}
    if name not in checks:
        raise ValueError(f"unknown degeneration check {name!r}; choose one of {', '.join(DEGENERATION_CHECKS)}")
    return checks[name]


def passes_length_filter(
    original: str, refined: str, max_growth_chars: int = 400, max_growth_ratio: float = 1.2
) -> bool:
    """Keep a refinement that grows by fewer than `max_growth_chars` characters OR whose length over
    the original's is below `max_growth_ratio` (so long answers may grow by more than 400 chars).
    The ratio is a division, as the authors compute it (an empty original has no ratio).

    >>> passes_length_filter("a" * 100, "a" * 499)      # +399 chars
    True
    >>> passes_length_filter("a" * 100, "a" * 500)      # +400 chars and 5×
    False
    >>> passes_length_filter("a" * 3000, "a" * 3500)    # +500 chars but only 1.17×
    True
    """
    original_length, refined_length = len(original), len(refined)
    if refined_length - original_length < max_growth_chars:
        return True
    return original_length > 0 and refined_length / original_length < max_growth_ratio

"""The degeneration and length filters, and the worked examples in every backend.avr docstring."""

import doctest
import importlib

import pytest

from backend.avr.filters import (
    degeneration_check,
    is_degenerate,
    is_degenerate_by_whitespace_tokens,
    passes_length_filter,
)

AVR_MODULES = ["chain", "filters", "long_thought", "paper_rules", "person_rules", "plan", "ranking", "ratings",
               "rewards", "stage2", "templates", "tree"]
TABLE = "".join(f"| {i} | {i * 7} |\n" for i in range(60))  # a markdown table of 60 numeric rows


def _distinct_words(n):
    return [f"{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(n)]  # "aa", "ab", ...: no word repeats


# The paper's detector (DESIGN.md §1.3.3); each expectation worked out by hand from its two counts.
@pytest.mark.parametrize(("text", "repeats", "expected"), [
    ("ok " * 60, 60, True),                                     # the word "ok" 60 times
    ("ok " * 59, 60, False),
    ("the cat " + "and the dog " * 29, 60, False),              # 30 × "the"; no digit/symbol runs at all
    ("the " * 30 + "a b c " + "the " * 30, 60, True),           # occurrences count anywhere, not only in a row
    ("The " * 20 + "the " * 20 + "THE " * 20, 60, True),        # words are lower-cased before counting
    ("Wow!! " * 60, 60, True),                                  # "wow" 60 times, and the run "!!" 60 times
    (" ".join(f"{w} !?" for w in _distinct_words(60)), 60, True),   # only the run "!?" repeats: 60 times
    (" ".join(f"{w} !?" for w in _distinct_words(59)), 60, False),
    ("Stop" + "!" * 60, 60, False),                             # 60 "!" in a row are ONE run, counted once
    ("** " * 60, 60, True),                                     # no Latin letter: single characters, "*" 120 times
    (TABLE, 60, True),                                          # no Latin letter: "|" 180 times
    ("好" * 60, 60, True), ("好" * 59, 60, False),               # CJK: single characters
    ("好 坏 " * 30, 60, True),                                   # ... and the 60 spaces count as characters too
    ("Hello " + "=" * 10 + " world", 10, False),                # one run of ten "=", counted once
    ("", 60, False),
    ("A normal answer. It names two uses, and explains both.", 2, True),   # the run "." twice
    ("A normal answer, with two uses; and explains both!", 2, False),
])
def test_is_degenerate(text, repeats, expected):
    assert is_degenerate(text, repeats) is expected


# The project's earlier detector, kept as the "whitespace-tokens" option.
@pytest.mark.parametrize(("text", "repeats", "expected"), [
    ("ok " * 60, 60, True),
    ("the " * 30 + "a b c " + "the " * 30, 60, True),
    ("Wow!! " * 60, 60, True),                                  # a word with its symbol run
    ("** " * 60, 60, True),                                     # a symbol run on its own
    (TABLE, 60, False),                                         # a lone symbol is table or list syntax
    ("Stop" + "!" * 60, 60, True),                              # one symbol 60 times in a row
    ("Stop" + "!" * 59, 60, False),
    ("好" * 60, 60, False),                                      # one whitespace token
    ("Hello " + "=" * 10 + " world", 10, True),
    ("", 60, False),
])
def test_is_degenerate_by_whitespace_tokens(text, repeats, expected):
    assert is_degenerate_by_whitespace_tokens(text, repeats) is expected


def test_degeneration_check_by_name():
    assert degeneration_check("paper") is is_degenerate
    assert degeneration_check("whitespace-tokens") is is_degenerate_by_whitespace_tokens
    with pytest.raises(ValueError, match="paper, whitespace-tokens"):
        degeneration_check("strict")


@pytest.mark.parametrize(("original", "refined", "expected"), [
    (100, 499, True),      # grows by 399 < 400
    (100, 500, False),     # grows by 400 and is 5× the original
    (3000, 3500, True),    # grows by 500 but is only 1.17× the original
    (2000, 2400, False),   # grows by 400 and is exactly 1.2×: both limits are strict
    (100, 50, True),       # shrinking is fine
    (0, 399, True),        # from an empty answer only the character limit applies
    (0, 400, False),
])
def test_passes_length_filter(original, refined, expected):
    assert passes_length_filter("a" * original, "a" * refined) is expected


def test_length_filter_settings():
    assert passes_length_filter("a" * 100, "a" * 150, max_growth_chars=10, max_growth_ratio=1.6)
    assert not passes_length_filter("a" * 100, "a" * 150, max_growth_chars=10, max_growth_ratio=1.5)


@pytest.mark.parametrize("name", AVR_MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"backend.avr.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0

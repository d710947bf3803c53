"""The degeneration and length filters, and the worked examples in every backend.avr docstring."""

import doctest
import importlib

import pytest

from backend.avr.filters import is_degenerate, passes_length_filter

AVR_MODULES = ["chain", "filters", "long_thought", "plan", "ranking", "ratings", "rewards", "stage2",
               "templates", "tree"]


@pytest.mark.parametrize(("text", "repeats", "expected"), [
    ("ok " * 60, 60, True),
    ("ok " * 59, 60, False),
    ("the cat " + "and the dog " * 29, 60, False),              # 30 × "the": below the threshold
    ("the " * 30 + "a b c " + "the " * 30, 60, True),           # occurrences count anywhere, not only in a row
    ("Wow!! " * 60, 60, True),                                  # a word with its symbol run
    ("** " * 60, 60, True),                                     # a symbol run on its own
    ("".join(f"| {i} | {i * 7} |\n" for i in range(60)), 60, False),  # a lone symbol is table or list syntax
    ("Stop" + "!" * 60, 60, True),                              # one symbol 60 times in a row
    ("Stop" + "!" * 59, 60, False),
    ("Hello " + "=" * 10 + " world", 10, True),
    ("", 60, False),
    ("A normal answer. It names two uses, and explains both.", 2, False),
])
def test_is_degenerate(text, repeats, expected):
    assert is_degenerate(text, repeats) is expected


@pytest.mark.parametrize(("original", "refined", "expected"), [
    (100, 499, True),      # grows by 399 < 400
    (100, 500, False),     # grows by 400 and is 5× the original
    (3000, 3500, True),    # grows by 500 but is only 1.17× the original
    (2000, 2400, False),   # grows by 400 and is exactly 1.2×: both limits are strict
    (100, 50, True),       # shrinking is fine
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

"""Rating parsing and the exact chat layouts of respond / criticize / improve."""

import pytest

from backend.avr.ratings import RATING_PREFIX, parse_rating
from backend.avr.templates import (
    BUILTIN_TEMPLATES,
    DEFAULT_TEMPLATES,
    SMALL_MODEL_TEMPLATES,
    criticize_messages,
    improve_messages,
    respond_messages,
    validate_templates,
)
from backend.domain import Templates, content_id


@pytest.mark.parametrize(("text", "expected"), [
    ("Clear and correct. Rating: [[9]]", 9),
    ("Rating: [[1]]", 1),
    ("Rating: [[10]]", 10),
    ("Rating:[[7]] trailing words", 7),
    ("No rating at all.", None),
    ("Rating: [7]", None),
    ("Rating: [[seven]]", None),
    ("Rating: [[0]]", None),
    ("Rating: [[11]]", None),
    ("Rating: [[-3]]", None),
    ("On a scale from [[1]] to [[10]]: Rating: [[4]]", 1),    # several: the FIRST is the rating (the authors')
    ("Rating: [[4]] ... actually Rating: [[12]]", 4),
    ("From [[0]] to [[10]]: Rating: [[4]]", None),            # the first is out of range: invalid, no guessing
])
def test_parse_rating(text, expected):
    assert parse_rating(text) == expected


def test_respond_criticize_improve_layouts():
    t = Templates.make("JUDGE TEXT", "REVISE TEXT")
    assert respond_messages("x") == [{"role": "user", "content": "x"}]
    assert criticize_messages("x", "y", t) == [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": "y"},
        {"role": "user", "content": "JUDGE TEXT"},
    ]
    assert improve_messages("x", "y", "c", t) == [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": "y"},
        {"role": "user", "content": "JUDGE TEXT"},
        {"role": "assistant", "content": "c"},
        {"role": "user", "content": "REVISE TEXT"},
    ]


def test_builtin_templates_ask_for_the_rating_format_and_validate_clean():
    assert set(BUILTIN_TEMPLATES) == {"default", "small-model"}
    assert BUILTIN_TEMPLATES["default"] is DEFAULT_TEMPLATES
    for templates in (DEFAULT_TEMPLATES, SMALL_MODEL_TEMPLATES):
        assert "Rating: [[k]]" in templates.judge
        assert validate_templates(templates.judge, templates.revise) == []
        assert templates.version == content_id("templates", templates.judge, templates.revise)
    judge = DEFAULT_TEMPLATES.judge.lower()
    for criterion in ("helpful", "relevant", "accurate", "deep", "creative", "detail", "impartial", "1", "10"):
        assert criterion in judge
    assert SMALL_MODEL_TEMPLATES.judge.startswith("What is wrong with the answer above?")
    assert DEFAULT_TEMPLATES.version != SMALL_MODEL_TEMPLATES.version


def test_validate_templates_names_each_problem():
    assert validate_templates("Rate it 1-10.", "Revise it.") == [
        'JUDGE must ask for the rating written as "Rating: [[k]]" (e.g. Rating: [[7]]), '
        "or ratings will not parse."
    ]
    problems = validate_templates("   ", "")
    assert problems == [
        "JUDGE is empty; it must ask the model to evaluate its answer.",
        "REVISE is empty; it must ask for a revised answer.",
    ]
    same = f"Judge and end with {RATING_PREFIX}k]]"
    assert validate_templates(same, same) == [
        "JUDGE and REVISE are the same text; REVISE must ask for a revised answer."
    ]
    [placeholder] = validate_templates(f"Judge {{answer}}. {RATING_PREFIX}k]]", "Revise.")
    assert placeholder.startswith("JUDGE contains {answer}, which is not filled in")

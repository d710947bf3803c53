"""The long refinement thought: byte-exact against the shared sample, round trips, malformed input."""

import json
from pathlib import Path

import pytest

from backend.avr.long_thought import (
    LongThought,
    extract_final_answer,
    format_long_thought,
    parse_long_thought,
)

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "avr-long-thought-sft.jsonl"
Y0 = "Baking soda is used in cooking."
C1 = "Only one use is given although two were asked. Rating: [[3]]"
Y1 = "Baking soda leavens cakes and it can scrub stains off pans."
C_FINAL = "Both uses are correct and clearly stated. Rating: [[9]]"
EXPECTED = (
    "<|Start of recursive criticism and improvement|>\n\n"
    "## Let's answer the question first:\n" + Y0 + "\n\n"
    "## Now, let's try to criticize this answer:\n" + C1 + "\n\n"
    "## Okey, let's improve the above answer based on the criticism:\n" + Y1 + "\n\n"
    "## Now, let's try to criticize this answer:\n" + C_FINAL + "\n\n"
    "## Okay, now it\u2019s almost done.\n\n"
    "<|End of recursive criticism and improvement|>\n\n"
    "Final answer:\n\n" + Y1
)


def test_format_matches_the_shared_sample_byte_for_byte():
    text = format_long_thought([Y0, Y1], [C1, C_FINAL], Y1)
    assert text == EXPECTED
    assert "it\u2019s" in text and "Okey" in text
    if SAMPLE.exists():  # the shared folder sits beside the checkout on the team's machines
        record = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
        assert text.encode("utf-8") == record["messages"][1]["content"].encode("utf-8")
        assert parse_long_thought(record["messages"][1]["content"]) == LongThought([Y0, Y1], [C1, C_FINAL], Y1)


@pytest.mark.parametrize(("answers", "criticisms"), [
    (["y0", "y1", "y2\n\n## A heading inside an answer"], ["c1", "c2", "closing\nwith lines"]),
    (["only y0"], ["c_final"]),     # formattable, though a Stage II chain with no accepted round is dropped
])
def test_round_trip(answers, criticisms):
    text = format_long_thought(answers, criticisms, answers[-1])
    assert parse_long_thought(text) == LongThought(answers, criticisms, answers[-1])
    assert extract_final_answer(text) == answers[-1].strip()


def test_format_checks_the_counts():
    with pytest.raises(ValueError, match="one criticism per answer"):
        format_long_thought(["y0", "y1"], ["c1"], "y1")
    with pytest.raises(ValueError, match="at least the first answer"):
        format_long_thought([], [], "")


@pytest.mark.parametrize(("text", "message"), [
    ("Just an answer.", "must start with"),
    (EXPECTED.replace("## Okay, now it\u2019s almost done.", "## Okay, now it's almost done."), "closing block"),
    (EXPECTED.replace("## Now, let's try to criticize this answer:\n" + C1 + "\n\n", ""), 'expected "## Now'),
    (EXPECTED.replace("\n\n## Now, let's try to criticize this answer:\n" + C_FINAL, ""), "no closing criticism"),
])
def test_parse_says_what_is_malformed(text, message):
    with pytest.raises(ValueError, match=message):
        parse_long_thought(text)


def test_extract_final_answer():
    assert extract_final_answer(EXPECTED) == Y1
    assert extract_final_answer("thinking...\nFinal answer:\n\n  12\n\n") == "12"
    assert extract_final_answer("Final answer:\n\nline one\nline two") == "line one\nline two"
    assert extract_final_answer("Final answer: 12") is None          # the blank line is part of the format
    assert extract_final_answer("Final answer:\n\n   ") is None
    assert extract_final_answer("no answer at all") is None

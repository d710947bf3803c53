"""The Stage II long refinement thought: format, parse, and extract its final answer (DESIGN.md §1.4).

The markers are a data format shared with the authors' released data: byte-exact, including
"Okey" and the U+2019 apostrophe in "it’s".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

START = "<|Start of recursive criticism and improvement|>"
END = "<|End of recursive criticism and improvement|>"
ANSWER_HEADER = "## Let's answer the question first:"
CRITICIZE_HEADER = "## Now, let's try to criticize this answer:"
IMPROVE_HEADER = "## Okey, let's improve the above answer based on the criticism:"
DONE_HEADER = "## Okay, now it\u2019s almost done."
FINAL_ANSWER = "Final answer:"

_OPENING = f"{START}\n\n{ANSWER_HEADER}\n"
_CRITICIZE = f"\n\n{CRITICIZE_HEADER}\n"
_IMPROVE = f"\n\n{IMPROVE_HEADER}\n"
_CLOSING = f"\n\n{DONE_HEADER}\n\n{END}\n\n{FINAL_ANSWER}\n\n"
_SEPARATORS = re.compile("(" + re.escape(_CRITICIZE) + "|" + re.escape(_IMPROVE) + ")")
_FINAL_ANSWER_PATTERN = re.compile(r"Final answer:\n\n(.*)", re.DOTALL)


@dataclass(frozen=True)
class LongThought:
    """answers y0..yn; criticisms c1..cn and the closing c_final (so one per answer)."""

    answers: list[str]
    criticisms: list[str]
    final_answer: str


def format_long_thought(answers: list[str], criticisms: list[str], final_answer: str) -> str:
    """One assistant message: y0, then (criticism, improvement) per accepted round, then c_final.

    >>> text = format_long_thought(["y0", "y1"], ["c1", "c_final"], "y1")
    >>> text.splitlines()[2:4], text.endswith("Final answer:\\n\\ny1")
    (["## Let's answer the question first:", 'y0'], True)
    """
    if not answers:
        raise ValueError("a long thought needs at least the first answer y0")
    if len(criticisms) != len(answers):
        raise ValueError(f"a long thought needs one criticism per answer (c1..cn and the closing one): "
                         f"got {len(answers)} answers and {len(criticisms)} criticisms")
    parts = [_OPENING, answers[0]]
    for criticism, answer in zip(criticisms, answers[1:], strict=False):
        parts += [_CRITICIZE, criticism, _IMPROVE, answer]
    parts += [_CRITICIZE, criticisms[-1], _CLOSING, final_answer]
    return "".join(parts)


def parse_long_thought(text: str) -> LongThought:
    """The parts of a well-formed long thought; ValueError saying what is malformed otherwise.

    An answer or criticism that itself contains one of the marker lines cannot be told apart
    from the structure; such texts do not round-trip.
    """
    if not text.startswith(_OPENING):
        raise ValueError(f"a long thought must start with {START!r} followed by {ANSWER_HEADER!r}")
    body, found, final_answer = text[len(_OPENING):].rpartition(_CLOSING)
    if not found:
        raise ValueError(f"the closing block is missing: {DONE_HEADER!r}, {END!r} and {FINAL_ANSWER!r}")
    pieces = _SEPARATORS.split(body)
    # pieces: y0, CRIT, c1, IMPROVE, y1, ..., CRIT, c_final
    answers, criticisms = [pieces[0]], []
    for index in range(1, len(pieces), 4):
        if pieces[index] != _CRITICIZE:
            raise ValueError(f"expected {CRITICIZE_HEADER!r} after answer {len(answers) - 1}, "
                             f"found {IMPROVE_HEADER!r}")
        criticisms.append(pieces[index + 1])
        if index + 2 < len(pieces):
            if pieces[index + 2] != _IMPROVE:
                raise ValueError(f"expected {IMPROVE_HEADER!r} after criticism {len(criticisms)}, "
                                 f"found {CRITICIZE_HEADER!r}")
            answers.append(pieces[index + 3])
    if len(criticisms) != len(answers):
        raise ValueError(f"the last answer has no closing criticism ({CRITICIZE_HEADER!r} before the end)")
    return LongThought(answers, criticisms, final_answer)


def extract_final_answer(text: str) -> str | None:
    """The text after the first "Final answer:" + blank line, stripped; None if absent or empty.

    >>> extract_final_answer("...<|End of recursive criticism and improvement|>\\n\\nFinal answer:\\n\\n 12 \\n")
    '12'
    """
    match = _FINAL_ANSWER_PATTERN.search(text)
    if match is None:
        return None
    answer = match.group(1).strip()
    return answer or None

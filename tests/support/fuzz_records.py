"""Generated import records for fuzzing (hypothesis strategies): valid records of each importer's layout,
and hostile ones made from them by one mutation — a missing or retyped field, a lone surrogate, an
integer of 5,000 digits, 100,000 nested brackets, NaN, a line that is not JSON or not UTF-8.

A record is a `FuzzRecord`: its line of bytes and, when it is valid by construction, the prompt text
an import must store for it. `benchmarks/faults.py` imports files of them and checks that every valid
record is stored, every line is accounted for (imported or skipped by number) and nothing raises;
tests/io/test_io_fuzz.py runs a few hundred of them on every test run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from backend.avr.long_thought import format_long_thought

FORMATS = ("prompts", "ultrafeedback", "avr-stage1", "avr-greedy-chain", "long-thought")


@dataclass(frozen=True)
class FuzzRecord:
    line: bytes  # without the newline
    prompt: str | None = None  # the prompt a valid record stores; None for a hostile one


class HugeInt:
    """An integer written with this many digits (json.dumps refuses more than 4,300)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


class Deep:
    """A list nested this many levels deep (json.dumps would recurse past Python's limit)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth


def to_json(value: Any) -> str:
    """JSON text of `value`, including what json.dumps cannot write: HugeInt, Deep, NaN, lone surrogates
    (written as a \\uXXXX escape, as text cut in UTF-16 comes out of other tools)."""
    if isinstance(value, HugeInt):
        return "7" * value.digits
    if isinstance(value, Deep):
        return "[" * value.depth + "]" * value.depth
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_json(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return json.dumps(value)  # ensure_ascii: a lone surrogate becomes "\ud83d"


# -- pieces ----------------------------------------------------------------------------------------
_words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40)
# Text a record may hold: any Unicode (emoji, NUL, right-to-left, combining marks), never blank.
text = _words.filter(lambda t: t.strip() != "")
scores = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), scores, _words)
extras = st.dictionaries(st.sampled_from(["id", "source", "lang", "split", "meta_note"]), scalars, max_size=2)


def user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


def assistant(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}


@st.composite
def prompts_record(draw) -> tuple[dict, str]:
    prompt = draw(text)
    layout = draw(st.sampled_from(["prompt", "instruction", "text", "messages", "prompt-messages"]))
    record: dict[str, Any] = draw(extras)
    if layout == "prompt":
        record["prompt"] = prompt
    elif layout == "instruction":
        record["instruction"] = prompt  # (an alpaca `input` would join the prompt; left out here)
    elif layout == "text":
        record["text"] = prompt
    elif layout == "messages":
        record["messages"] = [user(prompt), assistant(draw(text))]
    else:
        record["prompt"] = [user(prompt)]
    return record, prompt


@st.composite
def ultrafeedback_record(draw) -> tuple[dict, str]:
    prompt, chosen, rejected = draw(text), draw(text), draw(text)
    record = {"prompt": prompt, "chosen": [user(prompt), assistant(chosen)],
              "rejected": [user(prompt), assistant(rejected)], **draw(extras)}
    if draw(st.booleans()):
        record["all_generated_responses"] = [chosen, rejected]
        record["all_rm_scores"] = [draw(scores), draw(scores)]
    return record, prompt


@st.composite
def stage1_record(draw) -> tuple[dict, str]:
    prompt, answer = draw(text), draw(text)
    refinements = [{"messages": [user(prompt), assistant(answer)], "judgement": draw(text),
                    "refined_response": draw(text), "score": draw(scores), "temperature_judge": 0.7}
                   for _ in range(draw(st.integers(0, 4)))]
    return {"messages": [user(prompt), assistant(answer)], "source_score": draw(scores),
            "refinements": refinements}, prompt


@st.composite
def greedy_chain_record(draw) -> tuple[dict, str]:
    """Rounds that each improve on the one before (the importer refuses a round after one that did
    not), the last one free to improve or not."""
    prompt, start = draw(text), draw(text)
    origin = draw(st.floats(-20, -11))
    current = origin
    iterations = []
    rounds = draw(st.integers(0, 3))
    for number in range(rounds):
        judges = [draw(text), draw(text)]
        refine_list = [[draw(text), draw(text)], [draw(text), draw(text)]]
        values = [[draw(st.floats(-10, 10)) for _ in range(2)] for _ in range(2)]
        if number < rounds - 1:
            values[0][0] = current + 1.0  # strictly better: the chain goes on
        current = max(current, max(max(v) for v in values))
        iterations.append({"iteration": number, "judges": judges, "refine_list": refine_list,
                           "scores_list": values})
    return {"messages": [user(prompt), assistant(start)], "origin_score": origin, "iterations": iterations}, prompt


@st.composite
def long_thought_record(draw) -> tuple[dict, str]:
    prompt = draw(text)
    rounds = draw(st.integers(1, 3))
    answers = [draw(text) for _ in range(rounds)]
    criticisms = [draw(text) for _ in range(rounds)]
    thought = format_long_thought(answers, criticisms, answers[-1])
    return {"messages": [user(prompt), assistant(thought)]}, prompt


VALID = {"prompts": prompts_record(), "ultrafeedback": ultrafeedback_record(), "avr-stage1": stage1_record(),
         "avr-greedy-chain": greedy_chain_record(), "long-thought": long_thought_record()}

# -- mutations -------------------------------------------------------------------------------------
HOSTILE_VALUES = st.one_of(
    scalars, st.just(chr(0xD83D)), st.just("x" + chr(0xDE00) + "y"), st.just(""), st.just("   "),
    st.just("\x00"), st.builds(HugeInt, st.integers(4301, 6000)), st.builds(Deep, st.integers(2000, 120_000)),
    st.just(float("nan")), st.just(float("inf")), st.just(10**400), st.just([]), st.just({}),
    st.lists(scalars, max_size=3), st.just([{"role": "assistant"}]), st.just("Rating: [[" + "9" * 5000 + "]]"))


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, prefix + (index,))
    return found


def _replace(value: Any, path: tuple, new: Any, delete: bool = False) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy = dict(value) if isinstance(value, dict) else list(value)
    if not rest and delete:
        del copy[head]
    else:
        copy[head] = _replace(copy[head], rest, new, delete)
    return copy


@st.composite
def hostile_line(draw, record: dict) -> bytes:
    kind = draw(st.sampled_from(["replace", "replace", "replace", "delete", "not-an-object", "torn",
                                 "not-utf8", "surrogate-in-text"]))
    if kind == "not-an-object":
        return to_json(draw(st.one_of(st.lists(scalars, max_size=3), scalars))).encode()
    if kind == "torn":
        line = to_json(record).encode()
        return line[: draw(st.integers(1, max(1, len(line) - 1)))]
    if kind == "not-utf8":
        return to_json(record).encode()[:-1] + b"\xff\xfe}"
    paths = _paths(record)
    if not paths:
        return to_json(draw(HOSTILE_VALUES)).encode()
    path = draw(st.sampled_from(paths))
    if kind == "delete":
        return to_json(_replace(record, path, None, delete=True)).encode()
    if kind == "surrogate-in-text":
        strings = [p for p in paths if isinstance(_get(record, p), str)] or paths
        path = draw(st.sampled_from(strings))
        current = _get(record, path)
        return to_json(_replace(record, path, f"{current}{chr(0xD83D)}" if isinstance(current, str)
                                else chr(0xD83D))).encode()
    return to_json(_replace(record, path, draw(HOSTILE_VALUES))).encode()


def _get(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


@st.composite
def fuzz_record(draw, format: str, hostile_share: float = 0.4) -> FuzzRecord:
    record, prompt = draw(VALID[format])
    if draw(st.floats(0, 1)) < hostile_share:
        return FuzzRecord(draw(hostile_line(record)))
    return FuzzRecord(to_json(record).encode(), prompt)


def fuzz_file(format: str, size: int) -> st.SearchStrategy[list[FuzzRecord]]:
    """A file's worth of records of one format, valid and hostile mixed."""
    return st.lists(fuzz_record(format), min_size=size, max_size=size)


# -- checking an import of them ---------------------------------------------------------------------
@dataclass
class Tally:
    """What the fault suite counts for one kind of trial."""

    trials: int = 0
    lost: int = 0  # results a person was told were kept (journalled, acknowledged, valid records) but are gone
    duplicated: int = 0  # stored twice, or a tree fuller than its slots
    malformed: int = 0  # half-written or inconsistent: a torn file, an unaccounted line, a stale status
    tracebacks: int = 0  # an exception that was not a one-line user error

    def add(self, other: Tally) -> None:
        for name in ("trials", "lost", "duplicated", "malformed", "tracebacks"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def import_and_check(store, path, records: list[FuzzRecord], format: str, problems: list[str]) -> Tally:
    """Import `path` (holding `records`, one per line) with skip_bad, and count what went wrong: every
    line imported or skipped by its number, every valid record's prompt stored, nothing new on a second
    import, and no exception but a UserError."""
    import traceback

    from backend.domain import prompt_id_for
    from backend.errors import UserError
    from backend.io import import_file

    tally = Tally(trials=len(records))
    try:
        report = import_file(store, path, format=format, skip_bad=True)
    except UserError as exc:
        if any(r.prompt is not None for r in records):
            tally.lost += sum(r.prompt is not None for r in records)
            problems.append(f"{path.name}: refused with valid records in it: {exc}")
        return tally
    except Exception:  # noqa: BLE001 - counting them is the point
        tally.tracebacks += 1
        problems.append(f"{path.name}: {traceback.format_exc()}")
        return tally
    skipped = {s.line for s in report.skipped}
    if report.records + len(report.skipped) != len(records):
        tally.malformed += 1
        problems.append(f"{path.name}: {report.records} imported + {len(skipped)} skipped != {len(records)} lines")
    for number, record in enumerate(records, start=1):
        if record.prompt is None:
            continue
        if number in skipped:
            tally.lost += 1
            problems.append(f"{path.name}: valid line {number} was skipped: "
                            f"{next(s.reason for s in report.skipped if s.line == number)}")
        elif store.get_prompt(prompt_id_for(record.prompt)) is None:
            tally.lost += 1
            problems.append(f"{path.name}: valid line {number}: its prompt is not in the project")
    try:
        again = import_file(store, path, format=format, skip_bad=True)
    except Exception:  # noqa: BLE001
        tally.tracebacks += 1
        problems.append(f"{path.name} (again): {traceback.format_exc()}")
        return tally
    if again.new_total:
        tally.duplicated += again.new_total
        problems.append(f"{path.name}: importing it again added {again.new_total} things")
    return tally

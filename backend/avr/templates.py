"""The JUDGE / REVISE user turns and the three chat layouts of the AvR actions (DESIGN.md §1.1).

The wording is the project's own. Templates are sent verbatim as user turns; nothing is substituted.
"""

from __future__ import annotations

import re

from backend.avr.ratings import RATING_PREFIX
from backend.domain import Message, Templates

DEFAULT_JUDGE = (
    "Please act as an impartial reviewer and evaluate the answer you just gave to my question. "
    "Consider how helpful, relevant, accurate, deep, creative and detailed it is, and point out "
    "concretely what is wrong or missing. Keep the explanation short and be as objective as you can. "
    "After the explanation, rate the answer on a scale from 1 (very poor) to 10 (excellent), written "
    "exactly in this format on the last line: \"Rating: [[k]]\", where k is the number."
)
DEFAULT_REVISE = (
    "Now write a revised answer to my original question that fixes every problem found in the "
    "evaluation above and keeps what was already good. Reply with the revised answer only: no "
    "preamble, no explanation of the changes, no rating."
)

# Tiny models answer a reviewer persona with "I'm ready to help"; a direct question about the answer
# gets critique-shaped text (docs/MODELS.md). The rating line stays so constrained completion works.
SMALL_MODEL_JUDGE = (
    "What is wrong with the answer above? List its mistakes and what is missing, in a few short "
    "sentences. Then give it a score from 1 to 10 on a last line written as \"Rating: [[k]]\"."
)
SMALL_MODEL_REVISE = (
    "Rewrite the answer above so that it fixes those problems. Give only the new answer."
)

DEFAULT_TEMPLATES = Templates.make(DEFAULT_JUDGE, DEFAULT_REVISE, name="default")
SMALL_MODEL_TEMPLATES = Templates.make(SMALL_MODEL_JUDGE, SMALL_MODEL_REVISE, name="small-model")
BUILTIN_TEMPLATES: dict[str, Templates] = {t.name: t for t in (DEFAULT_TEMPLATES, SMALL_MODEL_TEMPLATES)}

# Placeholders someone might expect to be filled in; they are not (the layout carries x, y and c).
_PLACEHOLDER = re.compile(r"\{(question|prompt|answer|response|criticism|evaluation|judgement)\}", re.I)


def respond_messages(prompt: str, system: str | None = None) -> list[Message]:
    """respond: `[user x]`, after the prompt's system message when it has one (an imported one).

    >>> respond_messages("x", system="Be brief.")
    [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'x'}]
    """
    opening: list[Message] = [] if system is None else [{"role": "system", "content": system}]
    return [*opening, {"role": "user", "content": prompt}]


def criticize_messages(prompt: str, answer: str, templates: Templates, system: str | None = None) -> list[Message]:
    """criticize: `[user x, assistant y, user JUDGE]`.

    >>> [m["role"] for m in criticize_messages("x", "y", DEFAULT_TEMPLATES)]
    ['user', 'assistant', 'user']
    """
    return [
        *respond_messages(prompt, system),
        {"role": "assistant", "content": answer},
        {"role": "user", "content": templates.judge},
    ]


def improve_messages(prompt: str, answer: str, criticism: str, templates: Templates,
                     system: str | None = None) -> list[Message]:
    """improve: `[user x, assistant y, user JUDGE, assistant c, user REVISE]`."""
    return [
        *criticize_messages(prompt, answer, templates, system),
        {"role": "assistant", "content": criticism},
        {"role": "user", "content": templates.revise},
    ]


def validate_templates(judge: str, revise: str) -> list[str]:
    """Problems with an edited JUDGE / REVISE pair, as sentences for the person; [] if fine.

    >>> validate_templates(DEFAULT_JUDGE, DEFAULT_REVISE)
    []
    >>> validate_templates("Judge it.", "")[0]
    'JUDGE must ask for the rating written as "Rating: [[k]]" (e.g. Rating: [[7]]), or ratings will not parse.'
    """
    problems = []
    if not judge.strip():
        problems.append("JUDGE is empty; it must ask the model to evaluate its answer.")
    elif RATING_PREFIX not in judge or "]]" not in judge.split(RATING_PREFIX, 1)[1]:
        problems.append(
            'JUDGE must ask for the rating written as "Rating: [[k]]" (e.g. Rating: [[7]]), '
            "or ratings will not parse."
        )
    if not revise.strip():
        problems.append("REVISE is empty; it must ask for a revised answer.")
    if judge.strip() and judge.strip() == revise.strip():
        problems.append("JUDGE and REVISE are the same text; REVISE must ask for a revised answer.")
    for name, text in (("JUDGE", judge), ("REVISE", revise)):
        found = _PLACEHOLDER.search(text)
        if found:
            problems.append(
                f"{name} contains {found.group(0)}, which is not filled in: templates are sent as they "
                "are, after the question and answer turns. Remove the placeholder."
            )
    return problems

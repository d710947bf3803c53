"""Word-level diff of two texts as character spans, plus HTML rendering for the compare panel.

Pure functions (stdlib only): difflib over word/punctuation tokens; whitespace is not compared,
so re-wrapped text shows no change.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+|[^\w\s]")

Span = tuple[int, int]  # [start, end) character offsets


@dataclass(frozen=True)
class WordDiff:
    """Where two texts differ: `deleted` spans index the old text, `inserted` spans the new one."""

    deleted: list[Span]
    inserted: list[Span]

    @property
    def changed(self) -> bool:
        return bool(self.deleted or self.inserted)


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Words and punctuation marks with their offsets.

    >>> tokenize("Hi, you")
    [('Hi', 0, 2), (',', 2, 3), ('you', 4, 7)]
    """
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _spans(tokens: list[tuple[str, int, int]], ranges: list[tuple[int, int]]) -> list[Span]:
    """Token index ranges → merged character spans (a run of tokens is one span, gaps included)."""
    spans: list[Span] = []
    for lo, hi in ranges:
        if lo >= hi:
            continue
        start, end = tokens[lo][1], tokens[hi - 1][2]
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def word_diff(old: str, new: str) -> WordDiff:
    """Word-level differences between `old` and `new`.

    >>> d = word_diff("the cat sat", "the black cat ran")
    >>> [("the cat sat"[a:b]) for a, b in d.deleted], [("the black cat ran"[a:b]) for a, b in d.inserted]
    (['sat'], ['black', 'ran'])
    """
    old_tokens, new_tokens = tokenize(old), tokenize(new)
    matcher = difflib.SequenceMatcher(a=[t[0] for t in old_tokens], b=[t[0] for t in new_tokens],
                                      autojunk=False)
    deleted: list[tuple[int, int]] = []
    inserted: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            deleted.append((i1, i2))
        if tag in ("insert", "replace"):
            inserted.append((j1, j2))
    return WordDiff(_spans(old_tokens, deleted), _spans(new_tokens, inserted))


def highlighted_html(text: str, spans: list[Span], colour: str | None) -> str:
    """`text` as HTML (line breaks kept) with `spans` on a `colour` background; no colour = plain."""
    parts: list[str] = []
    pos = 0
    for start, end in spans if colour else []:
        parts.append(html.escape(text[pos:start]))
        parts.append(f'<span style="background-color:{colour}">{html.escape(text[start:end])}</span>')
        pos = end
    parts.append(html.escape(text[pos:]))
    body = "".join(parts)
    return f'<div style="white-space:pre-wrap">{body}</div>'

"""The rows of a node's history table. Annotations are append-only, so an undo appends a row that
restores the state before: shown raw, undoing fills the history with "cleared" rows. A step and the
row that undid it cancel out and are hidden unless asked for (pure Python; no Qt)."""

from __future__ import annotations

from backend.domain import CLEAR_VERDICT, REVERT_EDIT, Annotation

State = tuple[str | None, str | None]  # (verdict, edited text); None: none


def _apply(state: State, annotation: Annotation) -> State:
    verdict, edit = state
    if annotation.verdict is not None:
        verdict = annotation.verdict or None  # CLEAR_VERDICT ("") clears
    if annotation.edited_text is not None:
        edit = annotation.edited_text or None  # REVERT_EDIT ("") goes back to the model's text
    return verdict, edit


def kept_steps(history: list[Annotation]) -> list[Annotation]:
    """The annotations left when each step that a later one undid is dropped with its undo.

    >>> from backend.domain import Annotation
    >>> a = [Annotation("n", "accept", id="1"), Annotation("n", "", id="2"), Annotation("n", "reject", id="3")]
    >>> [s.id for s in kept_steps(a)]
    ['3']
    """
    kept: list[tuple[Annotation, State]] = []  # (step, state before it)
    state: State = (None, None)
    for annotation in history:
        after = _apply(state, annotation)
        if kept and after == kept[-1][1]:
            kept.pop()  # this row restores the state before the previous kept step: both are undone
        else:
            kept.append((annotation, state))
        state = after
    return [annotation for annotation, _ in kept]


def history_rows(history: list[Annotation], show_undone: bool = False) -> tuple[list[tuple[str, ...]], int]:
    """(When, Who, Verdict, Edit) rows, newest first, and how many undone rows were left out."""
    shown = history if show_undone else kept_steps(history)
    rows = []
    for annotation in reversed(shown):
        edit = annotation.edited_text
        verdict = ("verdict cleared" if annotation.verdict == CLEAR_VERDICT else annotation.verdict or "")
        rows.append((annotation.created_at.strftime("%Y-%m-%d %H:%M:%S"), annotation.author, verdict,
                     "" if edit is None else "(back to the model's text)" if edit == REVERT_EDIT
                     else " ".join(edit.split())[:80]))
    return rows, len(history) - len(shown)

"""A person's verdicts and edits, stored with the pairs they change: the one path for the app's undo
commands and the CLI's `annotate`, so both leave the same pairs behind.

Annotations are append-only (`backend.store.curation`): undoing appends the earlier state again.
"""

from __future__ import annotations

from backend.curation.derived import refresh_pairs
from backend.domain import Annotation
from backend.errors import BadInputError


def annotate(store, annotation: Annotation) -> str:
    """Append `annotation` and rebuild its prompt's pairs in one transaction; returns the prompt id."""
    node = store.get_node(annotation.node_id)
    if node is None:
        raise BadInputError(f"there is no node {annotation.node_id!r} in this project to annotate")
    with store.transaction():
        store.add_annotation(annotation)
        refresh_pairs(store, [node.prompt_id])
    return node.prompt_id


"""Where a regenerated improvement came from. The regenerate job records on each child (in its
`sampling`) that it was regenerated, whether from a person's edited criticism, and the SHA-1 of the
criticism text it was made from (backend/worker/jobs/regenerate.py). From that the app can say
"made from the edited criticism", notice when the criticism's text has changed since (its edit was
undone), and find the text the child was made from in the criticism's history.
"""

from __future__ import annotations

import hashlib

from backend.avr.tree import TreeNode
from backend.domain import Annotation, Node


def text_sha1(text: str) -> str:
    """The hash the regenerate job records of the criticism text it sent to the model.

    >>> text_sha1("Too brief.")[:12]
    '07cc80e5a77e'
    """
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def is_regenerated(node: Node) -> bool:
    return bool(node.sampling.get("regenerated"))


def from_edited_criticism(node: Node) -> bool:
    """Made from a criticism text a person had edited."""
    return bool(node.sampling.get("from_edited_criticism"))


def made_from_other_text(improvement: TreeNode, criticism: TreeNode | None) -> bool:
    """A regenerated improvement whose criticism no longer has the text it was made from (the edit it
    came from was undone or changed again)."""
    recorded = improvement.node.sampling.get("criticism_text_sha1")
    if not recorded or criticism is None:
        return False
    return recorded != text_sha1(criticism.text)


def source_text(improvement: Node, criticism: Node, history: list[Annotation]) -> str | None:
    """The criticism text a regenerated improvement was made from: the model's text or one of the
    person's edits in the criticism's annotation history (None when no known text matches)."""
    recorded = improvement.sampling.get("criticism_text_sha1")
    if not recorded:
        return None
    for text in (criticism.text, *(a.edited_text for a in reversed(history) if a.edited_text)):
        if text_sha1(text) == recorded:
            return text
    return None

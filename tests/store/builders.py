"""A small hand-built project whose summary values are worked out by hand in the tests."""

from datetime import UTC, datetime, timedelta

from backend.domain import Node, Prompt, Score

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SODA = Prompt.from_text("Name two uses of baking soda.")
HAIKU = Prompt.from_text("Write a haiku about rain.")
PERCENT = Prompt.from_text("Is 100% of a number the number itself?")


def node(id_, prompt, kind, parent=None, minute=0, text=None):
    return Node(id=id_, prompt_id=prompt.id, kind=kind, text=text or f"text of {id_}", parent_id=parent,
                created_at=T0 + timedelta(minutes=minute))


def hand_built_nodes():
    """SODA: r1 -> c1 -> (i11, i12), c2 -> (i21, i22); HAIKU: r2 -> c3 -> i31; PERCENT has none."""
    return [
        node("r1", SODA, "response"),
        node("c1", SODA, "criticism", "r1", 1), node("c2", SODA, "criticism", "r1", 2),
        node("i11", SODA, "improvement", "c1", 3), node("i12", SODA, "improvement", "c1", 4),
        node("i21", SODA, "improvement", "c2", 5), node("i22", SODA, "improvement", "c2", 6),
        node("r2", HAIKU, "response"), node("c3", HAIKU, "criticism", "r2", 1),
        node("i31", HAIKU, "improvement", "c3", 2),
    ]


def hand_built_scores():
    """Scorer 'a': SODA r1=1, i11=3, i12=0.5, i21=2 (i22 unscored) -> best 3, best gain 2, 2 improving;
    HAIKU r2=2, i31=1.5 -> best 2, gain -0.5, 0 improving. Scorer 'b' (older): HAIKU r2=5 only."""
    a = [("r1", 1.0), ("i11", 3.0), ("i12", 0.5), ("i21", 2.0), ("r2", 2.0), ("i31", 1.5)]
    return ([Score(n, "a", v, created_at=T0 + timedelta(hours=2)) for n, v in a]
            + [Score("r2", "b", 5.0, created_at=T0 + timedelta(hours=1))])


def fill(store):
    store.add_prompts([SODA, HAIKU, PERCENT])
    store.add_nodes(hand_built_nodes())
    store.add_scores(hand_built_scores())

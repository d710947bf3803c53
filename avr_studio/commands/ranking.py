"""Switching the project's ranking scorer as an undoable command: redo ranks by the new scorer and
rebuilds every prompt's pairs with it, undo goes back to the old one and rebuilds them again
(`backend.curation.derived.switch_ranking_scorer`). The person's verdicts are untouched either way.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from backend.curation.derived import switch_ranking_scorer
from backend.curation.ranking import RankingSwitch, ranking_scorer

SwitchCallback = Callable[[RankingSwitch], None]
"""Called after every redo and undo with what the switch did (the window says so and reloads)."""


class SwitchRankingScorerCommand(QUndoCommand):
    """Rank the project by `scorer`; undo ranks it by the scorer it had before."""

    def __init__(self, store, scorer: str, on_switched: SwitchCallback | None = None) -> None:
        super().__init__(f"Rank by {scorer}")
        self.store = store
        self.before = ranking_scorer(store)
        self.after = scorer
        self._on_switched = on_switched
        self.last: RankingSwitch | None = None

    def redo(self) -> None:
        self._switch(self.after)

    def undo(self) -> None:
        if self.before is not None:
            self._switch(self.before)

    def _switch(self, scorer: str) -> None:
        self.last = switch_ranking_scorer(self.store, scorer)
        if self._on_switched is not None:
            self._on_switched(self.last)


def switch_message(switch: RankingSwitch) -> str:
    """What the status bar says after a switch.

    >>> switch_message(RankingSwitch("a", "b", 24, 40, 6))
    'Ranking by b now (was a): rebuilt the pairs of 24 prompts; 6 reward-decided pairs changed (40 in all).'
    """
    was = f" (was {switch.before})" if switch.before and switch.before != switch.after else ""
    return (f"Ranking by {switch.after} now{was}: rebuilt the pairs of {switch.prompts} prompts; "
            f"{switch.changed_pairs} reward-decided pairs changed ({switch.reward_pairs} in all).")

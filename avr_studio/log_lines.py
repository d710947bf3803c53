"""Reading the worker's stderr: library progress bars (tqdm's "Loading weights: 45%|████ | 120/272")
are not log lines a person reads one by one; the app folds them into the job's own progress.
Pure functions (stdlib only)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# "label: 45%|███▌     | 120/272 [00:03<00:04, 35.1it/s]" (the label and the counts are optional)
_BAR = re.compile(r"^\s*(?P<label>[^|]*?)\s*:?\s*(?P<percent>\d{1,3})%\|[^|]*\|\s*(?P<rest>.*)$")
_COUNTS = re.compile(r"(?P<done>\d+)/(?P<total>\d+)")


@dataclass(frozen=True)
class LibraryProgress:
    label: str
    percent: int
    done: int | None = None
    total: int | None = None

    @property
    def text(self) -> str:
        """'Loading weights 45% (120/272)'"""
        counts = f" ({self.done}/{self.total})" if self.total else ""
        return f"{self.label or 'working'} {self.percent}%{counts}"


def library_progress(line: str) -> LibraryProgress | None:
    """The progress a library's progress-bar line shows, or None for an ordinary log line.

    >>> library_progress("Loading weights: 45%|████▌     | 122/272 [00:03<00:04, 35.10it/s]")
    LibraryProgress(label='Loading weights', percent=45, done=122, total=272)
    >>> library_progress("info: generating 4 answers") is None
    True
    """
    match = _BAR.match(line)
    if match is None:
        return None
    counts = _COUNTS.search(match.group("rest"))
    return LibraryProgress(match.group("label").strip(), min(int(match.group("percent")), 100),
                           int(counts.group("done")) if counts else None,
                           int(counts.group("total")) if counts else None)

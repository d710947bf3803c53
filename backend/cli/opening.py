"""How every headless command opens a project: the store, then what a crash or a kill left behind
(`backend.worker.recovery`), said on stderr in a line or two."""

from __future__ import annotations

import sys
from pathlib import Path

from backend.errors import UserError


def open_project(path: Path, wait_s: float | None = None):
    """The open Store of `path` after recovery; a UserError if a killed command's worker still runs one
    of its jobs after the wait (a new run must not plan from the database while that worker journals)."""
    from backend.store import Store
    from backend.worker.recovery import ORPHAN_WAIT_S, recover_project, still_running_message

    store = Store.open(path)
    try:
        # Before any results are imported: their scorer must not become the ranking by being the newest.
        from backend.curation.ranking import pin_ranking_scorer

        pin_ranking_scorer(store)
        recovery = recover_project(store, ORPHAN_WAIT_S if wait_s is None else wait_s,
                                   on_warning=lambda text: print(f"warning: {text}", file=sys.stderr))
        if recovery.still_running:
            raise UserError(still_running_message(store.project_dir, recovery.still_running))
    except BaseException:
        store.close()
        raise
    if recovery.imported:
        print(f"Imported {recovery.imported} results left by an earlier job.", file=sys.stderr)
    if recovery.interrupted:
        jobs = ", ".join(recovery.interrupted)
        print(f"Marked {len(recovery.interrupted)} job(s) whose worker is gone as interrupted ({jobs}); "
              f"`avr-studio resume {path}` finishes the last one.", file=sys.stderr)
    if recovery.removed_temp_files:
        print(f"Removed {len(recovery.removed_temp_files)} temp file(s) of an export that was killed.",
              file=sys.stderr)
    return store

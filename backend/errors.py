"""Errors a person can fix. Each carries a message that says what happened and what to do next.

The CLI prints `str(error)` as one line and exits non-zero; the GUI shows it in a dialog. Anything
that is not a UserError is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A mistake or situation the person can fix (bad file, wrong folder, locked project, ...)."""


class ProjectLockedError(UserError):
    """Another process holds the project's database open (DuckDB allows one writer per file)."""


class BadInputError(UserError):
    """A malformed file or record; the message names the file and line."""


class ModelLoadError(UserError):
    """A model folder that is missing, incomplete or of the wrong kind."""


class JobCancelled(Exception):
    """Raised inside a job when the person cancelled it; not an error."""

"""PySide6 6.12.0 on Python 3.11 drops a reference to the value a call returns when that value is None,
True or False: each void Qt method called from Python (QLabel.setText: -1 None), each Python slot that
Qt calls (its None result), each signal emitted from Python (emit()'s True) leaves that object's
reference count one short; a pyqtgraph PlotWidget costs 219 references to None. None starts the app
with ~24,000 references, so after some thousands of curation keys the count reached zero and the
interpreter aborted: "Fatal Python error: none_dealloc" (or "bool_dealloc").

Python 3.12 made these objects immortal (PEP 683). On 3.11 the app does the same by hand once, at
import: it adds 2**40 to their counts, more than any session can lose. They are never deallocated in
a healthy process, so nothing else changes.
"""

from __future__ import annotations

import ctypes
import sys

PINNED_REFERENCES = 1 << 40
SINGLETONS = (None, True, False)


def pin_singletons() -> bool:
    """Make the reference counts of None, True and False unreachable from zero (once per process; a
    no-op on Python 3.12+ and on interpreters other than CPython). Returns whether it pinned them now."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or getattr(pin_singletons, "done", False):
        return False
    for singleton in SINGLETONS:
        # ob_refcnt is the first field of every CPython object (a Py_ssize_t), at the object's address.
        ctypes.c_ssize_t.from_address(id(singleton)).value += PINNED_REFERENCES
    pin_singletons.done = True  # type: ignore[attr-defined]
    return True

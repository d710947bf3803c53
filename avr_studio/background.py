"""Run a short blocking call (an import, an export) on a thread-pool thread and get its result
back as a signal on the UI thread; exceptions are reported, never lost.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class BackgroundTask(QObject):
    """One call on a QThreadPool (the global one unless given). Prefer no parent: the running call
    keeps the task alive, and a receiver deleted meanwhile is simply disconnected by Qt."""

    sig_task_finished = Signal(object)
    """The call returned; argument: its return value."""

    sig_task_failed = Signal(object, str)
    """The call raised; arguments: the exception and its formatted traceback."""

    def __init__(self, function: Callable[[], Any], parent: QObject | None = None, *,
                 pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._function = function
        self._pool = pool or QThreadPool.globalInstance()

    def start(self) -> None:
        task = self

        class _Runnable(QRunnable):
            def run(self) -> None:  # noqa: D401 - Qt override
                try:
                    result = task._function()
                except Exception as exc:  # reported to the UI thread, which decides what to show
                    outcome = (task.sig_task_failed, (exc, traceback.format_exc()))
                else:
                    outcome = (task.sig_task_finished, (result,))
                signal, args = outcome
                try:
                    signal.emit(*args)
                except RuntimeError:
                    pass  # the task's parent was deleted meanwhile: nobody is listening any more

        self._pool.start(_Runnable())

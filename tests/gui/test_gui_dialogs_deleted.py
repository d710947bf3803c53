"""Every modal dialog the window opens is deleted once it closes. One left alive as the window's child
was torn down during interpreter shutdown instead, and quitting after Settings had been opened (and
cancelled) segfaulted with exit 139 about one time in two (seen in a real X session driven by keys)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from avr_studio.app import build_shell
from avr_studio.app_settings import AppSettings


def _close_when_shown(kind: type) -> None:
    def close():
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
        if not shown:
            QTimer.singleShot(20, close)
            return
        shown[0].reject()

    QTimer.singleShot(20, close)


def test_settings_shortcuts_and_demo_model_dialogs_are_deleted_after_they_close(qtbot):
    shell = build_shell(AppSettings())
    qtbot.addWidget(shell.window)
    shell.window.show()
    for action, kind in (("file.settings", QDialog), ("help.shortcuts", QDialog), ("help.demo_model", QMessageBox)):
        _close_when_shown(kind)
        shell.window.actions_by_id[action].trigger()
        qtbot.waitUntil(lambda: not shell.window.findChildren(QDialog), timeout=2000)
    assert not shell.window.findChildren(QDialog)

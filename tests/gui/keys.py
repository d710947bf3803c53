"""Helpers the GUI tests import to type as a person does: a key where the keyboard is now, and the
answer to the next modal dialog."""

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow


def focused():
    return QApplication.focusWidget()


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key press where the keyboard is now (the focused widget, else the active window)."""
    target = QApplication.focusWidget() or QApplication.activeWindow()
    if target is None:  # a dialog just closed: the window manager gives the keys back to the main window
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()]
        assert windows, "no widget has the keyboard"
        with qtbot.waitActive(windows[0]):
            windows[0].activateWindow()
        target = QApplication.focusWidget() or windows[0]
    qtbot.keyClick(target, key, modifier)


def when_a_dialog_opens(qtbot, *keys, limit_ms: int = 5000) -> None:
    """Type `keys` into the next modal dialog as soon as it is up (a person answering it)."""
    tries = [0]

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        inside = QApplication.focusWidget()
        tries[0] += 1
        # wait until the dialog is up and its keyboard focus is inside it (its first field)
        if dialog is None or not dialog.isVisible() or inside is None or inside.window() is not dialog:
            if tries[0] * 20 > limit_ms:
                raise AssertionError("no dialog opened")
            QTimer.singleShot(20, answer)
            return
        for key in keys:
            inside = QApplication.focusWidget()
            qtbot.keyClick(inside if inside is not None and inside.window() is dialog else dialog, key)

    QTimer.singleShot(20, answer)

"""Modal dialogs (export, settings, ...)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog


def run_modal(dialog: QDialog) -> int:
    """Show `dialog` until it closes and return its result; the dialog is deleted once control is back
    in the event loop (its Python attributes stay readable until then). Dialogs parented to the main
    window but left alive were torn down during interpreter shutdown, and quitting then segfaulted
    (exit 139) after Settings had been opened once."""
    try:
        return dialog.exec()
    finally:
        dialog.deleteLater()

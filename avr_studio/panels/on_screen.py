"""Whether a panel is on screen. A panel in a tab that is not selected still says isVisible() (Qt moves
a tabbed dock out of sight instead of hiding it), so panels that read the store only for the person's
eyes ask this, and the main window tells them when their tab is selected (`on_screen_changed`).
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def is_on_screen(widget: QWidget) -> bool:
    return widget.isVisible() and not widget.visibleRegion().isEmpty()

"""Helpers the GUI tests import: pictures of widgets for people to look at."""

from pathlib import Path

TMP_SCREENS = Path("/tmp/avr-screens")
SCREENSHOTS = (Path(__file__).resolve().parent / "screenshots", TMP_SCREENS)


def save_screenshot(widget, name: str, folders: tuple[Path, ...] = SCREENSHOTS) -> None:
    """Save `widget` as `<name>.png` in each folder: by default tests/gui/screenshots/ and /tmp/avr-screens/."""
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(folder / f"{name}.png"))

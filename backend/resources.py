"""The one resolver for files under the repository's resources/ folder (templates, demo data, icons)."""

from __future__ import annotations

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Path of a bundled resource; raises FileNotFoundError naming the missing file."""
    path = RESOURCES_DIR.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"bundled resource missing: {path} (is the checkout complete?)")
    return path

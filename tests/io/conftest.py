"""Fixtures for import/export tests: the format samples (a copy kept in tests/io/data), a fresh project store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).parent / "data"
SAMPLE_NAMES = ("avr-dpo.json", "avr-long-thought-sft.jsonl", "avr-stage1-scoring-detail.jsonl",
                "ultrafeedback-style.jsonl")


@pytest.fixture
def samples(tmp_path) -> Path:
    """A tmp folder holding the four format samples (copied from tests/io/data)."""
    folder = tmp_path / "samples"
    folder.mkdir()
    for name in SAMPLE_NAMES:
        shutil.copy(DATA_DIR / name, folder / name)
    return folder


@pytest.fixture
def shared_samples_dir() -> Path:
    """The team's shared samples folder, when this checkout sits beside it."""
    folder = Path(__file__).parents[2].parent / "shared" / "samples"
    if not folder.is_dir():
        pytest.skip("the shared samples folder is not beside this checkout")
    return folder


@pytest.fixture
def store(tmp_path):
    from backend.store import Store

    project = Store.create(tmp_path / "project")
    yield project
    close = getattr(project, "close", None)
    if close:
        close()


@pytest.fixture
def hf_cache(tmp_path) -> str:
    """A private datasets cache, so reading exports back leaves nothing in the user's cache."""
    return str(tmp_path / "hf-cache")

"""Fixtures shared by the GUI tests; helpers they import live in tests/gui/screens.py."""

import pytest

from backend.domain import Prompt
from backend.store import Store
from tests.gui.curation_store_fixture import build_curation_project


@pytest.fixture
def own_data_dir(tmp_path, monkeypatch):
    """Settings and recent projects of one test never leak into another: a data dir per test.

    Not autouse: a module that wants it says `pytestmark = pytest.mark.usefixtures("own_data_dir")`;
    the others keep the session-wide data dir of tests/conftest.py."""
    monkeypatch.setenv("AVR_STUDIO_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def project(tmp_path):
    """The hand-built curation project (tests/gui/curation_store_fixture.py), closed after the test."""
    built = build_curation_project(tmp_path)
    yield built
    built.store.close()


@pytest.fixture
def store_prompts() -> tuple[str, ...]:
    """Texts of the prompts (source "test") the `store` fixture starts with; a module overrides this."""
    return ()


@pytest.fixture
def store(tmp_path, store_prompts):
    """A new project store in `tmp_path / "project"`, holding `store_prompts`; closed after the test."""
    opened = Store.create(tmp_path / "project")
    if store_prompts:
        opened.add_prompts([Prompt.from_text(text, source="test") for text in store_prompts])
    yield opened
    opened.close()

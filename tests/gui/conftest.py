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


@pytest.fixture
def curation_shell(qtbot, tmp_path, monkeypatch):
    """The real window (build_shell) on the hand-built curation project, shown and active, with its own
    data dir; `shell.project` holds the prompt ids (its store is reopened by the window)."""
    from avr_studio.app import build_shell
    from avr_studio.app_settings import AppSettings

    monkeypatch.setenv("AVR_STUDIO_DATA_DIR", str(tmp_path / "data"))
    built_project = build_curation_project(tmp_path)
    built_project.store.close()
    shell = build_shell(AppSettings())
    qtbot.addWidget(shell.window)
    shell.window.show()
    with qtbot.waitActive(shell.window):
        shell.window.activateWindow()
    assert shell.controller.open_project(tmp_path / "project")
    shell.project = built_project
    shell.project_dir = tmp_path / "project"
    yield shell
    shell.worker.stop()
    shell.context.close_store()

"""Fixtures for training tests: a project with curated data and the tiny chat model as the base."""

import pytest

from backend.store import Store
from tests.support.tiny_models import tiny_chat_model_dir
from tests.training.project_data import fill


@pytest.fixture
def store(tmp_path):
    with Store.create(tmp_path / "project") as opened:
        fill(opened)
        yield opened


@pytest.fixture(scope="session")
def tiny_base() -> str:
    return str(tiny_chat_model_dir())

"""Fixtures for store tests: a fresh project on disk per test."""

import pytest

from backend.store import Store


@pytest.fixture
def store(tmp_path):
    with Store.create(tmp_path / "project") as opened:
        yield opened

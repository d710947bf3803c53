"""Shared test set-up: Qt runs headless; every test gets its own data dir so no test sees the user's."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory, monkeypatch):
    """Point AVR_STUDIO_DATA_DIR (model cache, settings, recent projects) at a per-session temp dir."""
    data_dir = os.environ.get("AVR_STUDIO_TEST_DATA_DIR")
    if not data_dir:
        data_dir = str(tmp_path_factory.getbasetemp() / "avr-data")
        os.environ["AVR_STUDIO_TEST_DATA_DIR"] = data_dir
    monkeypatch.setenv("AVR_STUDIO_DATA_DIR", data_dir)

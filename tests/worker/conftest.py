"""Fixtures for worker tests: tiny model specs, a running worker process, and event helpers."""

import pytest

from backend.config import ModelSpec, ScorerSpec
from backend.worker.client import WorkerClient
from tests.support.tiny_models import tiny_chat_model_dir, tiny_reward_model_dir


@pytest.fixture(scope="session")
def tiny_model():
    """The tiny random chat model as a ModelSpec (fp32 CPU: exact and fast at this size)."""
    return ModelSpec(name=str(tiny_chat_model_dir()), engine="transformers", dtype="float32", device="cpu")


@pytest.fixture(scope="session")
def tiny_scorer():
    return ScorerSpec(kind="classifier", model=str(tiny_reward_model_dir()))


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    """One worker process shared by a module's tests (it runs jobs one after another)."""
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with WorkerClient(log_path=log) as client:
        yield client

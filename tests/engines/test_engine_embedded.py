"""The embedded SmolLM2 model: located in its package, converted once, atomically, then cached."""

import importlib.metadata

import pytest

from backend.config import EMBEDDED_MODEL, ModelSpec, SamplingConfig
from backend.engines import GenRequest, embedded, make_engine
from backend.errors import ModelLoadError
from tests.support.single_thread import one_torch_thread  # noqa: F401 - autouse fixture


def test_a_folder_name_resolves_to_itself(tmp_path):
    assert embedded.resolve_model_dir(str(tmp_path)) == tmp_path


def test_a_missing_package_says_to_run_setup(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(embedded.importlib.metadata, "distribution", missing)
    with pytest.raises(ModelLoadError, match="scripts/setup"):
        embedded.resolve_model_dir(EMBEDDED_MODEL)


def test_a_crash_during_conversion_leaves_no_half_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("AVR_STUDIO_DATA_DIR", str(tmp_path))

    def crash(gguf, out_dir):
        (out_dir / "config.json").write_text("{}")
        raise RuntimeError("power cut")

    monkeypatch.setattr(embedded, "_convert_gguf", crash)
    with pytest.raises(RuntimeError):
        embedded.embedded_model_dir()
    assert list((tmp_path / "models").iterdir()) == []

    calls = []
    monkeypatch.setattr(embedded, "_convert_gguf", lambda gguf, out: calls.append(out) or (out / "config.json").write_text("{}"))
    first = embedded.embedded_model_dir()
    assert embedded.embedded_model_dir() == first and len(calls) == 1  # converted once, then cached
    assert first.name.startswith("smollm2-135m-instruct-")


@pytest.mark.slow
def test_the_embedded_model_generates_a_short_answer():
    engine = make_engine(ModelSpec(name=EMBEDDED_MODEL, dtype="bfloat16", device="cpu"))
    greedy = SamplingConfig(temperature=0.0, max_new_tokens=16)
    result = engine.generate([GenRequest("a", [{"role": "user", "content": "What is the capital of France?"}],
                                         sampling=greedy)])[0]
    assert "Paris" in result.texts[0] and 0 < result.tokens <= 16
    conversation = [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "5"},
                    {"role": "user", "content": "What is wrong with the answer above? End with Rating: [[k]]."}]
    ratings = engine.rating_digits([conversation], ["The answer is wrong: 2+2 is 4."])
    assert 1 <= ratings[0] <= 10

"""The vLLM engine: a clear message when vLLM is not in this environment; a smoke test where it is."""

import pytest

from backend.config import ModelSpec, SamplingConfig
from backend.engines import GenRequest, make_engine, vllm_importable
from backend.errors import UserError


@pytest.mark.skipif(vllm_importable(), reason="vLLM is installed here")
def test_without_vllm_the_error_says_where_it_lives(tmp_path, monkeypatch):
    monkeypatch.setenv("AVR_VLLM_PYTHON", str(tmp_path / "no-venv" / "bin" / "python"))  # no .venv-vllm either
    with pytest.raises(UserError, match=r"own environment") as error:
        make_engine(ModelSpec(engine="vllm"))
    assert "scripts/setup --vllm" in str(error.value)


@pytest.mark.slow
@pytest.mark.skipif(not vllm_importable(), reason="vLLM is not installed in this environment")
def test_vllm_generates_n_samples():
    engine = make_engine(ModelSpec(engine="vllm", dtype="bfloat16"))
    result = engine.generate([GenRequest("a", [{"role": "user", "content": "Hi"}], n=2,
                                         sampling=SamplingConfig(max_new_tokens=8))])[0]
    assert len(result.texts) == 2 and result.tokens > 0

"""Generation presets as data (DESIGN.md §1.1): the paper's settings, the CPU demo's, which model gets
which, and that the sampling config can say "no cap" and carries the preset's name."""

import pytest

from backend.config import EMBEDDED_MODEL, PairConfig, SamplingConfig, TreeConfig
from backend.presets import PRESETS, default_preset_for, preset, sampling_with_seed


def test_the_paper_preset_is_the_authors_settings():
    paper = preset("paper")
    s = paper.sampling
    assert (s.temperature, s.top_p, s.repetition_penalty, s.max_new_tokens, s.preset) == (0.7, 0.8, 1.0, None, "paper")
    assert (paper.rating_mode, paper.criticism_samples, paper.rating_retries) == ("drop", 5, 4)
    assert paper.rsft_reference_mix is True and paper.templates == "default"


def test_the_cpu_demo_preset_caps_and_penalises_for_the_small_model():
    demo = preset("cpu-demo")
    s = demo.sampling
    assert (s.max_new_tokens, s.repetition_penalty, s.preset) == (256, 1.1, "cpu-demo")
    assert (demo.rating_mode, demo.templates) == ("constrained", "small-model")


def test_default_preset_by_model():
    assert default_preset_for(EMBEDDED_MODEL).name == "cpu-demo"
    assert default_preset_for("/models/Llama-3-8B-Instruct").name == "paper"
    assert default_preset_for("meta-llama/Meta-Llama-3-8B-Instruct").name == "paper"
    with pytest.raises(ValueError, match="paper, cpu-demo"):
        preset("fast")
    assert set(PRESETS) == {"paper", "cpu-demo"}


def test_sampling_config_says_no_cap_and_records_its_preset():
    seeded = sampling_with_seed(preset("paper"), 7)
    assert seeded.to_dict() == {"temperature": 0.7, "top_p": 0.8, "max_new_tokens": None, "repetition_penalty": 1.0,
                                "seed": 7, "preset": "paper"}
    assert SamplingConfig.from_dict(seeded.to_dict()) == seeded
    with pytest.raises(ValueError, match="or None for no cap"):
        SamplingConfig(max_new_tokens=0)


def test_the_paper_samples_a_criticism_five_times_in_all():
    assert TreeConfig().rating_retries == 4      # re-samples after the first: 5 samples, then drop


def test_rule_set_names_every_departure_from_the_paper():
    assert PairConfig().rule_set == "paper"
    assert PairConfig(degeneration="whitespace-tokens", template_guard=True).rule_set == (
        "paper+whitespace-tokens+template-guard")
    with pytest.raises(ValueError, match="degeneration must be one of"):
        PairConfig(degeneration="strict")


@pytest.mark.parametrize("name", ["backend.presets", "backend.config", "backend.io.importers.common"])
def test_docstring_examples(name):
    import doctest
    import importlib

    assert doctest.testmod(importlib.import_module(name)).failed == 0

"""Every check of the config dataclasses (backend/config.py) and of the presets (backend/presets.py):
a bad value is refused with a message that names the setting and says what to do, keyed by the field a
person has to change (the Settings dialog shows it there); good values pass."""

import pytest

from backend.avr.templates import DEFAULT_TEMPLATES, SMALL_MODEL_TEMPLATES
from backend.config import (
    EMBEDDED_MODEL,
    ChainConfig,
    ConfigError,
    ModelSpec,
    PairConfig,
    SamplingConfig,
    ScorerSpec,
    TreeConfig,
)
from backend.domain import Templates
from backend.presets import default_preset_for, preset, resolve_preset

CHECKS = [
    # SamplingConfig
    (SamplingConfig, {"temperature": -1}, "temperature", "temperature must be >= 0 (use 0 for greedy decoding)"),
    (SamplingConfig, {"top_p": 0}, "top_p", "top_p must be in (0, 1]; the paper uses 0.8"),
    (SamplingConfig, {"top_p": 1.5}, "top_p", "top_p must be in (0, 1]; the paper uses 0.8"),
    (SamplingConfig, {"max_new_tokens": 0}, "max_new_tokens",
     "max_new_tokens must be at least 1, or None for no cap below the model's context"),
    (SamplingConfig, {"repetition_penalty": 0}, "repetition_penalty", "repetition_penalty must be > 0 (1.0 disables it)"),
    # ModelSpec
    (ModelSpec, {"engine": "llama.cpp"}, "engine",
     "engine must be one of ('transformers', 'openai', 'vllm'), not 'llama.cpp'"),
    (ModelSpec, {"rating_mode": "guess"}, "rating_mode",
     "rating_mode must be one of ('drop', 'constrained', 'none'), not 'guess'"),
    (ModelSpec, {"dtype": "int8"}, "dtype", "dtype must be float32, bfloat16 or float16"),
    (ModelSpec, {"engine": "openai"}, "base_urls",
     "the openai engine needs at least one base URL (e.g. http://127.0.0.1:8000/v1)"),
    (ModelSpec, {"base_urls": ["localhost:8000/v1"]}, "base_urls",
     "a base URL starts with http:// or https://, not 'localhost:8000/v1'"),
    (ModelSpec, {"timeout_s": 0}, "timeout_s", "timeout_s must be a number of seconds above 0"),
    (ModelSpec, {"max_concurrency": 0}, "max_concurrency", "max_concurrency must be at least 1"),
    (ModelSpec, {"batch_size": 0}, "batch_size", "batch_size must be at least 1"),
    (ModelSpec, {"threads": -1}, "threads", "threads must be 0 (automatic) or a positive number of CPU threads"),
    # ScorerSpec
    (ScorerSpec, {"kind": "oracle"}, "kind",
     "scorer kind must be one of ('classifier', 'server', 'likelihood', 'relevance'), not 'oracle'"),
    (ScorerSpec, {"kind": "server"}, "base_url", "a server scorer needs base_url (e.g. http://127.0.0.1:8001)"),
    (ScorerSpec, {"base_url": "127.0.0.1:8001"}, "base_url",
     "base_url starts with http:// or https://, not '127.0.0.1:8001'"),
    (ScorerSpec, {"batch_size": 0}, "batch_size", "batch_size must be at least 1"),
    (ScorerSpec, {"max_length": 1}, "max_length", "max_length must be at least 2 tokens (a prompt and an answer)"),
    # TreeConfig
    (TreeConfig, {"criticisms": 0}, "criticisms", "a tree needs at least 1 criticism and 1 improvement per criticism"),
    (TreeConfig, {"improvements": 0}, "improvements",
     "a tree needs at least 1 criticism and 1 improvement per criticism"),
    (TreeConfig, {"rating_retries": -1}, "rating_retries",
     "rating_retries must be >= 0 (0: one sample per criticism, no re-sample)"),
    # PairConfig
    (PairConfig, {"max_growth_chars": -1}, "max_growth_chars", "length filter values must be positive"),
    (PairConfig, {"max_growth_ratio": 0}, "max_growth_ratio", "length filter values must be positive"),
    (PairConfig, {"degeneration_repeats": 1}, "degeneration_repeats", "degeneration_repeats must be at least 2"),
    (PairConfig, {"degeneration": "strict"}, "degeneration",
     "degeneration must be one of ('paper', 'whitespace-tokens'), not 'strict'"),
    # ChainConfig
    (ChainConfig, {"rounds": 0}, "rounds", "rounds must be at least 1"),
    (ChainConfig, {"start": "first"}, "start", "start must be one of reference, best, sample, not 'first'"),
]


@pytest.mark.parametrize(("config", "values", "field", "message"), CHECKS,
                         ids=[f"{c.__name__}-{f}-{v}" for c, v, f, _ in CHECKS])
def test_each_check_names_its_field_and_says_what_to_do(config, values, field, message):
    assert config.problems_of(values) == {field: message}
    with pytest.raises(ConfigError) as refused:
        config(**values)
    assert str(refused.value) == message and isinstance(refused.value, ValueError)


@pytest.mark.parametrize("config", [SamplingConfig, ModelSpec, ScorerSpec, TreeConfig, PairConfig, ChainConfig])
def test_the_defaults_pass_every_check(config):
    assert config.problems_of({}) == {}


def test_every_bad_field_is_reported_at_once_and_the_first_is_the_message():
    problems = SamplingConfig.problems_of({"temperature": -1, "top_p": 2, "max_new_tokens": 0})
    assert list(problems) == ["temperature", "top_p", "max_new_tokens"]
    with pytest.raises(ConfigError, match="^temperature must be >= 0"):
        SamplingConfig(temperature=-1, top_p=2)


def test_good_edge_values_pass():
    assert SamplingConfig.problems_of({"temperature": 0, "top_p": 1, "max_new_tokens": None}) == {}
    assert ModelSpec.problems_of({"engine": "openai", "base_urls": ["https://example.org/v1"], "threads": 0}) == {}
    assert ScorerSpec.problems_of({"kind": "relevance", "model": ""}) == {}  # "" is the bundled MiniLM
    assert TreeConfig.problems_of({"rating_retries": 0}) == {}


def test_unknown_settings_from_a_file_are_refused_by_name():
    with pytest.raises(ValueError, match=r"SamplingConfig: unknown setting\(s\) \['temprature'\]"):
        SamplingConfig.from_dict({"temprature": 0.7})


# -- presets ------------------------------------------------------------------------------------------
def test_an_unknown_preset_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown preset 'fast'; choose one of paper, cpu-demo"):
        preset("fast")
    with pytest.raises(ValueError, match="unknown preset 'fast'"):
        resolve_preset("fast", EMBEDDED_MODEL)


def test_the_embedded_model_by_either_name_gets_the_cpu_demo_preset():
    assert default_preset_for("embedded").name == default_preset_for(EMBEDDED_MODEL).name == "cpu-demo"
    assert default_preset_for("/models/SmolLM2-135M-Instruct").name == "paper"  # a folder is not the bundled one


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"temperature": -1}, "temperature", "temperature must be >= 0 (use 0 for greedy decoding)"),
    ({"max_new_tokens": 0}, "max_new_tokens",
     "max_new_tokens must be at least 1, or None for no cap below the model's context"),
    ({"rating_mode": "guess"}, "rating_mode", "rating_mode must be one of ('drop', 'constrained', 'none'), not 'guess'"),
    ({"criticism_samples": 0}, "criticism_samples", "criticism_samples must be a whole number of at least 1 (the paper "
                                                    "samples a criticism up to 5 times for a rating), not 0"),
    ({"criticism_samples": "5"}, "criticism_samples", "criticism_samples must be a whole number of at least 1 (the "
                                                      "paper samples a criticism up to 5 times for a rating), not '5'"),
    ({"templates": "poetic"}, "templates", "templates must be 'project' or one of default, small-model, not 'poetic'"),
    ({"templates": "project"}, "templates", "templates 'project' needs a project; choose default or small-model"),
    ({"seed": 3}, "seed", "seed is not a preset setting; the settings are temperature, top_p, max_new_tokens, "
                          "repetition_penalty, rating_mode, criticism_samples, templates"),
])
def test_each_preset_override_is_checked(overrides, field, message):
    with pytest.raises(ConfigError) as refused:
        resolve_preset("paper", "/models/m", overrides)
    assert refused.value.problems == {field: message}


def test_overrides_equal_to_the_preset_are_no_change_and_others_are_named():
    same = resolve_preset("paper", "/models/m", {"temperature": 0.7, "max_new_tokens": None, "rating_mode": "drop",
                                                 "templates": "default"})
    assert (same.label, same.changed) == ("paper", {})
    changed = resolve_preset("paper", "/models/m", {"max_new_tokens": 512, "criticism_samples": 3,
                                                    "templates": "small-model"})
    assert changed.label == "paper+custom(max_new_tokens=512, criticism_samples=3, templates=small-model)"
    assert (changed.sampling.max_new_tokens, changed.rating_retries, changed.templates) == (512, 2, SMALL_MODEL_TEMPLATES)
    assert changed.sampling.repetition_penalty == 1.0  # what was not changed stays the paper's


def test_a_projects_edited_templates_win_over_the_presets_and_are_recorded():
    edited = Templates.make("Judge it. Rating: [[k]]", "Fix it.", name="default")
    settings = resolve_preset("cpu-demo", EMBEDDED_MODEL, project_templates=edited)
    assert settings.templates == edited and settings.label == "cpu-demo+custom(templates=project)"
    # a project on the built-in wording keeps the preset's own templates
    assert resolve_preset("cpu-demo", EMBEDDED_MODEL, project_templates=DEFAULT_TEMPLATES).templates \
        == SMALL_MODEL_TEMPLATES
    assert resolve_preset("cpu-demo", EMBEDDED_MODEL, {"templates": "default"},
                          project_templates=edited).templates == DEFAULT_TEMPLATES  # asked for by name

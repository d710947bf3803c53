"""TrainingConfig: presets fill what was left empty, explicit values win, bad values say how to fix them."""

import doctest
import importlib
import subprocess
import sys

import pytest

from backend.config import EMBEDDED_MODEL
from backend.training.config import TrainingConfig, preset_defaults, with_preset

LIGHT = ["config", "splits", "evaluation", "events", "run_folder", "estimate", "snapshot", "runs", "chat_masks",
         "trainer", "sft", "dpo", "reward", "models", "launch"]


def test_presets_fill_only_empty_fields():
    filled = with_preset(TrainingConfig(stage="rsft", preset="gpu-full", learning_rate=3e-6))
    assert filled.learning_rate == 3e-6  # explicit wins
    assert (filled.lora, filled.precision, filled.device, filled.batch_size) == (False, "bfloat16", "cuda", 2)
    assert with_preset(TrainingConfig(stage="dpo", preset="gpu-full")).learning_rate == 5e-7
    assert with_preset(TrainingConfig(stage="reward")).lora is True
    assert with_preset(filled) == filled  # filling twice changes nothing


def test_defaults_follow_the_paper_and_llamafactory():
    config = TrainingConfig()
    assert (config.base, config.beta, config.sft_loss_turns, config.preset) == (EMBEDDED_MODEL, 0.1, "all", "cpu-small")


def test_round_trip_through_a_dict():
    config = with_preset(TrainingConfig(stage="dpo", pair_kinds=["response", "edit"], lora_targets=["q_proj"]))
    assert TrainingConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(("field", "value", "hint"), [
    ("stage", "ppo", "stage must be one of"),
    ("preset", "huge", "preset must be one of"),
    ("beta", 0.0, "beta must be > 0"),
    ("sft_loss_turns", "first", "'all'"),
    ("pair_kinds", ["response", "long_thought"], "pair_kinds"),
    ("base", "run:", "needs a run id"),
    ("max_length", 8, "at least 16"),
    ("heldout_fraction", 1.0, "[0, 1)"),
])
def test_bad_values_say_how_to_fix_them(field, value, hint):
    with pytest.raises(ValueError, match=hint.replace("(", r"\(").replace("[", r"\[").replace(")", r"\)")):
        TrainingConfig(**{field: value})


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="unknown setting"):
        TrainingConfig.from_dict({"stage": "rsft", "lr": 1e-4})


def test_preset_defaults_for_the_panel():
    assert preset_defaults("cpu-small", "reward")["learning_rate"] == 1e-4
    with pytest.raises(ValueError):
        preset_defaults("nope", "rsft")


@pytest.mark.parametrize("name", ["config", "splits", "evaluation", "estimate", "snapshot"])
def test_docstring_examples(name):
    module = importlib.import_module(f"backend.training.{name}")
    assert doctest.testmod(module).failed == 0


def test_training_modules_import_without_heavy_packages():
    """The GUI and CLI import these to plan runs; torch and friends load only when training starts."""
    code = ("import importlib, sys\n"
            f"for name in {LIGHT!r}: importlib.import_module('backend.training.' + name)\n"
            "print(','.join(m for m in ('torch', 'transformers', 'trl', 'peft', 'datasets', 'accelerate') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""

"""The estimate before the click: this project's own measured speed when a finished run of the same setup
has one, the typical speed otherwise, and no figure for a setup nobody measured."""

from datetime import UTC, datetime

from backend.domain import Run
from backend.training.config import TrainingConfig, with_preset
from backend.training.estimate import MEASURED_TOKENS_PER_SECOND, estimate_time
from backend.training.snapshot import DataCounts

COUNTS = DataCounts(stage="dpo", train_rows=20, mean_tokens=300.0)


def _run(run_id, speed, base="embedded:smollm2-135m-instruct", stage="dpo", preset="cpu-small", hour=1):
    return Run(run_id, stage, {"preset": preset}, "hash", "finished", f"runs/{run_id}",
               created_at=datetime(2026, 1, 1, hour, tzinfo=UTC), base=base,
               metrics={"train_tokens_per_second": speed})


def test_a_finished_run_of_the_same_setup_gives_the_speed():
    config = with_preset(TrainingConfig(stage="dpo"))  # batch 1 x 2: 10 steps of 2 rows of 300 tokens
    past = [_run("old", 100.0, hour=1), _run("new", 200.0, hour=2), _run("other-base", 1.0, base="/models/x"),
            _run("sft", 1.0, stage="rsft")]
    estimate = estimate_time(config, COUNTS, past)
    assert estimate.steps == 10 and estimate.seconds == 10 * 2 * 300 / 200.0
    assert "run new" in estimate.source and "run new" in estimate.describe()


def test_without_a_past_run_the_typical_speed_is_used():
    config = with_preset(TrainingConfig(stage="dpo"))
    estimate = estimate_time(config, COUNTS, [_run("other-base", 1.0, base="/models/x")])
    assert estimate.seconds == 10 * 2 * 300 / MEASURED_TOKENS_PER_SECOND[("cpu-small", "dpo")]


def test_an_unmeasured_setup_has_steps_but_no_time():
    config = with_preset(TrainingConfig(stage="dpo", preset="gpu-lora"))
    estimate = estimate_time(config, COUNTS)
    assert estimate.seconds is None and estimate.steps == 4  # ceil(ceil(20 / 4) / 4) x 2 epochs
    assert "first gpu-lora run will measure it" in estimate.describe()

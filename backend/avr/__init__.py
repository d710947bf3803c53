"""The AvR method as pure functions over plain dataclasses: templates, ratings, trees, rewards,
expansion plans, Stage I pairs, Stage II chains and long thoughts. No I/O, no model, stdlib only.
"""

from backend.avr.chain import (
    GreedyOutcome,
    GreedyPath,
    accept_step,
    best_improvement,
    closing_criticism,
    greedy_outcome,
    greedy_path,
)
from backend.avr.filters import degeneration_check, is_degenerate, passes_length_filter
from backend.avr.long_thought import (
    LongThought,
    extract_final_answer,
    format_long_thought,
    parse_long_thought,
)
from backend.avr.pairs import Stage1Data, build_stage1
from backend.avr.plan import PlannedStep, missing_steps
from backend.avr.ranking import VERDICT_RANK, rank_key, verdict_rank
from backend.avr.ratings import RATING_PREFIX, parse_rating
from backend.avr.rewards import NodeReward, best_refinement, criticism_value, gain, node_rewards
from backend.avr.stage2 import choose_long_thought_pair, long_thought_pair, long_thought_sample
from backend.avr.templates import (
    BUILTIN_TEMPLATES,
    DEFAULT_TEMPLATES,
    SMALL_MODEL_TEMPLATES,
    criticize_messages,
    improve_messages,
    respond_messages,
    validate_templates,
)
from backend.avr.tree import TreeNode, build_trees, first_response

__all__ = [
    "BUILTIN_TEMPLATES", "DEFAULT_TEMPLATES", "RATING_PREFIX", "SMALL_MODEL_TEMPLATES",
    "GreedyOutcome", "GreedyPath", "LongThought", "NodeReward", "PlannedStep", "Stage1Data", "TreeNode",
    "VERDICT_RANK", "accept_step", "best_improvement", "closing_criticism",
    "degeneration_check", "greedy_outcome", "greedy_path", "rank_key", "verdict_rank", "best_refinement", "build_stage1", "build_trees", "choose_long_thought_pair",
    "criticism_value", "criticize_messages", "extract_final_answer", "first_response",
    "format_long_thought", "gain", "improve_messages", "is_degenerate", "long_thought_pair",
    "long_thought_sample", "missing_steps", "node_rewards", "parse_long_thought", "parse_rating",
    "passes_length_filter", "respond_messages", "validate_templates",
]

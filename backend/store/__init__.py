"""The project database: the only package that imports duckdb. Start at `Store`."""

from backend.store.store import Store
from backend.store.summaries import PromptFilter, PromptSummary

__all__ = ["Store", "PromptFilter", "PromptSummary"]

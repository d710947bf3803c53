"""The first-run demo project at `<data_dir>/demo-project`: the bundled prompts, the pre-generated
trees when they ship, and the prompts that still need a tree (the app grows a few in the background).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from backend.paths import data_dir
from backend.resources import RESOURCES_DIR

DEMO_PROJECT_NAME = "demo-project"
MIN_DEMO_TREES = 8  # below this many trees the app grows more on the embedded model
DEMO_JOB_PROMPTS = 4  # prompts per first-run Stage I job: a few minutes on two CPU cores


@dataclass
class DemoSetup:
    store: object  # backend.store.Store
    created: bool
    prompts_added: int = 0
    trees_nodes_added: int = 0


def demo_project_dir() -> Path:
    return data_dir() / DEMO_PROJECT_NAME


def default_prompts_file() -> Path:
    return RESOURCES_DIR / "demo" / "prompts.jsonl"


def default_trees_file() -> Path:
    return RESOURCES_DIR / "demo" / "trees.jsonl"


def open_or_create_demo_project(project_dir: Path | None = None, prompts_file: Path | None = None,
                                trees_file: Path | None = None) -> DemoSetup:
    """Open the demo project, creating and filling it on first run. May raise ProjectLockedError.

    The project is filled in a side folder and renamed into place at the end, so a crash during
    the first run never leaves a half-filled demo project that later starts would take as done.
    """
    import shutil

    from backend.store import Store

    project_dir = project_dir or demo_project_dir()
    if Store.is_project(project_dir):
        return DemoSetup(store=Store.open(project_dir), created=False)
    staging = project_dir.with_name(project_dir.name + ".creating")
    shutil.rmtree(staging, ignore_errors=True)
    setup = DemoSetup(store=Store.create(staging), created=True)
    try:
        setup.prompts_added = import_demo_prompts(setup.store, prompts_file or default_prompts_file())
        trees = trees_file or default_trees_file()
        if trees.is_file():  # their pairs are built as they are stored, so exports start filled
            setup.trees_nodes_added = import_journal_file(setup.store, trees)
    finally:
        setup.store.close()
    if project_dir.is_dir() and not any(project_dir.iterdir()):
        project_dir.rmdir()  # an empty folder left by hand must not block the rename
    staging.rename(project_dir)
    setup.store = Store.open(project_dir)
    return setup


def import_demo_prompts(store, prompts_file: Path) -> int:
    from backend.io.importers import import_file

    before = store.count_prompts()
    import_file(store, prompts_file, format="prompts")
    return store.count_prompts() - before


def import_journal_file(store, path: Path) -> int:
    """Add the nodes, scores and chains of a file in the worker's journal record format (what
    `backend.worker.ingest` reads), and their pairs; idempotent by id. Returns nodes added."""
    from backend.worker.ingest import store_records

    with path.open(encoding="utf-8") as handle, store.transaction():
        records = (json.loads(line) for line in handle if line.strip())
        return store_records(store, records).nodes_added


def tree_count(store) -> int:
    """How many prompts have at least one response (a tree root)."""
    return int(store.node_counts_by_kind().get("response", 0))


def prompts_without_trees(store, limit: int) -> list[str]:
    """Up to `limit` prompts whose Stage I tree is missing or unfinished: half-grown ones first (an
    interrupted job's, in file order), then those with none (`backend.curation.growth`)."""
    from backend.curation.growth import prompts_to_grow as unfinished_first

    return unfinished_first(store, limit)


def prompts_to_grow(store, min_trees: int | None = None, per_job: int | None = None) -> list[str]:
    """Prompts for a first-run Stage I job: none when the project already has `min_trees` trees
    (default MIN_DEMO_TREES), else up to `per_job` (default DEMO_JOB_PROMPTS) prompts without one."""
    if tree_count(store) >= (MIN_DEMO_TREES if min_trees is None else min_trees):
        return []
    return prompts_without_trees(store, DEMO_JOB_PROMPTS if per_job is None else per_job)

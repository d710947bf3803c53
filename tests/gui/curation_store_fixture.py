"""A small hand-built project for the curation panels' tests: three prompts, two scored trees.

P1 "baking soda": response r (0.5) → c1 (rating 6) → i11 (0.9), i12 (0.7); c2 (rating 4) → i21 (0.3), i22 (0.4)
    best reward 0.9, best Δ +0.4, 2 improving; r(c1) = 0.8, r(c2) = 0.35.
P2 "photosynthesis": response s (0.6) → d1 → j11 (0.2), j12 (0.1); best reward 0.6, best Δ −0.4, 0 improving.
P3 "haiku": no nodes (state 'new').
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backend.curation.derived import refresh_pairs
from backend.domain import Node, Prompt, Score
from backend.store import Store

SCORER = "likelihood:test"
T0 = datetime(2026, 1, 1, tzinfo=UTC)

TEXTS = {
    "r": "Baking soda cleans ovens. It also removes smells from the fridge.",
    "c1": "The answer is short and gives no detail on how to use it.\nRating: [[6]]",
    "c2": "The answer is fine but could mention cooking.\nRating: [[4]]",
    "i11": "Baking soda cleans ovens when mixed with water. It also absorbs smells in the fridge.",
    "i12": "Baking soda cleans ovens. It also removes smells from shoes.",
    "i21": "Baking soda is used in baking.",
    "i22": "Baking soda helps cakes rise and cleans ovens.",
    "s": "Plants turn light, water and carbon dioxide into sugar and oxygen.",
    "d1": "Too brief.\nRating: [[3]]",
    "j11": "Plants make food.",
    "j12": "Photosynthesis.",
}


@dataclass
class CurationProject:
    store: Store
    p1: str
    p2: str
    p3: str


def _node(node_id: str, prompt_id: str, kind: str, parent: str | None, minute: int,
          rating: int | None = None) -> Node:
    # Explicit times keep children in a known order (build_trees sorts siblings by created_at).
    return Node(id=node_id, prompt_id=prompt_id, kind=kind, text=TEXTS[node_id], parent_id=parent,
                template_version=None, model="tiny-test", self_rating=rating,
                created_at=T0 + timedelta(minutes=minute))


_TEMPLATE: dict[str, Path] = {}  # built once per test session, copied for each test (migrations are slow)


def build_curation_project(tmp_path: Path) -> CurationProject:
    """A fresh copy of the hand-built project in `tmp_path / "project"`; the caller closes its store."""
    if "dir" not in _TEMPLATE:
        template_root = tempfile.mkdtemp(prefix="avr-curation-template-")
        atexit.register(shutil.rmtree, template_root, ignore_errors=True)
        template_dir = Path(template_root) / "project"
        _build(template_dir).store.close()
        _TEMPLATE["dir"] = template_dir
    shutil.copytree(_TEMPLATE["dir"], tmp_path / "project")
    store = Store.open(tmp_path / "project")
    p1, p2, p3 = (Prompt.from_text(text).id for text in PROMPT_TEXTS)
    return CurationProject(store, p1, p2, p3)


PROMPT_TEXTS = ("Name two uses of baking soda.", "Explain photosynthesis briefly.", "Write a haiku about rain.")


def _build(project_dir: Path) -> CurationProject:
    store = Store.create(project_dir)
    prompts = [Prompt.from_text(text) for text in PROMPT_TEXTS]
    store.add_prompts(prompts)
    p1, p2, p3 = (p.id for p in prompts)
    store.add_nodes([
        _node("r", p1, "response", None, 0),
        _node("c1", p1, "criticism", "r", 1, 6), _node("c2", p1, "criticism", "r", 2, 4),
        _node("i11", p1, "improvement", "c1", 3), _node("i12", p1, "improvement", "c1", 4),
        _node("i21", p1, "improvement", "c2", 5), _node("i22", p1, "improvement", "c2", 6),
        _node("s", p2, "response", None, 7), _node("d1", p2, "criticism", "s", 8, 3),
        _node("j11", p2, "improvement", "d1", 9), _node("j12", p2, "improvement", "d1", 10),
    ])
    values = {"r": 0.5, "i11": 0.9, "i12": 0.7, "i21": 0.3, "i22": 0.4, "s": 0.6, "j11": 0.2, "j12": 0.1}
    store.add_scores([Score(node_id, SCORER, value) for node_id, value in values.items()])
    refresh_pairs(store, [p1, p2, p3])  # as every writer of trees does (backend/curation/derived.py)
    return CurationProject(store, p1, p2, p3)


def many_prompts_store(tmp_path: Path, n: int) -> Store:
    store = Store.create(tmp_path / "many")
    store.add_prompts([Prompt.from_text(f"Prompt number {i:04d}") for i in range(n)])
    return store

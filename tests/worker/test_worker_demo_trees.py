"""The shipped pre-generated demo trees (resources/demo/trees.jsonl, made by scripts/make_demo_trees):
whole trees of the first demo prompts, scored twice, that the first-run import takes in full."""

import json
from collections import Counter, defaultdict

import pytest

from backend import protocol
from backend.domain import Node, Score, prompt_id_for
from backend.resources import RESOURCES_DIR

TREES = RESOURCES_DIR / "demo" / "trees.jsonl"
PROMPTS = RESOURCES_DIR / "demo" / "prompts.jsonl"
DEMO_TREES = 24  # the first 24 prompts of prompts.jsonl (resources/demo/README.md)


@pytest.fixture(scope="module")
def shipped():
    objects = [protocol.record_to_object(json.loads(line)) for line in TREES.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    assert all(isinstance(o, Node | Score) for o in objects)  # nothing else belongs in the demo file
    nodes = {o.id: o for o in objects if isinstance(o, Node)}
    scores = [o for o in objects if isinstance(o, Score)]
    return nodes, scores


def test_the_demo_file_is_small_enough_to_ship():
    assert TREES.stat().st_size < 1_000_000


def test_every_tree_belongs_to_one_of_the_first_demo_prompts_and_is_whole(shipped):
    nodes, _ = shipped
    lines = [json.loads(line)["prompt"] for line in PROMPTS.read_text(encoding="utf-8").splitlines()]
    assert {n.prompt_id for n in nodes.values()} == {prompt_id_for(text) for text in lines[:DEMO_TREES]}
    by_prompt = defaultdict(Counter)
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        assert node.parent_id is None or parent is not None, f"{node.id} has no parent in the file"
        assert (node.kind, parent and parent.kind) in {("response", None), ("criticism", "response"),
                                                       ("improvement", "criticism")}
        assert parent is None or parent.prompt_id == node.prompt_id
        assert node.text.strip() and node.round == 0
        by_prompt[node.prompt_id][node.kind] += 1
    for counts in by_prompt.values():
        assert counts["response"] == 1 and counts["criticism"] >= 1 and counts["improvement"] >= counts["criticism"]


def test_every_answer_is_scored_by_two_scorers(shipped):
    nodes, scores = shipped
    scorers = {s.scorer for s in scores}
    assert sorted(s.split(":")[0] for s in scorers) == ["likelihood", "relevance"]
    scored = Counter((s.node_id, s.scorer) for s in scores)
    answers = [n.id for n in nodes.values() if n.kind in ("response", "improvement")]
    assert set(scored) == {(node_id, scorer) for node_id in answers for scorer in scorers}
    assert set(scored.values()) == {1}


def test_a_fresh_project_imports_every_node_and_score(tmp_path, shipped):
    from avr_studio.demo import import_demo_prompts, import_journal_file
    from backend.store import Store

    nodes, scores = shipped
    with Store.create(tmp_path / "demo") as store:
        import_demo_prompts(store, PROMPTS)
        assert import_journal_file(store, TREES) == len(nodes)
        assert sum(store.node_counts_by_kind().values()) == len(nodes)
        assert set(store.scorers()) == {s.scorer for s in scores}
        prompt_ids = {n.prompt_id for n in nodes.values()}
        stored = sum(len(store.scores_for_prompt(pid, scorer)) for pid in prompt_ids for scorer in store.scorers())
        assert stored == len(scores)
        assert import_journal_file(store, TREES) == 0  # a second start adds nothing

"""Grow Trees takes half-grown trees first, then prompts with no tree, each in the order they were
added; complete trees never; a prompt with only an imported bare answer still gets a tree."""

from __future__ import annotations

from backend.config import TreeConfig
from backend.curation.growth import count_prompts_to_grow, prompts_to_grow
from backend.domain import IMPORTED_MODEL, Node, Prompt


def tree(prompt_id: str, criticisms: int, improvements_each: int, tag: str = "") -> list[Node]:
    root = Node(f"{prompt_id}-r{tag}", prompt_id, "response", "answer")
    nodes = [root]
    for c in range(criticisms):
        crit = Node(f"{prompt_id}-c{c}{tag}", prompt_id, "criticism", f"criticism {c}", parent_id=root.id)
        nodes.append(crit)
        nodes += [Node(f"{prompt_id}-c{c}-i{i}{tag}", prompt_id, "improvement", "better", parent_id=crit.id)
                  for i in range(improvements_each)]
    return nodes


def test_half_grown_first_then_new_in_file_order_and_never_complete(store):
    prompts = [Prompt(f"p{i}", f"Question {i}") for i in range(7)]
    store.add_prompts(prompts)
    store.add_nodes([*tree("p0", 2, 2),                      # complete
                     *tree("p1", 0, 0),                      # an answer only
                     *tree("p3", 2, 1),                      # improvements missing
                     *tree("p4", 1, 2),                      # a criticism missing
                     Node("p5-imported", "p5", "response", "data", model=IMPORTED_MODEL)])  # not a root to grow
    # p2, p6: nothing yet
    assert prompts_to_grow(store, 10) == ["p1", "p3", "p4", "p5", "p2", "p6"]
    assert prompts_to_grow(store, 2) == ["p1", "p3"]
    assert count_prompts_to_grow(store) == 6
    # with one criticism and one improvement each, p3 and p4 are complete too
    assert prompts_to_grow(store, 10, TreeConfig(criticisms=1, improvements=1)) == ["p1", "p5", "p2", "p6"]


def test_a_complete_project_has_nothing_to_grow(store):
    store.add_prompts([Prompt("p0", "Question")])
    store.add_nodes(tree("p0", 2, 2))
    assert prompts_to_grow(store, 5) == [] and count_prompts_to_grow(store) == 0

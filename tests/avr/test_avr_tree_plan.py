"""Nesting stored nodes into trees, and the Stage I expansion plan for resumable generation."""

from dataclasses import replace

from backend.avr.plan import PlannedStep, missing_steps
from backend.config import TreeConfig
from tests.avr.avr_tree_factory import TreeFactory, baking_soda_tree

TREE = TreeConfig(criticisms=2, improvements=2)


def _shape(node):
    return (node.id, [_shape(child) for child in node.children])


def test_build_trees_nests_sorts_and_applies_edits():
    f = (TreeFactory()
         .add("y", "response", "answer", score=0.5)
         .add("c-b", "criticism", "crit b", "y")
         .add("i", "improvement", "better", "c-b", score=1.0, verdict="accept", edited="better, edited")
         .add("c2", "criticism", "stage II crit", "i", round=1)
         .add("i2", "improvement", "stage II answer", "c2", round=1)
         .add("lt", "long_thought", "a long thought")
         .add("orphan", "improvement", "parent missing", "nowhere"))
    # Same created_at for two siblings: the id breaks the tie.
    f.nodes.insert(0, replace(f.nodes[1], id="c-a", text="crit a"))
    roots = f.roots()
    assert [_shape(r) for r in roots] == [
        ("y", [("c-a", []), ("c-b", [("i", [("c2", [("i2", [])])])])]),
        ("lt", []),
    ]
    assert [n.id for n in roots[0].walk()] == ["y", "c-a", "c-b", "i", "c2", "i2"]
    improvement = roots[0].children[1].children[0]
    assert (improvement.text, improvement.node.text) == ("better, edited", "better")
    assert (improvement.verdict, improvement.is_edited, improvement.score, improvement.kind) == (
        "accept", True, 1.0, "improvement")
    assert roots[0].score == 0.5 and roots[0].verdict is None and not roots[0].is_edited
    assert roots[0].children[0].score is None


def test_an_edit_equal_to_the_original_is_not_an_edit():
    [root] = TreeFactory().add("y", "response", "same", edited="same").roots()
    assert not root.is_edited and root.text == "same"


def test_plan_for_an_empty_prompt_is_one_response():
    assert missing_steps("p", [], TREE) == [PlannedStep("respond", "p", None, 1)]
    other_prompt = TreeFactory(prompt_id="q").add("y", "response", "a").roots()
    assert missing_steps("p", other_prompt, TREE) == [PlannedStep("respond", "p", None, 1)]


def test_plan_for_a_partial_tree():
    roots = (TreeFactory()
             .add("y", "response", "a")
             .add("c1", "criticism", "c", "y", verdict="reject")   # rejected still counts as generated
             .add("i11", "improvement", "i", "c1")
             .roots())
    assert missing_steps("p", roots, TREE) == [
        PlannedStep("criticize", "p", "y", 1),
        PlannedStep("improve", "p", "c1", 1),
    ]
    assert missing_steps("p", roots, TreeConfig(criticisms=1, improvements=3)) == [
        PlannedStep("improve", "p", "c1", 2),
    ]


def test_plan_for_a_complete_tree_is_empty_and_looks_at_the_first_response_only():
    f = baking_soda_tree()
    assert missing_steps("p", f.roots(), TREE) == []
    # A later response, and Stage II nodes (round 1) under an improvement, change nothing.
    f.add("y-later", "response", "another").add("c9", "criticism", "c", "i11", round=1)
    assert missing_steps("p", f.roots(), TREE) == []


def test_plan_ignores_stage_two_criticisms_of_the_response():
    roots = (TreeFactory()
             .add("y", "response", "a")
             .add("c-stage2", "criticism", "c", "y", round=1)
             .roots())
    assert missing_steps("p", roots, TREE) == [PlannedStep("criticize", "p", "y", 2)]


def test_the_stage1_tree_is_the_first_response_with_stage1_criticisms_and_never_an_imported_bare_answer():
    # An imported chain start (y0, Stage II criticisms only), then a Stage I tree grown from the policy.
    f = (TreeFactory()
         .add("y0", "response", "imported start").add("c-r1", "criticism", "c", "y0", round=1)
         .add("y", "response", "fresh answer").add("c1", "criticism", "c", "y"))
    f.change("y0", model="imported")
    assert missing_steps("p", f.roots(), TREE) == [PlannedStep("criticize", "p", "y", 1),
                                                   PlannedStep("improve", "p", "c1", 2)]
    # An imported answer alone is not grown: the policy answers first.
    bare = TreeFactory().add("y0", "response", "imported answer")
    bare.change("y0", model="imported")
    assert missing_steps("p", bare.roots(), TREE) == [PlannedStep("respond", "p", None, 1)]

"""Stage I data by the reward alone (DESIGN.md §1.3): RSFT sample, response / criticism / improvement
pairs, with their conditions and filters, on the hand-built 2×2 baking-soda tree.
"""

import pytest

from backend.avr.pairs import build_stage1
from backend.config import PairConfig
from backend.domain import Pair, SftSample, Templates
from tests.avr.avr_tree_factory import C1, C2, I11, I12, PROMPT, TreeFactory, Y, baking_soda_tree

TEMPLATES = Templates.make("JUDGE", "REVISE")


def stage1(factory, config=None, templates_for=lambda _version: TEMPLATES):
    return build_stage1(PROMPT, factory.roots(), templates_for, config or PairConfig())


def ask():
    return [{"role": "user", "content": PROMPT.text}]


def judge_context(y=Y, judge="JUDGE"):
    return [*ask(), {"role": "assistant", "content": y}, {"role": "user", "content": judge}]


def revise_context(c, y=Y, judge="JUDGE", revise="REVISE"):
    return [*judge_context(y, judge), {"role": "assistant", "content": c}, {"role": "user", "content": revise}]


def test_full_tree_gives_three_pairs_and_one_rsft_sample():
    data = stage1(baking_soda_tree())
    assert data.pairs == [
        Pair("response", "p", ask(), I11, Y, "reward", "i11", "y", 1.92, -0.12),
        Pair("criticism", "p", judge_context(), C1, C2, "reward", "c1", "c2",
             pytest.approx(1.665), pytest.approx(0.265)),
        Pair("improvement", "p", revise_context(C1), I11, I12, "reward", "i11", "i12", 1.92, 1.41),
    ]
    assert data.rsft == [
        SftSample("rsft", "p", [*revise_context(C1), {"role": "assistant", "content": I11}], ("y", "c1", "i11")),
    ]
    assert data.notes == []


def test_tied_criticism_values_give_no_criticism_pair():
    # r(c1) = (1.0 + 2.0) / 2 = r(c2) = (0.5 + 2.5) / 2 = 1.5; the earlier criticism stays the best one.
    data = stage1(baking_soda_tree(i11=1.0, i12=2.0, i21=0.5, i22=2.5))
    assert [(p.kind, p.chosen_node_id, p.rejected_node_id) for p in data.pairs] == [
        ("response", "i22", "y"), ("improvement", "i12", "i11")]
    assert data.notes == ["criticism pair: the best and worst values are tied"]
    assert data.rsft[0].node_ids == ("y", "c2", "i22")


def test_best_criticism_leading_only_below_the_answer_gives_no_criticism_pair():
    data = stage1(baking_soda_tree(y=3.0, i11=1.0, i12=2.0, i21=0.0, i22=1.0))
    assert [(p.kind, p.chosen_node_id, p.rejected_node_id) for p in data.pairs] == [("improvement", "i12", "i11")]
    assert data.rsft == []
    assert data.notes == [
        "response pair: the best refinement does not improve on the answer (Δ = -1)",
        "RSFT: the best refinement is neither accepted nor better than the answer by the reward",
        "criticism pair: no improvement under the best criticism scores at least the answer",
    ]
    # A child that only ties the answer (R ≥ R(y)) is enough for the criticism pair, not for Δ > 0.
    data = stage1(baking_soda_tree(y=2.0, i11=1.0, i12=2.0, i21=0.0, i22=1.0))
    assert [p.kind for p in data.pairs] == ["criticism", "improvement"]


def test_tied_improvements_give_no_improvement_pair():
    data = stage1(baking_soda_tree(i11=1.5, i12=1.5))
    assert [p.kind for p in data.pairs] == ["response", "criticism"]
    assert data.pairs[0].chosen_node_id == "i11"      # a tie for the best goes to the earlier node
    assert data.notes == ["improvement pair: the best and worst values are tied"]


def test_degenerate_improvement_is_treated_as_missing():
    degenerate = "soda " * 60
    data = stage1(baking_soda_tree(i11=5.0).change("i11", text=degenerate))
    assert [(p.kind, p.chosen_node_id, p.rejected_node_id) for p in data.pairs] == [
        ("response", "i12", "y"), ("criticism", "c1", "c2")]
    assert data.pairs[1].chosen_score == 1.41          # r(c1) averages its usable improvements only
    assert data.notes == ["improvement pair: fewer than two candidates"]
    assert data.rsft[0].node_ids == ("y", "c1", "i12")
    every_text = [t for p in data.pairs for t in (p.chosen, p.rejected, *(m["content"] for m in p.context))]
    assert degenerate not in every_text


def _tree_with_text(node_id, text):
    return baking_soda_tree().change(node_id, text=text)


def test_degenerate_answer_or_threshold_from_config():
    data = stage1(_tree_with_text("y", "!" * 60))
    assert (data.pairs, data.rsft) == ([], [])
    assert data.notes == ["the prompt or the answer is blank or degenerate: no Stage I data"]
    # With a threshold of 3, "soda soda soda" is degenerate; with the default it is fine.
    f = _tree_with_text("i11", "soda soda soda")
    assert stage1(f).pairs[0].chosen == "soda soda soda"
    assert stage1(f, PairConfig(degeneration_repeats=3)).pairs[0].chosen_node_id == "i12"


def test_length_filter_drops_the_rsft_sample_but_not_the_response_pair():
    long_refinement = I11 + " " + "x" * 500
    data = stage1(_tree_with_text("i11", long_refinement))
    assert data.rsft == []
    assert data.pairs[0] == Pair("response", "p", ask(), long_refinement, Y, "reward", "i11", "y", 1.92, -0.12)
    assert data.notes == [f"RSFT: the best refinement grows too much ({len(Y)} → {len(long_refinement)} chars)"]
    # Looser settings keep it.
    assert len(stage1(_tree_with_text("i11", long_refinement), PairConfig(max_growth_chars=600)).rsft) == 1


def test_unscored_nodes_give_no_reward_decided_data():
    data = stage1(baking_soda_tree(y=None, i11=None, i12=None, i21=None, i22=None))
    assert (data.pairs, data.rsft) == ([], [])
    assert data.notes == [
        "response pair: the answer or its best refinement is unscored",
        "RSFT: the best refinement is neither accepted nor better than the answer by the reward",
        "criticism pair: fewer than two scored candidates",
        "improvement pair: fewer than two scored candidates",
    ]
    partly = stage1(baking_soda_tree(i21=None, i22=None))
    assert [p.kind for p in partly.pairs] == ["response", "improvement"]
    assert partly.notes == ["criticism pair: fewer than two scored candidates"]


def test_only_the_first_response_tree_of_the_prompt_counts():
    f = baking_soda_tree()
    f.add("y2", "response", "A later answer.", score=-5.0).add("c9", "criticism", "c", "y2")
    f.add("c-r1", "criticism", "Stage II criticism of y", "y", round=1)
    assert stage1(f).pairs == stage1(baking_soda_tree()).pairs
    empty = stage1(TreeFactory(prompt_id="other").add("y", "response", "a", score=1.0))
    assert empty.notes == ["no response yet: generate the tree first"]


def test_contexts_use_the_templates_each_node_was_made_with():
    versions = {"v1": Templates.make("J1", "R1"), "v2": Templates.make("J2", "R2"), None: TEMPLATES}
    f = baking_soda_tree().change(["c1", "c2", "i11", "i12", "i21", "i22"], template_version="v1")
    data = stage1(f, templates_for=versions.__getitem__)
    assert data.pairs[1].context == judge_context(judge="J1")
    assert data.pairs[2].context == revise_context(C1, judge="J1", revise="R1")
    # Sibling criticisms from different JUDGE texts do not share a context: no pair between them.
    f.change("c2", template_version="v2")
    data = stage1(f, templates_for=versions.__getitem__)
    assert [p.kind for p in data.pairs] == ["response", "improvement"]
    assert data.notes == ["criticism pair: the two criticisms were generated with different JUDGE templates"]


def test_a_tree_without_improvements_yet():
    data = stage1(TreeFactory().add("y", "response", Y, score=0.0).add("c1", "criticism", C1, "y"))
    assert data.pairs == [] and data.rsft == []
    assert data.notes == ["response pair and RSFT: no usable improvement", "criticism pair: fewer than two candidates",
                          "improvement pair: fewer than two candidates"]


def test_siblings_with_the_same_text_make_no_pair():
    data = stage1(baking_soda_tree().change("i12", text=I11))
    assert [p.kind for p in data.pairs] == ["response", "criticism"]
    assert data.notes == ["improvement pair: chosen and rejected have the same text"]

"""Stage I data where a person spoke (DESIGN.md §1.5, backend/avr/person_rules.py): verdicts order
siblings before the reward, accepted nodes are never rejected, rejected nodes never chosen, edits
replace texts and add edit pairs. Expectations worked out by hand from those rules.
"""

import pytest

from backend.avr.pairs import build_stage1
from backend.config import PairConfig
from backend.domain import Pair, SftSample, Templates
from tests.avr.avr_tree_factory import C1, C2, I11, I12, I21, I22, PROMPT, Y, baking_soda_tree

TEMPLATES = Templates.make("JUDGE", "REVISE")
ASK = [{"role": "user", "content": PROMPT.text}]


def stage1(factory):
    return build_stage1(PROMPT, factory.roots(), lambda _version: TEMPLATES, PairConfig())


def summary(data):
    return [(p.kind, p.chosen_node_id, p.rejected_node_id, p.decided_by) for p in data.pairs]


def judge_context(y=Y):
    return [*ASK, {"role": "assistant", "content": y}, {"role": "user", "content": "JUDGE"}]


def revise_context(c, y=Y):
    return [*judge_context(y), {"role": "assistant", "content": c}, {"role": "user", "content": "REVISE"}]


def test_an_accepted_criticism_beats_a_better_scored_sibling():
    data = stage1(baking_soda_tree().judge("c2", "accept"))
    assert summary(data) == [
        ("response", "i11", "y", "reward"),
        ("criticism", "c2", "c1", "human"),
        ("improvement", "i22", "i21", "reward"),   # the improvement pair follows the best (accepted) criticism
    ]
    assert (data.pairs[1].chosen_score, data.pairs[1].rejected_score) == (pytest.approx(0.265), pytest.approx(1.665))
    assert data.rsft[0].node_ids == ("y", "c1", "i11")


def test_verdicts_flip_the_improvement_order_and_pick_the_rsft_target():
    data = stage1(baking_soda_tree().judge("i12", "accept").judge("i11", "reject"))
    assert summary(data) == [
        ("response", "i12", "y", "human"),
        ("criticism", "c1", "c2", "reward"),
        ("improvement", "i12", "i11", "human"),
    ]
    assert data.pairs[2] == Pair("improvement", "p", revise_context(C1), I12, I11, "human", "i12", "i11", 1.41, 1.92)
    assert data.rsft == [SftSample("rsft", "p", [*revise_context(C1), {"role": "assistant", "content": I12}],
                                   ("y", "c1", "i12"))]


def test_an_accept_wins_without_any_score():
    data = stage1(baking_soda_tree(y=None, i11=None, i12=None, i21=None, i22=None).judge("i21", "accept"))
    # No criticism has a value and no verdict: no criticism pair, so no criticism to pair improvements under.
    assert data.pairs == [Pair("response", "p", ASK, I21, Y, "human", "i21", "y", None, None)]
    assert data.rsft[0].node_ids == ("y", "c2", "i21")


def test_verdicts_override_the_papers_stops():
    # By the reward alone the tree stops at once (nothing reaches R(y) = 3.0); the person's accept of
    # c2 still makes the criticism pair, and under c2 the reward pairs i22 over i21.
    data = stage1(baking_soda_tree(y=3.0, i11=1.0, i12=2.0, i21=0.0, i22=1.0).judge("c2", "accept"))
    assert summary(data) == [("criticism", "c2", "c1", "human"), ("improvement", "i22", "i21", "reward")]
    assert data.rsft == []


def test_rejected_nodes_are_never_chosen():
    # y'* among the unrejected improvements: i22 (0.88 > R(y)); c2 beats the rejected c1.
    data = stage1(baking_soda_tree().judge("c1", "reject").judge("i11", "reject").judge("i12", "reject"))
    assert summary(data) == [
        ("response", "i22", "y", "reward"),
        ("criticism", "c2", "c1", "human"),
        ("improvement", "i22", "i21", "reward"),
    ]
    assert not {p.chosen_node_id for p in data.pairs} & {"c1", "i11", "i12"}
    assert data.rsft[0].node_ids == ("y", "c2", "i22")
    # All siblings rejected: nothing to choose.
    everything_rejected = baking_soda_tree()
    for node_id in ("c1", "c2", "i11", "i12", "i21", "i22"):
        everything_rejected.judge(node_id, "reject")
    data = stage1(everything_rejected)
    assert data.pairs == [] and data.rsft == []
    assert "criticism pair: every criticism is rejected (a rejected node is never the chosen side)" in data.notes


def test_accepted_nodes_are_never_rejected():
    data = stage1(baking_soda_tree().judge("i11", "accept").judge("i12", "accept"))
    assert summary(data) == [("response", "i11", "y", "human"), ("criticism", "c1", "c2", "reward")]
    assert data.notes == ["improvement pair: every improvement under the best criticism has the same verdict"]
    # An accepted answer is never the rejected side of the response pair; the RSFT sample (which
    # refines it) still stands.
    data = stage1(baking_soda_tree().judge("y", "accept"))
    assert summary(data) == [("criticism", "c1", "c2", "reward"), ("improvement", "i11", "i12", "reward")]
    assert data.rsft[0].node_ids == ("y", "c1", "i11")
    assert data.notes == ["response pair: the person accepted the answer (an accepted node is never the rejected side)"]
    # Both accepted: no response pair; the accept orders the improvements under c1.
    data = stage1(baking_soda_tree().judge("y", "accept").judge("i11", "accept"))
    assert summary(data) == [("criticism", "c1", "c2", "reward"), ("improvement", "i11", "i12", "human")]
    assert data.rsft[0].node_ids == ("y", "c1", "i11")


def test_an_accepted_improvement_is_the_rsft_target_without_the_length_filter():
    long_refinement = I22 + " " + "x" * 500
    data = stage1(baking_soda_tree().change("i22", text=long_refinement).judge("i22", "accept"))
    assert data.rsft[0].node_ids == ("y", "c2", "i22")
    assert data.rsft[0].messages[-1]["content"] == long_refinement


def test_a_rejected_criticism_keeps_its_improvement_out_of_the_rsft_sample():
    data = stage1(baking_soda_tree().judge("c1", "reject"))
    assert data.rsft == []
    assert "RSFT: the person rejected the answer or the criticism of the sample" in data.notes


def test_a_rejected_answer_loses_to_its_refinement_even_unscored():
    # No scores: every improvement ties, and a tie goes to the later one (i22), as for y'*.
    data = stage1(baking_soda_tree(y=None, i11=None, i12=None, i21=None, i22=None).judge("y", "reject"))
    assert data.pairs == [Pair("response", "p", ASK, I22, Y, "human", "i22", "y", None, None)]
    assert data.rsft == []          # a rejected answer is never part of an SFT sample


def test_skip_is_no_opinion():
    skipped = stage1(baking_soda_tree().judge("i11", "skip").judge("c2", "skip"))
    plain = stage1(baking_soda_tree())
    assert (skipped.pairs, skipped.rsft, skipped.notes) == (plain.pairs, plain.rsft, plain.notes)


def test_edits_replace_texts_everywhere_and_add_edit_pairs():
    y_edited, c1_edited = "Baking soda is used in cooking and cleaning.", "Only one use is named; two were asked."
    data = stage1(baking_soda_tree().judge("y", edited=y_edited).judge("c1", "accept", edited=c1_edited))
    assert data.pairs == [
        Pair("response", "p", ASK, I11, y_edited, "reward", "i11", "y", 1.92, -0.12),
        Pair("criticism", "p", judge_context(y_edited), c1_edited, C2, "human", "c1", "c2",
             pytest.approx(1.665), pytest.approx(0.265)),
        Pair("improvement", "p", revise_context(c1_edited, y_edited), I11, I12, "reward", "i11", "i12", 1.92, 1.41),
        Pair("edit", "p", ASK, y_edited, Y, "human", "y", "y"),
        Pair("edit", "p", judge_context(y_edited), c1_edited, C1, "human", "c1", "c1"),
    ]
    assert data.rsft[0].messages == [*revise_context(c1_edited, y_edited), {"role": "assistant", "content": I11}]


def test_a_rejected_edited_node_still_teaches_its_edit():
    better = "Baking soda leavens cakes and removes odours from the fridge."
    data = stage1(baking_soda_tree().judge("i11", "reject", edited=better))
    assert ("edit", "i11", "i11", "human") in summary(data)
    edit = data.pairs[-1]
    assert (edit.context, edit.chosen, edit.rejected) == (revise_context(C1), better, I11)
    assert all(p.chosen_node_id != "i11" for p in data.pairs if p.kind != "edit")

"""Stage I data by the paper's rules alone (DESIGN.md §1.3): RSFT sample, response / criticism /
improvement pairs, each gate and stop, on the hand-built 2×2 baking-soda tree. Every expectation is
worked out by hand from DESIGN's steps; the comment says which step decides.
"""

import pytest

from backend.avr.pairs import build_stage1
from backend.config import PairConfig
from backend.domain import Pair, Prompt, SftSample, Templates
from tests.avr.avr_tree_factory import C1, C2, I11, I12, PROMPT, TreeFactory, Y, baking_soda_tree

TEMPLATES = Templates.make("JUDGE", "REVISE")


def stage1(factory, config=None, templates_for=lambda _version: TEMPLATES, prompt=PROMPT):
    return build_stage1(prompt, factory.roots(), templates_for, config or PairConfig())


def ask():
    return [{"role": "user", "content": PROMPT.text}]


def judge_context(y=Y, judge="JUDGE"):
    return [*ask(), {"role": "assistant", "content": y}, {"role": "user", "content": judge}]


def revise_context(c, y=Y, judge="JUDGE", revise="REVISE"):
    return [*judge_context(y, judge), {"role": "assistant", "content": c}, {"role": "user", "content": revise}]


def summary(data):
    return [(p.kind, p.chosen_node_id, p.rejected_node_id) for p in data.pairs]


def test_full_tree_gives_three_pairs_and_one_rsft_sample():
    # y'* = i11 (1.92, the largest R ≥ R(y) = -0.12), Δ > 0; r(c1) = 1.665 > r(c2) = 0.265;
    # under c1: hi = i11, lo = i12 (1.92 > 1.41), and R(lo) ≠ R(y).
    data = stage1(baking_soda_tree())
    assert data.pairs == [
        Pair("response", "p", ask(), I11, Y, "reward", "i11", "y", 1.92, -0.12, "paper"),
        Pair("criticism", "p", judge_context(), C1, C2, "reward", "c1", "c2",
             pytest.approx(1.665), pytest.approx(0.265), "paper"),
        Pair("improvement", "p", revise_context(C1), I11, I12, "reward", "i11", "i12", 1.92, 1.41, "paper"),
    ]
    assert data.rsft == [
        SftSample("rsft", "p", [*revise_context(C1), {"role": "assistant", "content": I11}], ("y", "c1", "i11"),
                  "paper"),
    ]
    assert data.notes == []


def test_tied_criticism_values_stop_the_tree_after_the_response_pair():
    # r(c1) = (1.0 + 2.0) / 2 = r(c2) = (0.5 + 2.5) / 2: c+ = c− = c1 (the first on ties) → step 5 stops,
    # so neither the criticism nor the improvement pair.
    data = stage1(baking_soda_tree(i11=1.0, i12=2.0, i21=0.5, i22=2.5))
    assert summary(data) == [("response", "i22", "y")]
    assert data.notes == ["stop: no second criticism to compare the best one with"]
    assert data.rsft[0].node_ids == ("y", "c2", "i22")


def test_no_refinement_at_least_as_good_as_the_answer_stops_at_once():
    data = stage1(baking_soda_tree(y=3.0, i11=1.0, i12=2.0, i21=0.0, i22=1.0))
    assert (data.pairs, data.rsft) == ([], [])
    assert data.notes == ["stop: no scored refinement reaches the answer's reward"]


def test_a_refinement_that_only_ties_the_answer_is_y_star_but_delta_zero_stops():
    data = stage1(baking_soda_tree(y=2.0, i11=1.0, i12=2.0, i21=0.0, i22=1.0))
    assert (data.pairs, data.rsft) == ([], [])            # RSFT needs Δ > 0 too
    assert data.notes == ["stop: the best refinement does not improve on the answer (Δ = 0)"]


def test_tied_best_refinements_go_to_the_later_one_and_tied_siblings_make_no_improvement_pair():
    data = stage1(baking_soda_tree(i11=1.5, i12=1.5))
    assert summary(data) == [("response", "i12", "y"), ("criticism", "c1", "c2")]   # i12: the later of 1.5, 1.5
    assert data.notes == ["improvement pair: the improvements under the best criticism are tied or fewer than two"]
    assert data.rsft[0].node_ids == ("y", "c1", "i12")


def test_an_unchanged_copy_of_the_answer_is_never_the_rejected_improvement():
    f = (TreeFactory()
         .add("y", "response", Y, score=0.5)
         .add("c1", "criticism", C1, "y").add("i11", "improvement", I11, "c1", score=2.0)
         .add("i12", "improvement", Y, "c1", score=0.5)      # the answer copied: same text, same reward
         .add("c2", "criticism", C2, "y").add("i21", "improvement", "Cooking.", "c2", score=0.0)
         .add("i22", "improvement", "Cooking and cleaning.", "c2", score=1.0))
    data = stage1(f)
    assert summary(data) == [("response", "i11", "y"), ("criticism", "c1", "c2")]
    assert data.notes == ["improvement pair: the worse improvement is an unchanged copy of the answer"]


def test_the_best_improvement_under_the_best_criticism_below_the_answer_stops_at_step_4():
    # y'* = i21 (3.0) gives the response pair; c+ = c1 (0.85) but its hi = i11 (0.9) < R(y) = 1.0.
    data = stage1(baking_soda_tree(y=1.0, i11=0.9, i12=0.8, i21=3.0, i22=-2.0))
    assert summary(data) == [("response", "i21", "y")]
    assert data.notes == ["stop: the best improvement under the best criticism scores below the answer"]


def test_a_single_child_of_the_best_criticism_below_the_answer_stops_at_step_5():
    f = (TreeFactory()
         .add("y", "response", Y, score=1.0)
         .add("c1", "criticism", C1, "y").add("i11", "improvement", I11, "c1", score=0.9)
         .add("c2", "criticism", C2, "y").add("i21", "improvement", "Cooking.", "c2", score=3.0)
         .add("i22", "improvement", "Cooking and cleaning.", "c2", score=-2.0))
    data = stage1(f)
    assert summary(data) == [("response", "i21", "y")]
    assert data.notes == ["stop: no improvement under the best criticism scores at least the answer"]


def test_a_degenerate_best_refinement_stops_the_tree_but_still_makes_the_rsft_sample():
    degenerate = "soda " * 60
    data = stage1(baking_soda_tree(i11=5.0).change("i11", text=degenerate))
    assert data.pairs == []
    assert data.notes == ["stop: the best refinement is degenerate"]
    assert data.rsft[0].node_ids == ("y", "c1", "i11")    # the RSFT set has no degeneration check


def test_the_next_best_option_takes_the_best_refinement_that_is_not_degenerate():
    config = PairConfig(next_best_refinement=True)
    data = stage1(baking_soda_tree(i11=5.0).change("i11", text="soda " * 60), config)
    # y'* = i12 (1.41); c+ = c1 with r = (5.0 + 1.41) / 2, whose hi (i11) is degenerate: no improvement pair.
    assert summary(data) == [("response", "i12", "y"), ("criticism", "c1", "c2")]
    assert data.pairs[1].chosen_score == pytest.approx(3.205)
    assert data.notes == ["improvement pair: an improvement is degenerate"]
    assert data.rsft[0].node_ids == ("y", "c1", "i12")
    assert {p.rules for p in data.pairs} == {"paper+next-best"} and data.rsft[0].rules == "paper+next-best"


def test_a_degenerate_answer_stops_the_tree_but_not_the_rsft_sample():
    data = stage1(baking_soda_tree().change("y", text="!" * 60))   # no Latin letter: "!" counted 60 times
    assert data.pairs == []
    assert data.notes == ["stop: the answer is degenerate"]
    assert data.rsft[0].node_ids == ("y", "c1", "i11")


def test_the_degeneration_threshold_comes_from_the_config():
    f = baking_soda_tree().change("i11", text="soda soda soda")
    assert stage1(f).pairs[0].chosen == "soda soda soda"
    assert stage1(f, PairConfig(degeneration_repeats=3)).pairs == []   # y'* = i11 is now degenerate: stop


def test_degenerate_criticisms():
    worst = stage1(baking_soda_tree().change("c2", text="ok " * 60))
    assert summary(worst) == [("response", "i11", "y"), ("improvement", "i11", "i12")]   # step 6 skips, 7 goes on
    assert worst.notes == ["criticism pair: the worst criticism is degenerate"]
    best = stage1(baking_soda_tree().change("c1", text="ok " * 60))
    assert summary(best) == [("response", "i11", "y")]
    assert best.notes == ["stop: the best criticism is degenerate"]


def test_criticisms_with_one_text_are_one_criticism():
    # The authors' scorer groups improvements by their criticism's text: c1 and c2 are one criticism
    # with four improvements, so there is no second one to compare it with.
    data = stage1(baking_soda_tree().change("c2", text=C1))
    assert summary(data) == [("response", "i11", "y")]
    assert data.notes == ["stop: no second criticism to compare the best one with"]


def test_length_filter_drops_the_rsft_sample_but_not_the_response_pair():
    long_refinement = I11 + " " + "x" * 500
    data = stage1(baking_soda_tree().change("i11", text=long_refinement))
    assert data.rsft == []
    assert data.pairs[0] == Pair("response", "p", ask(), long_refinement, Y, "reward", "i11", "y", 1.92, -0.12)
    assert data.notes == [f"RSFT: the best refinement grows too much ({len(Y)} → {len(long_refinement)} chars)"]
    looser = PairConfig(max_growth_chars=600)
    assert len(stage1(baking_soda_tree().change("i11", text=long_refinement), looser).rsft) == 1
    assert looser.rule_set == "paper+growth-600-1.2"


def test_unscored_nodes_are_invisible_to_the_paper():
    data = stage1(baking_soda_tree(y=None, i11=None, i12=None, i21=None, i22=None))
    assert (data.pairs, data.rsft) == ([], [])
    assert data.notes == ["stop: no scored refinement reaches the answer's reward"]
    # c2 has no scored improvement: only c1 is valued, so c+ = c− = c1 and the tree stops after step 2.
    partly = stage1(baking_soda_tree(i21=None, i22=None))
    assert summary(partly) == [("response", "i11", "y")]
    assert partly.notes == ["stop: no second criticism to compare the best one with"]


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
    # The paper has one template and never compares them; the template guard option does.
    f.change("c2", template_version="v2")
    assert summary(stage1(f, templates_for=versions.__getitem__)) == [
        ("response", "i11", "y"), ("criticism", "c1", "c2"), ("improvement", "i11", "i12")]
    guarded = stage1(f, PairConfig(template_guard=True), templates_for=versions.__getitem__)
    assert summary(guarded) == [("response", "i11", "y"), ("improvement", "i11", "i12")]
    assert guarded.notes == ["criticism pair: the two sides were generated with different templates (template guard)"]
    assert {p.rules for p in guarded.pairs} == {"paper+template-guard"}


def test_a_system_message_opens_every_context():
    prompt = Prompt("p", PROMPT.text, meta={"system": "Answer in English."})
    data = stage1(baking_soda_tree(), prompt=prompt)
    system = {"role": "system", "content": "Answer in English."}
    assert all(p.context[0] == system and p.context[1] == ask()[0] for p in data.pairs)
    assert data.rsft[0].messages[:2] == [system, *ask()]


def test_a_tree_without_improvements_yet():
    data = stage1(TreeFactory().add("y", "response", Y, score=0.0).add("c1", "criticism", C1, "y"))
    assert data.pairs == [] and data.rsft == []
    assert data.notes == ["stop: no scored refinement reaches the answer's reward"]


def test_siblings_with_the_same_text_make_no_pair():
    data = stage1(baking_soda_tree().change("i12", text=I11))
    assert summary(data) == [("response", "i11", "y"), ("criticism", "c1", "c2")]
    assert data.notes == ["improvement pair: chosen and rejected have the same text"]

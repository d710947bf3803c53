"""The AvR authors' Stage II greedy-chain records: every round stored as nodes and scores nested as the
chain job nests them, the chain kept, its long thought written exactly (DESIGN.md §1.4), dropped
chains stored without one. The expected long thought is written out by hand below.
"""

from __future__ import annotations

import json

import pytest

from backend.domain import prompt_id_for
from backend.errors import BadInputError
from backend.io import export, import_file

ASK = "What is 15% of 80?"
Y0 = "It is 10."
C1A, C1B = "Wrong: 15% of 80 is not 10. Rating: [[2]]", "Show the working. Rating: [[4]]"
Y1A, Y1B, Y1C = "15% of 80 is 12.", "0.15 × 80 = 12, so it is 12.", "It is about 12."
C2A, C2B = "Correct and short. Rating: [[9]]", "Correct, but say why. Rating: [[6]]"
Y2A, Y2B = "It is 12.", "0.15 × 80 = 12."


def greedy_record(system: str | None = None) -> dict:
    """Round 1 improves (best: 0.9, the first improvement of the second criticism); round 2 does not
    (its best, 0.7 under the second criticism, is below 0.9), so it closes the chain. The closing
    criticism is C2B: the one whose improvement scored highest, though C2A has the higher self-rating."""
    messages = [{"role": "user", "content": ASK}, {"role": "assistant", "content": Y0}]
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    return {
        "messages": messages, "origin_score": -0.5,
        "iterations": [
            {"iteration": 0, "initial_response": Y0, "judges": [C1A, C1B],
             "refine_list": [[Y1A, Y1C], [Y1B, None]], "scores_list": [[0.4, 0.1], [0.9, None]],
             "best_refine": Y1B, "best_score": 0.9, "best_refine_index": [1, 0]},
            {"iteration": 1, "initial_response": Y1B, "judges": [C2A, C2B],
             "refine_list": [[Y2A, Y2A], [Y2B, Y2A]], "scores_list": [[0.2, 0.2], [0.7, 0.2]],
             "best_refine": Y2B, "best_score": 0.7, "best_refine_index": [1, 0]},
        ],
        "final_best": {"response": Y1B, "score": 0.9}, "best_path": [],
    }


EXPECTED_THOUGHT = (
    "<|Start of recursive criticism and improvement|>\n\n"
    "## Let's answer the question first:\nIt is 10.\n\n"
    "## Now, let's try to criticize this answer:\nShow the working. Rating: [[4]]\n\n"
    "## Okey, let's improve the above answer based on the criticism:\n0.15 × 80 = 12, so it is 12.\n\n"
    "## Now, let's try to criticize this answer:\nCorrect, but say why. Rating: [[6]]\n\n"
    "## Okay, now it\u2019s almost done.\n\n<|End of recursive criticism and improvement|>\n\n"
    "Final answer:\n\n0.15 × 80 = 12, so it is 12."
)


def _write(path, *records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_every_round_becomes_nodes_and_the_kept_chain_its_long_thought(store, tmp_path):
    report = import_file(store, _write(tmp_path / "greedy.jsonl", greedy_record()))
    assert report.format == "avr-greedy-chain"
    # y0 + 2 criticisms and 3 improvements in round 1 + 2 criticisms and 4 improvements in round 2 + the thought
    assert (report.new_nodes, report.new_scores, report.new_chains, report.new_sft_samples) == (13, 8, 1, 1)
    reference = store.reference_answer(prompt_id_for(ASK))           # the authors start from the chosen answer
    assert (reference.text, reference.meta) == (Y0, {"score": -0.5, "scorer": "imported"})
    nodes = {n.text: n for n in store.nodes_for_prompt(prompt_id_for(ASK)) if n.kind != "long_thought"}
    y0, y1b = nodes[Y0], nodes[Y1B]
    assert (y0.kind, y0.round, y0.parent_id, y0.model) == ("response", 0, None, "imported")
    assert {(nodes[c].parent_id, nodes[c].round) for c in (C1A, C1B)} == {(y0.id, 1)}
    assert {(nodes[c].parent_id, nodes[c].round) for c in (C2A, C2B)} == {(y1b.id, 2)}
    assert (nodes[Y1B].parent_id, nodes[Y1B].round) == (nodes[C1B].id, 1)
    assert (nodes[C1A].self_rating, nodes[C2B].self_rating) == (2, 6)
    # Y2A appears three times (twice under C2A): three nodes, none merged.
    assert sum(n.text == Y2A for n in store.nodes_for_prompt(prompt_id_for(ASK))) == 3
    scores = store.scores_for_prompt(prompt_id_for(ASK), "imported")
    assert scores[y0.id] == -0.5 and scores[y1b.id] == 0.9 and nodes[Y1C].id in scores

    (chain,) = store.chains(prompt_id=prompt_id_for(ASK))
    assert chain.node_ids == (y0.id, nodes[C1B].id, y1b.id, nodes[C2B].id)
    assert (chain.best_node_id, chain.scores) == (y1b.id, (-0.5, 0.9))
    assert store.get_node(chain.long_thought_node_id).text == EXPECTED_THOUGHT
    out = tmp_path / "thoughts.jsonl"
    assert export(store, "long-thought", "avr", out).rows == 1
    assert json.loads(out.read_text(encoding="utf-8")) == {
        "messages": [{"role": "user", "content": ASK}, {"role": "assistant", "content": EXPECTED_THOUGHT}]}
    assert import_file(store, tmp_path / "greedy.jsonl").new_total == 0


def test_a_leading_system_message_is_kept_and_opens_the_long_thought_sample(store, tmp_path):
    import_file(store, _write(tmp_path / "greedy.jsonl", greedy_record(system="Answer briefly.")))
    assert store.get_prompt(prompt_id_for(ASK)).system == "Answer briefly."
    (sample,) = store.sft_samples("long_thought")
    assert sample.messages == [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": ASK},
                               {"role": "assistant", "content": EXPECTED_THOUGHT}]


@pytest.mark.parametrize(("change", "reason"), [
    (lambda r: r.update(iterations=[dict(r["iterations"][0], scores_list=[[-0.6, -0.7], [-0.5, None]])]),
     "no round improved the answer"),                      # -0.5 only ties y0: not an improvement
    (lambda r: r.update(iterations=r["iterations"][:1]),
     "the best answer came in the last round run, so no failed round closes the thought"),
    (lambda r: r["messages"][1].update(content="ok " * 60), "the first answer y0 is degenerate"),
])
def test_chains_the_paper_drops_are_stored_without_a_long_thought(store, tmp_path, change, reason):
    record = greedy_record()
    change(record)
    if record["messages"][1]["content"] != Y0:
        record["iterations"][0]["initial_response"] = record["messages"][1]["content"]
    report = import_file(store, _write(tmp_path / "greedy.jsonl", record))
    assert (report.new_chains, report.new_sft_samples, dict(report.dropped_chains)) == (1, 0, {reason: 1})
    (chain,) = store.chains()
    assert chain.long_thought_node_id is None
    assert not any(n.kind == "long_thought" for n in store.nodes_for_prompt(chain.prompt_id))
    assert "chains stored without a long thought" in report.summary()


def test_a_missing_criticism_keeps_the_slots_aligned(store, tmp_path):
    record = greedy_record()
    record["iterations"][1]["judges"][0] = None            # C2A did not parse: its improvements never existed
    record["iterations"][1]["refine_list"][0] = None
    record["iterations"][1]["scores_list"][0] = None
    import_file(store, _write(tmp_path / "greedy.jsonl", record))
    (chain,) = store.chains()
    assert store.get_node(chain.node_ids[-1]).text == C2B
    assert store.get_node(chain.long_thought_node_id).text == EXPECTED_THOUGHT


def test_a_record_whose_rounds_do_not_follow_each_other_is_refused(store, tmp_path):
    record = greedy_record()
    record["iterations"][1]["initial_response"] = Y1A       # round 1 accepted Y1B, not Y1A
    with pytest.raises(BadInputError, match=r"line 1: iteration 2: 'initial_response' is not the answer"):
        import_file(store, _write(tmp_path / "greedy.jsonl", record))
    assert store.count_prompts() == 0

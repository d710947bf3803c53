"""Stage II greedy chains and inference-time refinement through the worker, scored by a tiny reward model."""

from backend import protocol
from backend.avr.long_thought import parse_long_thought
from backend.avr.templates import DEFAULT_TEMPLATES
from backend.config import ChainConfig, SamplingConfig
from backend.job_requests import ChainRequest, RefineRequest
from tests.worker.worker_helpers import prepared, prompts, records, run_to_end

ROUNDS = 3


def test_chain_job_keeps_only_improving_chains_with_a_closing_criticism(worker, tmp_path, tiny_model, tiny_scorer):
    request = ChainRequest(prompts(2), DEFAULT_TEMPLATES, tiny_model, tiny_scorer,
                           SamplingConfig(max_new_tokens=6, seed=0), ChainConfig(rounds=ROUNDS, start="sample"))
    events = run_to_end(worker, prepared(request, tmp_path))
    assert isinstance(events[-1], protocol.JobFinished), events[-1]
    nodes = {r["id"]: r for r in records(events, "node")}
    scores = {r["node_id"]: r["value"] for r in records(events, "score")}
    chains = records(events, "chain")
    assert chains and events[-1].summary["chains"] == len(chains)

    for prompt_id in {n["prompt_id"] for n in nodes.values()}:
        mine = [n for n in nodes.values() if n["prompt_id"] == prompt_id]
        for round_ in range(1, ROUNDS + 1):
            level = [n for n in mine if n["round"] == round_]
            if level:  # each round is the paper's 2 x 2 tree under one answer
                assert sorted(n["kind"] for n in level) == ["criticism"] * 2 + ["improvement"] * 4
                assert len({nodes[n["parent_id"]]["id"] for n in level if n["kind"] == "criticism"}) == 1
                assert all(n["id"] in scores for n in level if n["kind"] == "improvement")

    for chain in chains:
        ids = chain["node_ids"]
        answers, criticisms = ids[0::2], ids[1::2]
        assert len(answers) == len(criticisms) >= 2  # at least one accepted round, plus c_final
        assert all(nodes[c]["kind"] == "criticism" for c in criticisms)
        assert all(nodes[c]["parent_id"] == a for a, c in zip(answers, criticisms, strict=True))  # c_i criticises y_{i-1}
        assert all(nodes[y]["parent_id"] == c for c, y in zip(criticisms[:-1], answers[1:], strict=True))
        assert chain["scores"] == [scores[a] for a in answers]
        assert all(b > a for a, b in zip(chain["scores"], chain["scores"][1:], strict=False))  # strictly better each round
        assert chain["best_node_id"] == answers[-1]
        assert len(answers) - 1 < ROUNDS  # the best did not come in the last allowed round
        thought = nodes[chain["long_thought_node_id"]]
        assert thought["kind"] == "long_thought" and thought["parent_id"] is None
        parsed = parse_long_thought(thought["text"])
        assert parsed.answers == [nodes[a]["text"] for a in answers]
        assert parsed.criticisms == [nodes[c]["text"] for c in criticisms]
        assert parsed.final_answer == nodes[answers[-1]]["text"]


def test_refine_job_reports_every_round_and_the_best_answer(worker, tmp_path, tiny_model, tiny_scorer):
    request = RefineRequest("Name two uses of baking soda.", DEFAULT_TEMPLATES, 2, tiny_model, tiny_scorer,
                            SamplingConfig(max_new_tokens=6, seed=0))
    events = run_to_end(worker, prepared(request, tmp_path))
    assert isinstance(events[-1], protocol.JobFinished), events[-1]
    [first] = records(events, "refine_answer")
    rounds = records(events, "refine_round")
    assert [r["round"] for r in rounds] == [1, 2]
    best = max([first, *[r for r in rounds if r["accepted"]]], key=lambda r: r["score"])
    summary = events[-1].summary
    assert summary["final_score"] == best["score"]
    assert summary["final_answer"] == best.get("text", best.get("answer"))
    assert summary["accepted_rounds"] == sum(r["accepted"] for r in rounds)

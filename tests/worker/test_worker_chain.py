"""Stage II greedy chains and inference-time refinement through the worker, scored by a tiny reward model.

A chain grown by the job is checked against the paper's rules replayed here step by step, and against
the layout the authors' greedy records get from their importer (`tests/io/test_io_greedy_chain.py`).
"""

import json

from backend import protocol
from backend.avr.filters import is_degenerate
from backend.avr.long_thought import parse_long_thought
from backend.avr.templates import DEFAULT_TEMPLATES
from backend.avr.tree import build_trees, first_response
from backend.config import ChainConfig, SamplingConfig, ScorerSpec, TreeConfig
from backend.domain import IMPORTED_MODEL, Node, Prompt, ReferenceAnswer, Score, prompt_id_for
from backend.io import import_file
from backend.job_requests import ChainRequest, RefineRequest
from backend.store import Store
from backend.worker.ingest import ingest_journal
from backend.worker.request_builders import chain_request, chain_starts, reference_start_id
from backend.worker.submission import prepare_job
from tests.io.test_io_greedy_chain import ASK, Y0, greedy_record
from tests.worker.worker_helpers import prepared, prompts, records, run_to_end

ROUNDS = 3
SAMPLING = SamplingConfig(max_new_tokens=6, seed=0)


def layout_problems(chain, nodes: dict[str, Node], scores: dict[str, float]) -> list[str]:
    """How a chain departs from the greedy-record layout: y0 a round-0 root; round r's criticism under
    the answer it criticized and its improvement under it, both at round r; then c_final; the chain's
    scores are its answers' scores and its best answer the last one."""
    ids = list(chain.node_ids)
    answers, criticisms = ids[0::2], ids[1::2]
    y0 = nodes[answers[0]]
    problems = [] if (y0.kind, y0.round, y0.parent_id) == ("response", 0, None) else [f"y0 is {y0}"]
    for index, criticism_id in enumerate(criticisms):
        c = nodes[criticism_id]
        if (c.kind, c.round, c.parent_id) != ("criticism", index + 1, answers[index]):
            problems.append(f"criticism {index + 1} is {c}")
    for index, answer_id in enumerate(answers[1:]):
        y = nodes[answer_id]
        if (y.kind, y.round, y.parent_id) != ("improvement", index + 1, criticisms[index]):
            problems.append(f"answer {index + 1} is {y}")
    if list(chain.scores) != [scores[a] for a in answers] or chain.best_node_id != answers[-1]:
        problems.append(f"scores {chain.scores} / best {chain.best_node_id} do not follow the answers")
    return problems


def replay(y0: Node, nodes: list[Node], scores: dict[str, float], rounds: int) -> list[str]:
    """The node ids the paper's rules keep, replayed from the nodes in the order they were made: each
    round the highest-scored improvement (the first on a tie) is accepted if it beats the current
    answer strictly; the first round that does not closes with the criticism of its best improvement."""
    path, current, current_score = [y0.id], y0, scores[y0.id]
    for round_ in range(1, rounds + 1):
        criticisms = [n for n in nodes if n.kind == "criticism" and n.parent_id == current.id and n.round == round_]
        best = None
        for c in criticisms:
            for y in (n for n in nodes if n.parent_id == c.id and n.id in scores):
                if best is None or scores[y.id] > scores[best[1].id]:
                    best = (c, y)
        if best is None:
            return path
        if scores[best[1].id] <= current_score:
            return path + [best[0].id]
        path += [best[0].id, best[1].id]
        current, current_score = best[1], scores[best[1].id]
    return path


def test_the_chain_job_records_every_chain_as_the_paper_replays_it(worker, tmp_path, tiny_model, tiny_scorer):
    request = ChainRequest(prompts(3), DEFAULT_TEMPLATES, tiny_model, tiny_scorer, SAMPLING,
                           ChainConfig(rounds=ROUNDS, start="sample"))
    events = run_to_end(worker, prepared(request, tmp_path))
    assert isinstance(events[-1], protocol.JobFinished), events[-1]
    made = [protocol.record_to_object(r) for r in records(events, "node")]
    nodes = {n.id: n for n in made}
    scores = {r["node_id"]: r["value"] for r in records(events, "score")}
    chains = [protocol.record_to_object(r) for r in records(events, "chain")]
    summary = events[-1].summary
    assert len(chains) == summary["chains"] == 3  # every chain is recorded, kept or dropped
    assert summary["long_thoughts"] == sum(c.long_thought_node_id is not None for c in chains)

    for chain in chains:
        mine = [n for n in made if n.prompt_id == chain.prompt_id]
        for round_ in {n.round for n in mine if n.round}:  # each round is the paper's 2 x 2 tree under one answer
            level = [n for n in mine if n.round == round_]
            assert sorted(n.kind for n in level) == ["criticism"] * 2 + ["improvement"] * 4
            assert all(n.id in scores for n in level if n.kind == "improvement")
        assert layout_problems(chain, nodes, scores) == []
        y0 = nodes[chain.node_ids[0]]
        assert y0.model == tiny_model.name and y0.job_id == events[0].job_id  # sampled: start="sample"
        path = replay(y0, mine, scores, ROUNDS)
        assert list(chain.node_ids) == path
        kept = len(path) >= 4 and len(path) % 2 == 0 and not is_degenerate(y0.text)  # improved, then closed
        assert (chain.long_thought_node_id is not None) == kept
        if kept:
            thought = nodes[chain.long_thought_node_id]
            parsed = parse_long_thought(thought.text)
            assert parsed.answers == [nodes[a].text for a in path[0::2]]
            assert parsed.criticisms == [nodes[c].text for c in path[1::2]]
            assert parsed.final_answer == nodes[chain.best_node_id].text


def test_a_chain_starts_from_the_reference_answer_and_looks_like_an_imported_one(worker, tmp_path, tiny_model,
                                                                              tiny_scorer):
    """One prompt comes with the authors' greedy record (its y0 is also its reference answer), one from
    an UltraFeedback row (a reference answer, no node): the job starts both chains from the reference
    answer, the first from the very node the importer made."""
    feedback_prompt, feedback_answer = "Give two tips for sleeping better.", "Keep a schedule; avoid screens."
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"prompt": feedback_prompt, "chosen": [
        {"role": "user", "content": feedback_prompt}, {"role": "assistant", "content": feedback_answer}]}) + "\n")
    with Store.create(tmp_path / "project") as store:
        import_file(store, rows)
        greedy = tmp_path / "greedy.jsonl"
        greedy.write_text(json.dumps(greedy_record(), ensure_ascii=False) + "\n", encoding="utf-8")
        import_file(store, greedy)
        ask_id, feedback_id = prompt_id_for(ASK), prompt_id_for(feedback_prompt)
        (imported,) = store.chains(prompt_id=ask_id)

        request = chain_request(store, [store.get_prompt(ask_id), store.get_prompt(feedback_id)], tiny_model,
                                tiny_scorer, ChainConfig(rounds=2), TreeConfig(), SAMPLING, DEFAULT_TEMPLATES)
        assert request.chain.start == "reference"  # the paper's start is the default
        assert request.starts[ask_id].node_id == imported.node_ids[0] == reference_start_id(ask_id, Y0)
        assert request.starts[feedback_id].text == feedback_answer and request.starts[feedback_id].reference
        job = prepare_job(request, store=store)
        events = run_to_end(worker, job.submit_message())
        assert isinstance(events[-1], protocol.JobFinished), events[-1]
        ingest_journal(store, job.job_dir, job.job_id)

        for prompt_id, reference in ((ask_id, Y0), (feedback_id, feedback_answer)):
            nodes = {n.id: n for n in store.nodes_for_prompt(prompt_id)}
            grown = [c for c in store.chains(prompt_id=prompt_id) if c.id != imported.id]
            (chain,) = grown
            y0 = nodes[chain.node_ids[0]]
            assert (y0.text, y0.model, y0.id) == (reference, IMPORTED_MODEL, reference_start_id(prompt_id, reference))
            assert store.reference_answer(prompt_id).text == reference  # still the prompt's reference answer
            # a chain's y0 is not a Stage I root to grow a tree from
            assert first_response(prompt_id, build_trees(list(nodes.values()), {}, {})) is None
            for each in store.chains(prompt_id=prompt_id):  # grown and imported chains share one layout
                label = "imported" if each.id == imported.id else tiny_scorer.label
                assert layout_problems(each, nodes, store.scores_for_prompt(prompt_id, label)) == []


def test_chain_starts_fall_back_from_reference_to_best_stored_answer_to_a_fresh_one(tmp_path):
    scorer = ScorerSpec(kind="relevance")
    with Store.create(tmp_path / "project") as store:
        with_reference, with_answers, bare = (Prompt.from_text(f"Question {i}?") for i in range(3))
        store.add_prompts([with_reference, with_answers, bare])
        store.add_reference_answers([ReferenceAnswer(with_reference.id, "The reference.")])
        store.add_nodes([Node("r1", with_answers.id, "response", "First."), Node("r2", with_reference.id, "response",
                                                                                   "Stored.")])
        store.add_nodes([Node("c1", with_answers.id, "criticism", "Short.", parent_id="r1"),
                         Node("i1", with_answers.id, "improvement", "Better.", parent_id="c1")])
        store.add_scores([Score("r1", scorer.label, 0.1), Score("i1", scorer.label, 0.7), Score("r2", scorer.label, 0.9)])
        ids = [with_reference.id, with_answers.id, bare.id]

        starts = chain_starts(store, ids, scorer, "reference")
        assert (starts[with_reference.id].text, starts[with_reference.id].reference) == ("The reference.", True)
        assert (starts[with_answers.id].node_id, starts[with_answers.id].score) == ("i1", 0.7)  # the best stored
        assert bare.id not in starts  # the job samples a fresh answer
        best = chain_starts(store, ids, scorer, "best")
        assert best[with_reference.id].node_id == "r2" and not best[with_reference.id].reference
        assert chain_starts(store, ids, scorer, "sample") == {}


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

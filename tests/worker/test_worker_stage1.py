"""Stage I jobs through the real worker process on the tiny model: tree shape, scores, journal, ratings."""

from collections import Counter
from dataclasses import replace

import pytest

from backend import protocol
from backend.avr.templates import DEFAULT_TEMPLATES
from backend.config import SamplingConfig, TreeConfig
from backend.job_requests import Stage1Request
from backend.worker.journal import read_records
from tests.worker.worker_helpers import prepared, prompts, records, run_to_end


def stage1_job(jobs_dir, tiny_model, tiny_scorer, n_prompts=2, rating_mode="constrained", **tree):
    request = Stage1Request(prompts(n_prompts), DEFAULT_TEMPLATES, replace(tiny_model, rating_mode=rating_mode),
                            [tiny_scorer], SamplingConfig(max_new_tokens=6, seed=1),
                            TreeConfig(**{"criticisms": 2, "improvements": 2, **tree}))
    return prepared(request, jobs_dir)


def test_stage1_grows_full_trees_scores_every_answer_and_journals_what_it_emits(worker, tmp_path, tiny_model,
                                                                               tiny_scorer):
    job = stage1_job(tmp_path, tiny_model, tiny_scorer, n_prompts=2)
    events = run_to_end(worker, job)
    assert isinstance(events[0], protocol.JobStarted) and isinstance(events[-1], protocol.JobFinished)

    nodes = [protocol.record_to_object(r) for r in records(events, "node")]
    by_prompt = Counter(n.prompt_id for n in nodes)
    assert by_prompt == {"p0": 7, "p1": 7}  # 1 + k + k*m
    ids = {n.id: n for n in nodes}
    for node in nodes:
        parent_kind = ids[node.parent_id].kind if node.parent_id else None
        assert (node.kind, parent_kind) in {("response", None), ("criticism", "response"),
                                            ("improvement", "criticism")}
        assert node.job_id == job.job_id and node.round == 0 and node.model == tiny_model.name
        assert node.seed == 1 and node.sampling["max_new_tokens"] == 6
        assert (node.template_version is None) == (node.kind == "response")

    scores = records(events, "score")
    label = f"classifier:{tiny_scorer.model.rstrip('/').split('/')[-1]}"
    answers = {n.id for n in nodes if n.kind in ("response", "improvement")}
    assert {s["node_id"] for s in scores} == answers and len(scores) == len(answers) == 10
    assert {s["scorer"] for s in scores} == {label}

    journal = list(read_records(job.job_dir))
    assert [r for _, r in journal] == records(events)
    assert [e.seq for e in events if isinstance(e, protocol.Result)] == list(range(len(journal)))

    progress = [e for e in events if isinstance(e, protocol.Progress)]
    assert progress[-1].done == progress[-1].total == 2 * 7 + 10
    assert any(p.tokens_per_s for p in progress)
    assert events[-1].summary["nodes"] == 14 and events[-1].summary["scores"] == 10


@pytest.mark.parametrize("mode", ["drop", "constrained", "none"])
def test_rating_modes_with_a_model_that_never_writes_a_rating(worker, tmp_path, tiny_model, tiny_scorer, mode):
    job = stage1_job(tmp_path, tiny_model, tiny_scorer, rating_mode=mode)  # the paper's 5 samples per criticism
    events = run_to_end(worker, job)
    assert isinstance(events[-1], protocol.JobFinished)
    nodes = [protocol.record_to_object(r) for r in records(events, "node")]
    criticisms = [n for n in nodes if n.kind == "criticism"]
    warnings = [e.text for e in events if isinstance(e, protocol.Log) and e.level == "warning"]
    assert len(warnings) == 1 and "had no parseable 'Rating: [[k]]'" in warnings[0]
    if mode == "drop":
        # 2 prompts x 2 criticisms, each sampled 5 times in all, then dropped: 20 samples, nothing kept
        assert criticisms == [] and len(nodes) == 2
        assert warnings[0].startswith("No criticism was kept.")
        assert "20 of 20 criticisms" in warnings[0] and "dropped 4 criticisms after 5 samples each" in warnings[0]
        assert events[-1].summary["criticisms_dropped"] == 4 and events[-1].summary["ratings_unparsed"] == 20
        progress = [e for e in events if isinstance(e, protocol.Progress)]
        assert progress[-1].done == progress[-1].total
    elif mode == "constrained":
        assert len(criticisms) == 4 and all(1 <= c.self_rating <= 10 for c in criticisms)
        assert "4 ratings were filled" in warnings[0]
    else:
        assert len(criticisms) == 4 and all(c.self_rating is None for c in criticisms)
        assert len(nodes) == 14



def test_a_prompts_system_message_opens_every_context(worker, tmp_path, tiny_model, tiny_scorer):
    """A system message longer than the tiny model's context (1024 positions) fails each action's
    request with the token count of the system-led conversation, counted here with the model's own
    tokenizer and chat template: the system message opens the respond, criticize and improve contexts."""
    from transformers import AutoTokenizer

    from backend.avr.templates import criticize_messages, improve_messages, respond_messages
    from backend.domain import SYSTEM_META_KEY, Node, Prompt
    from backend.engines.loading import chat_prompt
    from tests.support.tiny_models import tiny_chat_model_dir

    tokenizer = AutoTokenizer.from_pretrained(tiny_chat_model_dir())
    system = "Answer briefly and kindly. " * 150
    prompt = Prompt("p0", "Name two uses of baking soda.", meta={SYSTEM_META_KEY: system})
    answer = Node("y", "p0", "response", "Baking and cleaning.", model="m")
    criticism = Node("c", "p0", "criticism", "Too short.", parent_id="y", template_version=DEFAULT_TEMPLATES.version)
    cases = {"respond": ([], respond_messages(prompt.text, system)),
             "criticize": ([answer], criticize_messages(prompt.text, answer.text, DEFAULT_TEMPLATES, system)),
             "improve": ([answer, criticism], improve_messages(prompt.text, answer.text, criticism.text,
                                                               DEFAULT_TEMPLATES, system))}
    for action, (stored, conversation) in cases.items():
        request = Stage1Request([prompt], DEFAULT_TEMPLATES, replace(tiny_model, rating_mode="none"), [tiny_scorer],
                                SamplingConfig(max_new_tokens=4, seed=0), TreeConfig(criticisms=1, improvements=1),
                                known_nodes=stored)
        events = run_to_end(worker, prepared(request, tmp_path / action))
        tokens = len(tokenizer(chat_prompt(tokenizer, conversation), add_special_tokens=False)["input_ids"])
        assert tokens > 1024
        failures = [e.text for e in events if isinstance(e, protocol.Log) and e.text.startswith(f"{action} for")]
        assert failures and f"the prompt has {tokens} tokens" in failures[0], (action, failures)

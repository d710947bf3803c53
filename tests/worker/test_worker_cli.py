"""`avr-studio generate | score | chain | refine` on the tiny model through `run_command` and a real worker."""

from collections import Counter
from dataclasses import replace

import pytest

from backend import protocol
from backend.cli.commands import run_command
from backend.domain import Node, Prompt
from backend.store import Store
from backend.worker.journal import JournalWriter
from tests.support.tiny_models import tiny_chat_model_dir, tiny_reward_model_dir

# The tiny model never writes "Rating: [[k]]": the paper preset (its default) would drop every criticism.
FAST = ["--max-new-tokens", "4", "--dtype", "float32", "--device", "cpu", "--seed", "0", "--rating-mode", "constrained"]


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "demo"
    with Store.create(path) as store:
        store.add_prompts([Prompt.from_text(f"Question {i}: name two uses of baking soda.") for i in range(3)])
    return path


def model_flags():
    return ["--model", str(tiny_chat_model_dir()), "--scorer", f"classifier:{tiny_reward_model_dir()}", *FAST]


def test_generate_then_score_then_chain_in_a_project(project, capsys):
    with Store.open(project) as store:
        first_id = store.prompt_ids(limit=1)[0]
    # a job killed earlier left a response in its journal: generate imports it and builds on it
    leftover = Node("leftover", first_id, "response", "Baking soda cleans pans.", job_id="dead")
    writer = JournalWriter(project / "jobs" / "dead")
    writer.append(protocol.node_record(leftover))
    writer.close()

    assert run_command(["generate", str(project), "--prompts", "2", *model_flags()]) == 0
    out = capsys.readouterr()
    assert "Imported 1 results left by an earlier job" in out.err
    assert "Generated 13 nodes and 10 scores for 2 prompts" in out.out
    with Store.open(project) as store:
        ids = store.prompt_ids(limit=2)
        nodes = [n for pid in ids for n in store.nodes_for_prompt(pid)]
        assert Counter(n.kind for n in nodes) == {"response": 2, "criticism": 4, "improvement": 8}
        assert "leftover" in {n.id for n in nodes}
        label = f"classifier:{tiny_reward_model_dir().name}"
        assert sum(len(store.scores_for_prompt(pid, label)) for pid in ids) == 10
        [job] = [j for j in store.jobs() if j.kind == "stage1"]
        assert job.status == "finished" and job.finished_at is not None
        job_dir = project / "jobs" / job.id
        assert {p.name for p in job_dir.iterdir()} == {"request.json", "journal.jsonl", "log.txt", "worker.log",
                                                       "worker.lock"}

    assert run_command(["score", str(project), "--prompts", "2", "--scorer", f"likelihood:{tiny_chat_model_dir()}"]) == 0
    assert "Scored 10 answers with likelihood:chat" in capsys.readouterr().out
    assert run_command(["score", str(project), "--prompts", "2", "--scorer", f"likelihood:{tiny_chat_model_dir()}"]) == 0
    assert "Nothing to score" in capsys.readouterr().out

    assert run_command(["chain", str(project), "--prompts", "2", "--rounds", "2", *model_flags()]) == 0
    assert "chains (with long thoughts) of 2 prompts" in capsys.readouterr().out
    with Store.open(project) as store:
        assert store.get_job([j.id for j in store.jobs() if j.kind == "chain"][0]).status == "finished"
        round_one = [n for pid in ids for n in store.nodes_for_prompt(pid) if n.round == 1]
        assert len(round_one) == 2 * 6  # each chain's first round: 2 criticisms x 2 improvements


def test_refine_prints_each_round_and_the_final_answer(capsys):
    assert run_command(["refine", *model_flags(), "--rounds", "2", "Name two uses of baking soda."]) == 0
    out = capsys.readouterr().out
    assert "## First answer" in out and "## Round 2: revision" in out
    assert out.count("## Final answer") == 1


def test_a_wrong_model_folder_is_a_one_line_error_with_what_to_do(project, tmp_path, capsys):
    assert run_command(["generate", str(project), "--prompts", "1", "--model", str(tmp_path / "nope"),
                        "--scorer", f"classifier:{tiny_reward_model_dir()}", *FAST]) == 2
    err = capsys.readouterr().err
    assert "avr-studio generate: The model could not be loaded." in err and "does not exist" in err
    with Store.open(project) as store:
        [job] = store.jobs()
        assert job.status == "failed" and "does not exist" in job.error


def test_ctrl_c_cancels_the_job_and_keeps_what_it_finished(project, tiny_model, tiny_scorer):
    from backend.avr.templates import DEFAULT_TEMPLATES
    from backend.config import SamplingConfig
    from backend.job_requests import Stage1Request
    from backend.worker.job_session import run_prepared_job
    from backend.worker.request_builders import select_prompts
    from backend.worker.submission import prepare_job

    def interrupt_on_first_node(event, fired=[]):  # noqa: B006 - a one-shot latch
        if isinstance(event, protocol.Result) and event.record["type"] == "node" and not fired:
            fired.append(True)
            raise KeyboardInterrupt

    with Store.open(project) as store:
        request = Stage1Request(select_prompts(store), DEFAULT_TEMPLATES, replace(tiny_model, batch_size=1),
                                [tiny_scorer], SamplingConfig(max_new_tokens=8, seed=0))
        job = prepare_job(request, store=store)
        with pytest.raises(KeyboardInterrupt):
            run_prepared_job(job, store=store, on_event=interrupt_on_first_node)
        assert store.get_job(job.job_id).status == "cancelled"
        kept = [n for pid in store.prompt_ids() for n in store.nodes_for_prompt(pid)]
        assert 1 <= len(kept) < 3 * 7

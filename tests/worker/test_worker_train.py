"""`avr-studio train | runs | eval | merge` on tiny models through real worker processes: the runs, their
metrics and snapshot hashes in the database; a trained run that generates (`run:<id>`) and scores
(`rm:<id>`); before / after figures that match the stored scores; resume after SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from backend.cli.commands import run_command
from backend.config import ScorerSpec
from backend.curation.ranking import choose_ranking_scorer
from backend.store import Store
from backend.training.run_folder import RunFolder
from tests.support.tiny_models import tiny_chat_model_dir, tiny_reward_model_dir
from tests.training.project_data import fill

ROOT = Path(__file__).resolve().parents[2]
GENERATION = ["--dtype", "float32", "--device", "cpu", "--max-new-tokens", "6"]
TINY = ["--base", str(tiny_chat_model_dir()), "--max-length", "128", *GENERATION]


@pytest.fixture
def project(tmp_path):
    """12 prompts with RSFT samples and pairs (a third decided by a person), ranked by the tiny reward
    model, 3 prompts held out, and 4 prompts without any data (for new trees and thoughts)."""
    path = tmp_path / "project"
    with Store.create(path) as store:
        made = fill(store)
        choose_ranking_scorer(store, ScorerSpec(kind="classifier", model=str(tiny_reward_model_dir())))
        store.set_heldout_prompts([p.id for p in made[-3:]], seed=42)
        from backend.domain import Prompt

        store.add_prompts([Prompt.from_text(f"New question {i}: why is the sky blue?") for i in range(4)])
    return path


def _snapshot_rows(project: Path, run) -> int:
    return pq.read_table(project / run.output_dir / "data" / "train.parquet").num_rows


def test_stage1_trains_through_the_worker_and_its_runs_are_in_the_database(project, capsys):
    assert run_command(["train", str(project), "--stage", "1", "--max-steps", "2", "--prompts", "2", *TINY]) == 0
    out = capsys.readouterr()
    assert "Stage 1 finished: use it with --model run:" in out.out
    with Store.open(project) as store:
        rsft, dpo = store.runs()
        assert (rsft.stage, dpo.stage) == ("rsft", "dpo")
        assert rsft.status == dpo.status == "finished"
        assert rsft.base == str(tiny_chat_model_dir()) and dpo.base == f"run:{rsft.id}"  # DPO on top of RSFT
        for run in (rsft, dpo):
            manifest = json.loads((project / run.output_dir / "data" / "manifest.json").read_text())
            assert run.data_hash == manifest["data_hash"]
            assert sorted({step for step, _, _ in store.run_metrics(run.id)}) == [1, 2]
            assert {"loss", "learning_rate"} <= {name for _, name, _ in store.run_metrics(run.id)}
            assert (project / run.adapter_path / "adapter_config.json").is_file()
        # 9 prompts outside the held-out ones have an RSFT sample; the held-out prompts are never trained on
        assert _snapshot_rows(project, rsft) == 9
        assert "rewards/margins" in {name for _, name, _ in store.run_metrics(dpo.id)}
        # the RSFT run generated new trees (run:<id> as a model) on 2 prompts that had none
        [grow] = [job for job in store.jobs() if job.kind == "stage1"]
        assert grow.status == "finished" and grow.request["model"]["name"] == f"run:{rsft.id}"
        grown = [n for pid in store.prompt_ids() for n in store.nodes_for_prompt(pid) if n.job_id == grow.id]
        assert grown and {n.model for n in grown} == {f"run:{rsft.id}"}
        assert len({n.prompt_id for n in grown}) == 2
        assert not {n.prompt_id for n in grown} & set(store.heldout_prompt_ids())

    # the same stage again trains nothing: a one-line message says what to do
    assert run_command(["train", str(project), "--stage", "1", "--max-steps", "2", "--prompts", "2", *TINY]) == 2
    assert "already trained with these settings" in capsys.readouterr().err

    assert run_command(["runs", str(project), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["stage"], r["status"]) for r in listed] == [(rsft.id, "rsft", "finished"),
                                                                       (dpo.id, "dpo", "finished")]
    assert all(set(r) >= {"id", "stage", "status", "base", "adapter_path", "data_hash", "metrics"} for r in listed)

    # before / after on the held-out prompts; the figures are those of the stored scores
    assert run_command(["eval", str(project), "--run", dpo.id, "--scorer", f"likelihood:{tiny_chat_model_dir()}",
                        "--json", *GENERATION]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["n"] == 3 and figures["scorer"] == "likelihood:chat"
    assert figures["training_scorer"] == "classifier:reward" and set(figures["by_scorer"]) == {
        "likelihood:chat", "classifier:reward"}
    with Store.open(project) as store:
        for label, shown in figures["by_scorer"].items():
            win_rate, n, base_mean, trained_mean = store._db.row(
                """SELECT avg(CASE WHEN t.value > b.value THEN 1.0 WHEN t.value = b.value THEN 0.5 ELSE 0.0 END),
                          count(*), avg(b.value), avg(t.value)
                   FROM eval_scores b JOIN eval_scores t
                     ON t.evaluation_id = b.evaluation_id AND t.prompt_id = b.prompt_id AND t.scorer = b.scorer
                   WHERE b.side = 'base' AND t.side = 'trained' AND b.scorer = ? AND b.evaluation_id = ?""",
                [label, figures["evaluation_id"]])
            assert (shown["n"], shown["win_rate"]) == (n, pytest.approx(win_rate))
            assert shown["mean_reward"] == {"base": pytest.approx(base_mean), "trained": pytest.approx(trained_mean)}
        answers = store._db.rows("SELECT prompt_id, side FROM eval_answers WHERE evaluation_id = ?",
                                 [figures["evaluation_id"]])
        assert {pid for pid, _ in answers} == set(store.heldout_prompt_ids())


def test_a_reward_model_run_scores_as_rm_and_a_run_merges_and_refines(project, tmp_path, capsys):
    assert run_command(["train", str(project), "--stage", "reward", "--max-steps", "2", *TINY]) == 0
    assert "Reward model finished: score with it with --scorer rm:" in capsys.readouterr().out
    with Store.open(project) as store:
        [reward] = store.runs()
        assert reward.status == "finished" and 0 <= reward.metrics["heldout_agreement"] <= 1
    capsys.readouterr()
    assert run_command(["score", str(project), "--scorer", f"rm:{reward.id}"]) == 0
    assert f"with classifier:rm:{reward.id}" in capsys.readouterr().out
    with Store.open(project) as store:
        assert f"classifier:rm:{reward.id}" in store.scorers()

    assert run_command(["train", str(project), "--stage", "1", "--skip-regenerate", "--max-steps", "1", *TINY]) == 0
    with Store.open(project) as store:
        dpo = store.runs(stage="dpo")[-1]
    out = tmp_path / "merged"
    assert run_command(["merge", str(project), "--run", dpo.id, "--out", str(out)]) == 0
    assert (out / "config.json").is_file() and list(out.glob("*.safetensors"))
    capsys.readouterr()
    assert run_command(["refine", "--project", str(project), "--model", f"run:{dpo.id}", "--scorer",
                        f"rm:{reward.id}", "--rounds", "1", *GENERATION, "Why is the sky blue?"]) == 0
    assert "## Final answer" in capsys.readouterr().out


def test_too_little_data_is_a_message_before_anything_starts(tmp_path, capsys):
    path = tmp_path / "empty"
    with Store.create(path) as store:
        from backend.domain import Prompt

        store.add_prompts([Prompt.from_text(f"Question {i}") for i in range(5)])
    assert run_command(["train", str(path), "--stage", "1", *TINY]) == 2
    err = capsys.readouterr().err
    assert "avr-studio train: RSFT: No RSFT samples" in err and err.count("\n") == 1
    with Store.open(path) as store:
        assert store.runs() == [] and store.jobs() == []


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)  # another process writes the file: nothing to await but its content
    raise AssertionError(f"no {what} within {timeout_s} s")


def test_train_again_after_sigkill_continues_from_the_last_checkpoint(project, capsys):
    """kill -9 the CLI and its worker mid-RSFT; `train` again continues the same stage from the checkpoint."""
    args = ["train", str(project), "--stage", "1", "--skip-regenerate", "--max-steps", "12", "--checkpoint-steps",
            "2", *TINY]
    process = subprocess.Popen([sys.executable, "-m", "backend.cli.commands", *args], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               env=os.environ | {"PYTHONPATH": str(ROOT)})

    def checkpointed():
        for events in (project / "runs").glob("*/events.jsonl"):
            if '"kind": "checkpoint"' in events.read_text():
                return events.parent
        return None

    try:
        run_dir = _wait_for(checkpointed, 240, "checkpoint")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    folder = RunFolder(run_dir)
    assert folder.result() is None  # killed mid-run
    saved = folder.last_checkpoint()[0]

    assert run_command(args) == 0
    err = capsys.readouterr().err
    assert "Continuing stage 1" in err and f"RSFT: continuing run {folder.run_id}" in err
    result = folder.result()
    assert (result.status, result.step, result.resumed_from_step) == ("finished", 12, saved)
    with Store.open(project) as store:
        rsft, dpo = store.runs()
        assert rsft.id == folder.run_id and rsft.status == dpo.status == "finished"
        assert sorted({step for step, _, _ in store.run_metrics(rsft.id)}) == list(range(1, 13))


def test_stage2_chains_trains_on_long_thoughts_and_samples_new_ones_with_the_sft_model(project, capsys):
    """Greedy chains by the Stage I model, SFT on the long thoughts, 5 thoughts sampled per new prompt by the
    SFT model. The tiny random model never writes 'Final answer:', so no prompt yields a pair and the last
    phase stops with what to do; the stage is kept, unfinished, for `train` again."""
    from backend.avr.long_thought import format_long_thought
    from backend.avr.stage2 import long_thought_sample

    with Store.open(project) as store:
        prompts = store.prompts_by_id(store.prompt_ids()[:6])
        store.add_sft_samples([long_thought_sample(p, format_long_thought([f"It is {i}."], ["Too short."],
                                                                          f"It is {i}, surely."))
                               for i, p in enumerate(prompts.values())])
    args = ["train", str(project), "--stage", "2", "--max-steps", "1", "--prompts", "2", *TINY]
    assert run_command(args) == 2
    err = capsys.readouterr().err
    assert "Long-thought DPO: the long thoughts sampled for 2 prompts gave no pair" in err
    with Store.open(project) as store:
        [sft] = store.runs()
        assert (sft.stage, sft.status, sft.base) == ("long_sft", "finished", str(tiny_chat_model_dir()))
        assert _snapshot_rows(project, sft) >= 5  # the imported thoughts outside the held-out prompts, and any chain's
        chain_job, thoughts_job = [j for j in store.jobs() if j.kind in ("chain", "sample_thoughts")]
        assert chain_job.kind == "chain" and chain_job.request["model"]["name"] == str(tiny_chat_model_dir())
        assert thoughts_job.status == "finished" and thoughts_job.request["model"]["name"] == f"run:{sft.id}"
        thoughts = [n for pid in store.prompt_ids() for n in store.nodes_for_prompt(pid)
                    if n.job_id == thoughts_job.id]
        # 5 samples per prompt at a fresh seed; a sample the tiny model ends at once is blank, and a blank
        # thought is never stored (sample_thoughts.run), so a few may be missing, never extra ones.
        assert 2 * 5 - 2 <= len(thoughts) <= 2 * 5 and {n.kind for n in thoughts} == {"long_thought"}
        assert all(n.text for n in thoughts)
        assert store.pairs(kind="long_thought") == []
        from backend.worker.training_stages import stage_runs

        [stage] = stage_runs(store)
        assert stage.status == "failed" and stage.steps["thoughts"]["prompts_done"] == 2


def test_a_run_prepared_here_trains_under_the_launcher_and_the_stage_goes_on(project, capsys):
    """--prepare-only writes the run folder (config + snapshot) and stops; the folder trains with the launcher
    that `accelerate launch` runs (here in one process); `runs` syncs it and `train` goes on to the next phase."""
    from backend.training import launch

    args = ["train", str(project), "--stage", "1", "--skip-regenerate", "--max-steps", "1", *TINY]
    assert run_command([*args, "--prepare-only"]) == 0
    out = capsys.readouterr().out
    with Store.open(project) as store:
        [rsft] = store.runs()
        assert rsft.status == "prepared" and store.jobs() == []
    run_dir = project / rsft.output_dir
    assert f"Prepared run {rsft.id} (RSFT) in {run_dir.resolve()}" in out
    assert launch.main([str(run_dir), "--quiet"]) == 0
    assert run_command(["runs", str(project)]) == 0
    assert f"{rsft.id}  rsft     finished" in capsys.readouterr().out
    assert run_command(args) == 0
    with Store.open(project) as store:
        rsft_again, dpo = store.runs()
        assert rsft_again.id == rsft.id and dpo.base == f"run:{rsft.id}" and dpo.status == "finished"
        assert [job.kind for job in store.jobs()] == ["train"]  # only DPO trained here

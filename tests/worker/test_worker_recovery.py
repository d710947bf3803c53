"""Opening a project after a kill: it waits for a worker that still runs one of its jobs (and imports
what that worker journals), marks jobs whose worker is gone as interrupted, resumes them, and a rerun
straight after kill -9 of the CLI completes the trees without ever overfilling one."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from backend import protocol
from backend.avr.templates import DEFAULT_TEMPLATES
from backend.cli.commands import run_command
from backend.cli.opening import open_project
from backend.config import ModelSpec, SamplingConfig, ScorerSpec, TreeConfig
from backend.domain import Job, Node, Prompt
from backend.errors import UserError
from backend.store import Store
from backend.worker.job_lock import JobBusyError, JobLock
from backend.worker.journal import JournalWriter
from backend.worker.recovery import recover_project
from backend.worker.request_builders import select_prompts, stage1_request
from backend.worker.submission import prepare_job, resume_job
from tests.support.tiny_models import tiny_chat_model_dir, tiny_reward_model_dir

ROOT = Path(__file__).resolve().parents[2]
# The tiny model never writes "Rating: [[k]]": the paper preset (its default) would drop every criticism.
FAST = ["--max-new-tokens", "4", "--dtype", "float32", "--device", "cpu", "--seed", "0", "--rating-mode", "constrained"]

# A stand-in for a worker orphaned by a killed CLI: it holds the job's lock, and journals one node
# only when told to (then exits), as a real orphan finishing its last step would.
ORPHAN = """
import sys
from backend import protocol
from backend.domain import Node
from backend.worker.job_lock import JobLock
from backend.worker.journal import JournalWriter
job_dir, prompt_id = sys.argv[1], sys.argv[2]
lock = JobLock(job_dir)
print("locked", flush=True)
sys.stdin.readline()
writer = JournalWriter(job_dir)
writer.append(protocol.node_record(Node("late", prompt_id, "response", "A late answer.", job_id="orphaned")))
writer.close()
"""


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "proj"
    with Store.create(path) as store:
        store.add_prompts([Prompt.from_text(f"Question {i}: name two uses of baking soda.") for i in range(3)])
    return path


def start_orphan(job_dir, prompt_id):
    job_dir.mkdir(parents=True, exist_ok=True)
    orphan = subprocess.Popen([sys.executable, "-c", ORPHAN, str(job_dir), prompt_id], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert orphan.stdout.readline().strip() == "locked"
    return orphan


def test_opening_waits_for_an_orphaned_worker_and_imports_what_it_journals(project):
    with Store.open(project) as store:
        prompt_id = store.prompt_ids(limit=1)[0]
        store.add_job(Job("orphaned", "stage1", "running"))
        orphan = start_orphan(store.jobs_dir / "orphaned", prompt_id)
        try:
            result = {}
            opener = threading.Thread(target=lambda: result.update(recovery=recover_project(store, wait_s=120)))
            opener.start()
            # The record does not exist yet: an opener that did not wait could not have imported it.
            orphan.stdin.write("go\n")
            orphan.stdin.flush()
            opener.join(120)
            assert orphan.wait(30) == 0
        finally:
            orphan.kill()
        recovery = result["recovery"]
        assert recovery.imported == 1 and not recovery.still_running
        assert [n.id for n in store.nodes_for_prompt(prompt_id)] == ["late"]
        assert store.get_job("orphaned").status == "interrupted" and recovery.interrupted == ["orphaned"]


def test_a_worker_that_outlives_the_wait_is_named_and_nothing_runs(project, capsys):
    with Store.open(project) as store:
        job_dir = store.jobs_dir / "orphaned"
        prompt_id = store.prompt_ids(limit=1)[0]
    orphan = start_orphan(job_dir, prompt_id)
    try:
        with pytest.raises(UserError, match=f"job orphaned of .* is still running in its worker \\(pid {orphan.pid}\\)"):
            open_project(project, wait_s=0.2)
        with pytest.raises(JobBusyError, match=f"already running in another worker \\(pid {orphan.pid}\\)"):
            JobLock(job_dir, wait_s=0.2)  # a second worker refuses the job
    finally:
        orphan.kill()
        orphan.wait(30)
    JobLock(job_dir).release()  # the lock died with its process
    with Store.open(project) as store:  # the project itself was closed again
        assert store.jobs() == []


def test_an_interrupted_job_resumes_and_completes_its_half_grown_tree(project, capsys):
    model = ModelSpec(name=str(tiny_chat_model_dir()), dtype="float32", device="cpu")
    scorer = ScorerSpec(kind="classifier", model=str(tiny_reward_model_dir()))
    with Store.open(project) as store:
        chosen = select_prompts(store, 2)
        request = stage1_request(store, chosen, model, [scorer], TreeConfig(criticisms=2, improvements=1),
                                 SamplingConfig(max_new_tokens=4, seed=0), DEFAULT_TEMPLATES)
        job = prepare_job(request, store=store)
        store.update_job(job.job_id, "running")
    # Killed after its first node: the journal holds one answer, the row still says running.
    writer = JournalWriter(job.job_dir)
    writer.append(protocol.node_record(Node("kept-root", chosen[0].id, "response", "Soda cleans.", job_id=job.job_id)))
    writer.close()

    assert run_command(["jobs", str(project)]) == 0
    out = capsys.readouterr()
    assert f"Marked 1 job(s) whose worker is gone as interrupted ({job.job_id})" in out.err
    assert "interrupted" in out.out and "resume it to finish" in out.out
    assert run_command(["resume", str(project)]) == 0  # the most recent interrupted job
    with Store.open(project) as store:
        assert store.get_job(job.job_id).status == "finished"
        for prompt in chosen:
            nodes = store.nodes_for_prompt(prompt.id)
            assert Counter(n.kind for n in nodes) == {"response": 1, "criticism": 2, "improvement": 2}
        assert "kept-root" in {n.id for n in store.nodes_for_prompt(chosen[0].id)}  # grown on, never replaced
        with pytest.raises(UserError, match="is finished; only an interrupted"):
            resume_job(store, job.job_id)
        with pytest.raises(UserError, match="has no interrupted job"):
            resume_job(store)


def test_a_job_whose_model_folder_is_gone_is_not_resumed_and_says_why(project, tmp_path, capsys):
    import shutil

    moved = tmp_path / "model-moved-away"
    shutil.copytree(tiny_chat_model_dir(), moved)
    with Store.open(project) as store:
        request = stage1_request(store, select_prompts(store, 1), ModelSpec(name=str(moved), device="cpu"),
                                 [ScorerSpec()], TreeConfig(), SamplingConfig(max_new_tokens=4), DEFAULT_TEMPLATES)
        job = prepare_job(request, store=store)
        store.update_job(job.job_id, "failed", "The model could not be loaded")
    request_before = (job.job_dir / "request.json").read_text()
    shutil.rmtree(moved)

    assert run_command(["resume", str(project), job.job_id]) == 2  # a person's mistake: exit 2
    err = capsys.readouterr().err
    assert f"job {job.job_id} cannot run again as it was asked: Model folder {moved} does not exist" in err
    assert "Traceback" not in err
    with Store.open(project) as store:
        assert store.get_job(job.job_id).status == "failed"  # nothing changed: no queued job left behind
    assert (job.job_dir / "request.json").read_text() == request_before


def test_a_rerun_straight_after_kill_9_of_the_cli_never_grows_an_overfull_tree(project, capsys):
    """Issue 10's repro: kill -9 the CLI part-way, run `generate` again at once, then once more."""
    command = [sys.executable, "-m", "backend.cli.commands", "generate", str(project), "--prompts", "3",
               "--model", str(tiny_chat_model_dir()), "--scorer", f"classifier:{tiny_reward_model_dir()}", *FAST]
    cli = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        jobs = project / "jobs"
        deadline = 300
        start = time.monotonic()
        while time.monotonic() - start < deadline:  # the job's journal has 5 lines
            journals = list(jobs.glob("*/journal.jsonl"))
            if journals and journals[0].read_bytes().count(b"\n") >= 5:
                break
            if cli.poll() is not None:
                pytest.fail("the CLI ended before the test could kill it")
            time.sleep(0.05)
        os.kill(cli.pid, signal.SIGKILL)
    finally:
        cli.wait(30)
    for _ in range(2):
        assert run_command(["generate", str(project), "--prompts", "3", "--model", str(tiny_chat_model_dir()),
                            "--scorer", f"classifier:{tiny_reward_model_dir()}", *FAST]) == 0
    with Store.open(project) as store:
        for prompt_id in store.prompt_ids(limit=3):
            nodes = store.nodes_for_prompt(prompt_id)
            assert Counter(n.kind for n in nodes) == {"response": 1, "criticism": 2, "improvement": 4}
        statuses = Counter(job.status for job in store.jobs())
        assert statuses == {"interrupted": 1, "finished": 2}
        assert store.count_slot_conflicts() == 0


def test_stale_export_temp_files_are_removed_on_open_and_live_ones_kept(project, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    elsewhere = tmp_path / "out"
    elsewhere.mkdir()
    with Store.open(project) as store:
        stale_here = store.exports_dir / f".pairs.jsonl.avr-{dead_pid}-0123abcd.tmp"
        stale_elsewhere = elsewhere / f".pairs.jsonl.avr-{dead_pid}-89abcdef.tmp"
        live = store.exports_dir / f".pairs.jsonl.avr-{os.getpid()}-00000000.tmp"
        foreign = store.exports_dir / ".something.tmp"
        for path in (stale_here, stale_elsewhere, live, foreign):
            path.write_bytes(b"half a file")
        ledger = store.exports_dir / ".writing"
        ledger.mkdir()
        (ledger / stale_elsewhere.name).write_text(str(stale_elsewhere))
        recovery = recover_project(store, wait_s=0)
    assert sorted(recovery.removed_temp_files) == sorted([stale_here, stale_elsewhere])
    assert not stale_here.exists() and not stale_elsewhere.exists() and live.exists() and foreign.exists()
    assert list(ledger.iterdir()) == []

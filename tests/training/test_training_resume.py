"""kill -9 a real training process right after a checkpoint, then train again: the run continues from
that checkpoint and ends where an uninterrupted run with the same seed ends."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import torch
from safetensors.torch import load_file

from backend.training.runs import prepare_run, sync_run
from backend.training.trainer import train_run
from tests.training.project_data import tiny_config

ROOT = Path(__file__).resolve().parents[2]

# Trains the run; after the checkpoint at step 2 it says so and waits, so the kill lands mid-run.
TRAIN_UNTIL_KILLED = textwrap.dedent("""
    import sys
    from backend.training.trainer import train_run

    def on_event(event):
        if event.kind == "checkpoint" and event.step == 2:
            print("checkpoint 2", flush=True)
            sys.stdin.readline()

    train_run(sys.argv[1], on_event=on_event)
    print("finished without being killed", flush=True)
""")


def _adapter(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(run_dir / "adapter" / "adapter_model.safetensors")


def test_resume_after_sigkill_continues_from_the_checkpoint(store, tiny_base):
    config = tiny_config("dpo", tiny_base, max_steps=4, checkpoint_steps=2)
    killed = prepare_run(store, config)
    process = subprocess.Popen([sys.executable, "-c", TRAIN_UNTIL_KILLED, str(killed.folder.path)], cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env=os.environ | {"PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout.readline().strip() == "checkpoint 2"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert killed.folder.result() is None and [s for s, _ in killed.folder.checkpoints()] == [2]
    assert sync_run(store, killed.run.id).status == "running"  # what the app sees after the crash

    again = prepare_run(store, config)  # `train` again finds the interrupted run
    assert again.resumed and again.run.id == killed.run.id
    events = []
    result = train_run(again.folder.path, on_event=events.append)
    assert (result.status, result.step, result.resumed_from_step) == ("finished", 4, 2)
    assert [e.step for e in events if e.kind == "metrics"] == [3, 4]
    sync_run(store, killed.run.id)
    assert sorted({step for step, _, _ in store.run_metrics(killed.run.id)}) == [1, 2, 3, 4]  # both sessions

    straight = prepare_run(store, config, new=True)
    train_run(straight.folder.path)
    resumed, uninterrupted = _adapter(killed.folder.path), _adapter(straight.folder.path)
    assert resumed.keys() == uninterrupted.keys()
    for name in resumed:
        torch.testing.assert_close(resumed[name], uninterrupted[name], atol=1e-6, rtol=1e-5)

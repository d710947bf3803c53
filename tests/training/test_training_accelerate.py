"""The same trainer code under `accelerate launch`: two CPU processes train one run data-parallel, with
the shipped launch config; only the main process writes the run's files."""

import os
import subprocess
import sys
from pathlib import Path

from backend.training.config import with_preset
from backend.training.estimate import planned_steps
from backend.training.runs import prepare_run, sync_run
from tests.training.project_data import tiny_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "packaging" / "accelerate" / "cpu-2-processes.yaml"


def test_two_cpu_processes_train_one_run(store, tiny_base):
    config = tiny_config("rsft", tiny_base, max_steps=None, epochs=1.0, batch_size=1, max_length=1024,
                         checkpoint_steps=100)
    prepared = prepare_run(store, config)
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(CONFIG),
              "-m", "backend.training.launch", "--quiet", str(prepared.folder.path)]
    done = subprocess.run(launch, cwd=ROOT, capture_output=True, text=True, timeout=240,
                          env=os.environ | {"PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""})
    assert done.returncode == 0, done.stderr[-3000:]

    run = sync_run(store, prepared.run.id)
    assert run.status == "finished" and run.environment["processes"] == 2
    # Each process took half of every epoch: half the optimizer steps of one process.
    rows = prepared.snapshot.counts.train_rows
    result = prepared.folder.result()
    assert result.max_steps == planned_steps(with_preset(config), rows, processes=2) == -(-rows // 2)
    events = prepared.folder.events()
    assert [e.kind for e in events].count("started") == 1  # one writer
    assert [e.step for e in events if e.kind == "metrics"] == list(range(1, result.max_steps + 1))
    assert (prepared.folder.path / "adapter" / "adapter_model.safetensors").is_file()

"""One training session of a run folder, shared by every stage: refuse to retrain a finished run, check the
snapshot, resume from the last complete checkpoint, stream events, honour cancel, save the output and
write the result. Runs in the worker process, or in each process of `accelerate launch`.

A stage module supplies two functions: `build(config, snapshot, folder) -> trainer` and
`save(trainer, config, snapshot, folder) -> Output`.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from backend.errors import ModelLoadError, UserError
from backend.training.config import TrainingConfig
from backend.training.events import RunResult, TrainingEvent
from backend.training.run_folder import RunFolder
from backend.training.snapshot import Snapshot, SnapshotChangedError, read_snapshot

EventSink = Callable[[TrainingEvent], None]
StopCheck = Callable[[], bool]
PACKAGES = ("torch", "transformers", "trl", "peft", "accelerate", "datasets")


@dataclass(frozen=True)
class Output:
    """What a stage saved: the folder name inside the run folder, its kind, and metrics it measured."""

    name: str  # "adapter" or "model"
    kind: str  # "adapter" or "model"
    metrics: dict[str, float] = field(default_factory=dict)


Build = Callable[[TrainingConfig, Snapshot, RunFolder], Any]
Save = Callable[[Any, TrainingConfig, Snapshot, RunFolder], Output]


def run_session(folder: RunFolder, build: Build, save: Save, on_event: EventSink | None = None,
                should_stop: StopCheck | None = None, base_folder: str | None = None) -> RunResult:
    """`base_folder` loads the run's base from another place (the same model copied to a cluster); the run
    still records the base it was prepared with."""
    info = folder.read_run()
    config = TrainingConfig.from_dict(info["config"])
    previous = folder.result()
    if previous is not None and previous.status == "finished":
        # A finished run is never retrained silently: report what it did and train nothing.
        _notify(on_event, TrainingEvent("log", folder.run_id, step=previous.step, max_steps=previous.max_steps,
                                        message=f"run {folder.run_id} had finished; nothing was retrained",
                                        time=time.time()))
        return replace(previous, reused=True)
    snapshot = read_snapshot(folder.path)
    if snapshot.data_hash != info["data_hash"]:
        raise SnapshotChangedError(f"run {folder.run_id} recorded data {info['data_hash']} but its snapshot holds "
                                   f"{snapshot.data_hash}; start a new run")
    from transformers import set_seed

    from backend.training.callbacks import EventCallback

    _quiet_progress_bars()
    set_seed(config.seed)  # before the models load: a new reward head or LoRA weights start the same way
    checkpoint = folder.last_checkpoint()
    resumed_from = checkpoint[0] if checkpoint else None
    main = os.environ.get("RANK", "0") == "0"  # accelerate launch numbers its processes; alone we are rank 0

    def emit(event: TrainingEvent) -> None:
        if main:
            folder.append_event(event)
            _notify(on_event, event)

    def failed(error: Exception, step: int = 0, max_steps: int = 0) -> None:
        message = str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
        if main:
            folder.write_result(RunResult(run_id=folder.run_id, stage=config.stage, status="failed", step=step,
                                          max_steps=max_steps, resumed_from_step=resumed_from, error=message))
            emit(TrainingEvent("ended", folder.run_id, step=step, max_steps=max_steps, message=f"failed: {message}",
                               time=time.time()))

    try:
        trainer = build(replace(config, base=base_folder) if base_folder else config, snapshot, folder)
    except Exception as error:
        failed(error)
        raise
    _keep_stdout_clean(trainer)
    main = trainer.is_world_process_zero()
    callback = EventCallback(folder.run_id, emit, should_stop)
    trainer.add_callback(callback)
    if main:
        folder.clear_result()
        folder.write_environment(environment(trainer))
    try:
        output = trainer.train(resume_from_checkpoint=str(checkpoint[1]) if checkpoint else None)
        state = trainer.state
        if callback.cancelled:
            status, saved = "cancelled", None
        else:
            status, saved = "finished", save(trainer, config, snapshot, folder)
    except Exception as error:
        failed(error, trainer.state.global_step, trainer.state.max_steps)
        raise
    metrics = {**callback.last_metrics, **callback.summary, **(saved.metrics if saved else {})}
    metrics = {key: value for key, value in metrics.items() if key != "num_tokens"}
    if output.metrics.get("train_loss") is not None:
        metrics["train_loss"] = float(output.metrics["train_loss"])
    speed = callback.session_tokens_per_second
    if speed is not None:
        metrics["train_tokens_per_second"] = speed
    result = RunResult(run_id=folder.run_id, stage=config.stage, status=status, step=state.global_step,
                       max_steps=state.max_steps, metrics=metrics, output_dir=saved.name if saved else None,
                       output_kind=saved.kind if saved else None,
                       resumed_from_step=resumed_from)
    if main:
        folder.write_result(result)
        emit(TrainingEvent("ended", folder.run_id, step=result.step, max_steps=result.max_steps, metrics=metrics,
                           message=status, time=time.time()))
    return result


def trainer_arguments(config: TrainingConfig, folder: RunFolder) -> dict[str, Any]:
    """The TrainingArguments every stage shares, from the run's config (preset already filled)."""
    import torch

    cuda = torch.cuda.is_available()
    if config.device == "cuda" and not cuda:
        raise ModelLoadError(f"the {config.preset} preset trains on a GPU, and no CUDA GPU is visible; choose the "
                             "cpu-small preset (or device cpu)")
    use_cpu = config.device == "cpu" or not cuda
    return dict(
        output_dir=str(folder.checkpoints_dir),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation,
        learning_rate=config.learning_rate,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1,
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.checkpoint_steps,
        save_total_limit=config.keep_checkpoints,
        seed=config.seed,
        data_seed=config.seed,
        report_to=[],
        disable_tqdm=True,
        use_cpu=use_cpu,
        bf16=config.precision == "bfloat16",
        fp16=config.precision == "float16",
        activation_checkpointing=bool(config.gradient_checkpointing),
        dataloader_num_workers=0,
    )


def load_dtype(config: TrainingConfig) -> str:
    """Weights dtype at load: a LoRA base may sit in bf16 (it is frozen); trained weights stay fp32 (mixed
    precision keeps fp32 master weights)."""
    return "bfloat16" if config.lora and config.precision == "bfloat16" else "float32"


def environment(trainer) -> dict[str, Any]:
    import torch

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    device = str(trainer.args.device)
    return {
        "packages": versions,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
        "processes": trainer.args.world_size,
        "torch_threads": torch.get_num_threads(),
        "started_at": time.time(),
    }


def _quiet_progress_bars() -> None:
    """Progress reaches the person as events; the libraries' own bars would only clutter the job log."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def _keep_stdout_clean(trainer) -> None:
    """The worker's stdout carries protocol messages only: drop the Trainer's log printer and progress bar."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def _notify(on_event: EventSink | None, event: TrainingEvent) -> None:
    if on_event is not None:
        on_event(event)

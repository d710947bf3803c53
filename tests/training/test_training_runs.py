"""Training runs on the tiny model: weights move, the run and its metrics land in the database, cancel
leaves a checkpoint that the next call resumes from, and a finished run is never retrained."""

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

from backend.errors import UserError
from backend.training.models import reward_model_dir, run_model_dir
from backend.training.run_folder import RunFolder
from backend.training.runs import RunAlreadyFinishedError, prepare_run, sync_run
from backend.training.snapshot import data_hash
from backend.training.trainer import train_run
from tests.training.project_data import tiny_config


def _weights(model) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def _changed(before: dict, after: dict) -> list[str]:
    return [name for name, tensor in before.items() if not torch.equal(tensor, after[name])]


@pytest.mark.parametrize("stage", ["rsft", "dpo"])
@pytest.mark.parametrize("lora", [True, False])
def test_a_step_changes_the_weights_and_the_run_is_recorded(store, tiny_base, stage, lora):
    prepared = prepare_run(store, tiny_config(stage, tiny_base, lora=lora))
    events = []
    result = train_run(prepared.folder.path, on_event=events.append)
    assert (result.status, result.step, result.output_kind) == ("finished", 2, "adapter" if lora else "model")

    base = _weights(AutoModelForCausalLM.from_pretrained(tiny_base))
    trained = _weights(AutoModelForCausalLM.from_pretrained(run_model_dir(store.project_dir, f"run:{prepared.run.id}")))
    changed = _changed(base, trained)
    assert any("q_proj" in name for name in changed)
    if lora:  # LoRA touches the projections only
        assert all("proj" in name for name in changed)

    run = sync_run(store, prepared.run.id)
    manifest = json.loads((prepared.folder.path / "data" / "manifest.json").read_text())
    assert run.status == "finished" and run.data_hash == manifest["data_hash"]
    assert run.data_hash == data_hash({"train": prepared.snapshot.rows("train")})
    assert run.environment["packages"]["trl"] and run.environment["processes"] == 1
    assert run.adapter_path == f"{run.output_dir}/{result.output_dir}" and run.finished_at is not None
    # The metrics, counted by a query of our own, are the logged steps' metrics.
    logged = [event for event in events if event.kind == "metrics"]
    count, first, last = store._db.row(
        "SELECT count(*), min(step), max(step) FROM run_metrics WHERE run_id = ? AND name = 'loss'", [run.id])
    assert (count, first, last) == (len(logged), 1, 2)
    assert store.run_metrics(run.id) == sorted(
        (e.step, name, value) for e in logged for name, value in e.metrics.items())
    assert run.metrics["train_loss"] > 0 and run.metrics["train_tokens_per_second"] > 0
    if stage == "dpo":
        assert {"rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"} <= set(run.metrics)
    assert [e.kind for e in events][0] == "started" and events[-1].kind == "ended"
    assert logged[-1].progress == 1.0 and logged[-1].eta_seconds == 0.0


def test_a_finished_run_is_never_retrained(store, tiny_base):
    config = tiny_config("rsft", tiny_base)
    prepared = prepare_run(store, config)
    first = train_run(prepared.folder.path)
    lines = prepared.folder.events_path.read_text()
    again = train_run(prepared.folder.path)
    assert again.reused and again.step == first.step and prepared.folder.events_path.read_text() == lines
    sync_run(store, prepared.run.id)
    with pytest.raises(RunAlreadyFinishedError, match=prepared.run.id):
        prepare_run(store, config)
    assert prepare_run(store, config, new=True).run.id != prepared.run.id


def test_cancel_saves_a_checkpoint_and_the_next_call_resumes(store, tiny_base):
    prepared = prepare_run(store, tiny_config("dpo", tiny_base, max_steps=3, checkpoint_steps=10))
    steps_seen = []

    def stop_after_first_step() -> bool:
        steps_seen.append(1)
        return True

    cancelled = train_run(prepared.folder.path, should_stop=stop_after_first_step)
    assert (cancelled.status, cancelled.step) == ("cancelled", 1)
    assert [step for step, _ in prepared.folder.checkpoints()] == [1]
    assert sync_run(store, prepared.run.id).status == "cancelled"
    again = prepare_run(store, tiny_config("dpo", tiny_base, max_steps=3, checkpoint_steps=10))
    assert again.resumed and again.run.id == prepared.run.id
    finished = train_run(again.folder.path)
    assert (finished.status, finished.step, finished.resumed_from_step) == ("finished", 3, 1)
    assert sync_run(store, prepared.run.id).status == "finished"


def test_a_run_on_top_of_a_run(store, tiny_base):
    """RSFT, then DPO from run:<rsft>: the chain of adapters is what the DPO run starts from."""
    sft = prepare_run(store, tiny_config("rsft", tiny_base))
    train_run(sft.folder.path)
    dpo = prepare_run(store, tiny_config("dpo", f"run:{sft.run.id}"))
    assert train_run(dpo.folder.path).status == "finished"
    folders = [run_model_dir(store.project_dir, name) for name in (tiny_base, f"run:{sft.run.id}", f"run:{dpo.run.id}")]
    weights = [_weights(AutoModelForCausalLM.from_pretrained(folder)) for folder in folders]
    assert _changed(weights[0], weights[1]) and _changed(weights[1], weights[2])


def test_only_a_finished_reward_run_is_a_scorer(store, tiny_base):
    prepared = prepare_run(store, tiny_config("rsft", tiny_base))
    train_run(prepared.folder.path)
    with pytest.raises(UserError, match="not a finished reward-model run"):
        reward_model_dir(store.project_dir, f"rm:{prepared.run.id}")


def test_a_base_run_that_has_not_finished_is_refused(store, tiny_base):
    sft = prepare_run(store, tiny_config("rsft", tiny_base))
    dpo = prepare_run(store, tiny_config("dpo", f"run:{sft.run.id}"))
    with pytest.raises(Exception, match="has not finished"):
        train_run(dpo.folder.path)
    assert RunFolder(dpo.folder.path).result().status == "failed"
    assert sync_run(store, dpo.run.id).error.startswith(f"run {sft.run.id} has not finished")


def test_reward_model_loads_as_a_classifier_scorer_and_reports_agreement(store, tiny_base):
    prepared = prepare_run(store, tiny_config("reward", tiny_base, reward_eval_fraction=0.5))
    result = train_run(prepared.folder.path)
    assert result.output_kind == "model" and result.metrics["heldout_pairs"] == prepared.snapshot.counts.eval_rows
    model_dir = prepared.folder.path / "model"
    assert reward_model_dir(store.project_dir, f"rm:{prepared.run.id}") == model_dir  # what a scorer picker loads
    reward = AutoModelForSequenceClassification.from_pretrained(model_dir)
    assert reward.config.num_labels == 1 and reward.config.architectures == ["LlamaForSequenceClassification"]
    backbone = _weights(AutoModelForCausalLM.from_pretrained(tiny_base).model)
    assert _changed(backbone, _weights(reward.model))  # the LoRA update is merged into the saved weights

    from backend.config import ScorerSpec
    from backend.scorers.classifier import ClassifierScorer

    rows = prepared.snapshot.rows("eval")
    scorer = ClassifierScorer(ScorerSpec(kind="classifier", model=str(model_dir)), device="cpu")
    chosen = scorer.score([(r["prompt"][0]["content"], r["chosen"][0]["content"]) for r in rows])
    rejected = scorer.score([(r["prompt"][0]["content"], r["rejected"][0]["content"]) for r in rows])
    expected = sum(1.0 if c > r else 0.5 if c == r else 0.0 for c, r in zip(chosen, rejected, strict=True)) / len(rows)
    assert result.metrics["heldout_agreement"] == expected


def test_a_run_trains_from_a_copy_of_its_base_elsewhere(store, tiny_base, tmp_path):
    """On a cluster the base model sits at another path; the run still records the base it was prepared with."""
    import shutil

    desktop_copy = shutil.copytree(tiny_base, tmp_path / "desktop-model")
    prepared = prepare_run(store, tiny_config("rsft", str(desktop_copy)))
    cluster_copy = shutil.copytree(desktop_copy, tmp_path / "cluster-model")
    shutil.rmtree(desktop_copy)
    result = train_run(prepared.folder.path, base_folder=str(cluster_copy))
    assert result.status == "finished"
    assert prepared.folder.read_run()["base"] == str(desktop_copy) == sync_run(store, prepared.run.id).base

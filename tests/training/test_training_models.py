"""Models around training: a merged run gives the logits of base + adapter; a reward pair's weight scales
its loss as the Bradley-Terry formula says; the planned steps are the steps the Trainer makes."""

import math

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from backend.training.config import with_preset
from backend.training.estimate import planned_steps
from backend.training.models import resolve_base, run_model_dir
from backend.training.runs import prepare_run
from backend.training.trainer import train_run
from tests.training.project_data import tiny_config


def test_a_merged_run_is_base_plus_adapter(store, tiny_base):
    prepared = prepare_run(store, tiny_config("rsft", tiny_base))
    train_run(prepared.folder.path)
    merged = run_model_dir(store.project_dir, f"run:{prepared.run.id}")
    assert merged == prepared.folder.path / "merged" and (merged / "tokenizer.json").is_file()
    assert resolve_base(f"run:{prepared.run.id}", store.runs_dir).adapters == (prepared.folder.path / "adapter",)
    tokenizer = AutoTokenizer.from_pretrained(merged)
    ids = tokenizer("Baking soda cleans pans.", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        direct = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_base),
                                           str(prepared.folder.path / "adapter")).eval()(ids).logits
        plain = AutoModelForCausalLM.from_pretrained(merged).eval()(ids).logits
        base = AutoModelForCausalLM.from_pretrained(tiny_base).eval()(ids).logits
    torch.testing.assert_close(plain, direct, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(plain, base, atol=1e-5)
    assert run_model_dir(store.project_dir, tiny_base) == resolve_base(tiny_base, store.runs_dir).folder


def test_unknown_run_base_says_what_to_do(store):
    with pytest.raises(Exception, match="does not exist.*avr-studio runs"):
        resolve_base("run:nope", store.runs_dir)


def test_the_weighted_reward_loss_is_the_weighted_bradley_terry_loss(store, tiny_base):
    prepared = prepare_run(store, tiny_config("reward", tiny_base, reward_use_reward_pairs=True,
                                              reward_pair_weight=0.25))
    from backend.training.config import TrainingConfig
    from backend.training.reward import build

    trainer = build(TrainingConfig.from_dict(prepared.folder.read_run()["config"]), prepared.snapshot,
                    prepared.folder)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(4)])
    weights = batch["weight"].tolist()
    assert sorted(set(weights)) == [0.25, 1.0]
    model = trainer.model.eval()
    with torch.no_grad():
        loss = trainer.compute_loss(model, dict(batch)).item()
        rewards = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.squeeze(-1)
    chosen, rejected = rewards[:4].tolist(), rewards[4:].tolist()
    expected = sum(w * math.log1p(math.exp(-(c - r))) for w, c, r in zip(weights, chosen, rejected, strict=True)) / sum(weights)
    assert loss == pytest.approx(expected, rel=1e-5)


def test_planned_steps_are_the_steps_the_trainer_makes(store, tiny_base):
    config = tiny_config("dpo", tiny_base, max_steps=None, epochs=2.0, batch_size=2, gradient_accumulation=2,
                         checkpoint_steps=100, max_length=1024)  # long enough that TRL drops no pair
    prepared = prepare_run(store, config)
    expected = planned_steps(with_preset(config), prepared.snapshot.counts.train_rows)
    assert train_run(prepared.folder.path).max_steps == expected == math.ceil(
        math.ceil(prepared.snapshot.counts.train_rows / 2) / 2) * 2

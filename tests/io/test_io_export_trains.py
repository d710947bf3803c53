"""Exported TRL files train as they are: 2 steps of DPOTrainer and SFTTrainer on the tiny chat model."""

from __future__ import annotations

import datasets
import pytest

from backend.domain import Pair, SftSample
from backend.io import export_rows
from tests.support.tiny_models import tiny_chat_model_dir

trl = pytest.importorskip("trl")
transformers = pytest.importorskip("transformers")

CONTEXT = [{"role": "user", "content": "Name two uses of baking soda."}]


def _model_and_tokenizer():
    folder = tiny_chat_model_dir()
    return (transformers.AutoModelForCausalLM.from_pretrained(folder),
            transformers.AutoTokenizer.from_pretrained(folder))


def _common_args(output_dir) -> dict:
    return dict(output_dir=str(output_dir), use_cpu=True, max_steps=2, per_device_train_batch_size=2,
                max_length=128, report_to=[], learning_rate=1e-3, activation_checkpointing=False,
                save_strategy="no", logging_steps=1)


def _parameters_changed(model, before) -> bool:
    return any(not before[name].equal(param.detach()) for name, param in model.named_parameters())


def test_dpo_trains_on_an_exported_pairs_file(tmp_path):
    pairs = [Pair("response", f"p{i}", CONTEXT, chosen=f"Baking soda leavens cakes ({i}).",
                  rejected=f"Cooking {i}.") for i in range(4)]
    out = tmp_path / "pairs.parquet"
    export_rows(pairs, "pairs", "trl", out)
    dataset = datasets.load_dataset("parquet", data_files=str(out), split="train", cache_dir=str(tmp_path / "c"))
    model, tokenizer = _model_and_tokenizer()
    before = {name: param.detach().clone() for name, param in model.named_parameters()}
    trainer = trl.DPOTrainer(model=model, ref_model=trl.create_reference_model(model),
                             args=trl.DPOConfig(**_common_args(tmp_path / "dpo")), train_dataset=dataset,
                             processing_class=tokenizer)
    trainer.train()
    assert trainer.state.global_step == 2
    assert _parameters_changed(model, before)


def test_sft_trains_on_an_exported_long_thought_file(tmp_path):
    samples = [SftSample("long_thought", f"p{i}", [*CONTEXT, {"role": "assistant", "content": f"Cakes and pans {i}."}])
               for i in range(4)]
    out = tmp_path / "long-thought.jsonl"
    export_rows(samples, "long-thought", "trl", out)
    dataset = datasets.load_dataset("json", data_files=str(out), split="train", cache_dir=str(tmp_path / "c"))
    model, tokenizer = _model_and_tokenizer()
    before = {name: param.detach().clone() for name, param in model.named_parameters()}
    trainer = trl.SFTTrainer(model=model, args=trl.SFTConfig(**_common_args(tmp_path / "sft")),
                             train_dataset=dataset, processing_class=tokenizer)
    trainer.train()
    assert trainer.state.global_step == 2
    assert _parameters_changed(model, before)

"""The SFT loss mask on one decoded example: every assistant turn by default, the last one on request,
as the labels TRL's SFTTrainer actually trains on."""

import pytest

from backend.domain import Prompt, SftSample
from backend.store import Store
from backend.training.config import TrainingConfig
from backend.training.runs import prepare_run
from backend.training.sft import build
from tests.training.project_data import JUDGE, REVISE, rsft_sample, tiny_config

PROMPT = Prompt.from_text("Question 0: name a use of baking soda number 0.")


@pytest.mark.parametrize(("turns", "expected"), [
    ("all", "Baking soda cleans pans 0.<|im_end|>\n"
            "It is too short 0. Rating: [[4]]<|im_end|>\n"
            "Baking soda cleans pans and leavens cakes 0.<|im_end|>\n"),
    ("last", "Baking soda cleans pans and leavens cakes 0.<|im_end|>\n"),
])
def test_the_labels_cover_the_asked_for_assistant_turns(tmp_path, tiny_base, turns, expected):
    refinement = rsft_sample(PROMPT, 0)
    single_turn = SftSample("rsft", PROMPT.id, refinement.messages[:2])  # a second sample fills the batch
    with Store.create(tmp_path / "p") as store:
        store.add_prompts([PROMPT])
        store.add_sft_samples([refinement, single_turn])
        prepared = prepare_run(store, tiny_config("rsft", tiny_base, sft_loss_turns=turns, heldout_fraction=0.0,
                                                      max_length=1024))
    config = TrainingConfig.from_dict(prepared.folder.read_run()["config"])
    trainer = build(config, prepared.snapshot, prepared.folder)
    index = next(i for i, row in enumerate(prepared.snapshot.rows()) if len(row["prompt"]) == 5)
    example = trainer.train_dataset[index]
    decode = trainer.processing_class.decode
    assert decode([token for token in example["labels"] if token != -100]) == expected
    whole = decode(example["input_ids"])
    assert whole.count(JUDGE) == 1 and whole.count(REVISE) == 1 and PROMPT.text in whole
    assert whole.endswith(expected.rsplit("<|im_end|>\n", 2)[-2] + "<|im_end|>\n")

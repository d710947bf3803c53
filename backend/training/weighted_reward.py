"""TRL's `RewardTrainer` with a per-pair weight: the Bradley-Terry loss of each pair times its `weight`,
normalised by the batch's total weight (all weights 1 gives TRL's loss exactly). Used to add
reward-decided pairs to the person's at a lower weight. Imported only inside training functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from trl import RewardTrainer
from trl.trainer.reward_trainer import DataCollatorForPreference


@dataclass
class WeightedPreferenceCollator(DataCollatorForPreference):
    def torch_call(self, examples):
        output = super().torch_call(examples)
        if "weight" in examples[0]:
            output["weight"] = torch.tensor([float(example["weight"]) for example in examples], dtype=torch.float)
        return output


class WeightedRewardTrainer(RewardTrainer):
    def __init__(self, *args, **kwargs) -> None:
        processing_class = kwargs["processing_class"]
        kwargs.setdefault("data_collator", WeightedPreferenceCollator(pad_token_id=processing_class.pad_token_id))
        super().__init__(*args, **kwargs)

    def _set_signature_columns_if_needed(self):
        if self._signature_columns is None:
            self._signature_columns = ["chosen_ids", "rejected_ids", "margin", "weight"]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        weight = inputs.pop("weight", None)
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        if weight is not None:
            chosen, rejected = torch.chunk(outputs.logits.squeeze(-1), chunks=2)
            weight = weight.to(chosen.device, chosen.dtype)
            per_pair = -nn.functional.logsigmoid(chosen - rejected)
            loss = (per_pair * weight).sum() / weight.sum().clamp(min=1e-8)
        return (loss, outputs) if return_outputs else loss

"""A key/value cache of fixed rows ("slots") that sequences of different lengths share, for the
continuous-batching decode loop (continuous.py). Imported only by that loop: it needs torch.

transformers' DynamicCache grows by concatenating every step (a copy of the whole cache per token) and
keeps one length for the batch, so a finished row cannot be refilled. Here each layer owns one
preallocated `[rows, kv_heads, length, head_dim]` buffer; row r holds its own sequence at positions
`0 .. lengths[r]-1`, and a plan set before each forward says where the new keys go:

- decode: rows `0 .. n-1` each write one key at their own length (one indexed write per layer);
- prefill: a few rows, left-padded to one width, each write their real tokens after a cached prefix.

The model's attention reads a view of the first rows (no copy) under a 4-D mask that the loop builds
from the lengths. Rows are moved, copied and saved by slicing the buffers (`move_row`, `copy_prefix`,
`save_row`, `load_row`), which is how finished rows are refilled and prefixes shared.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers.cache_utils import Cache, CacheLayerMixin

_GROW_STEP = 256  # positions are allocated in steps of this many (reallocation copies the buffers)


@dataclass
class DecodePlan:
    rows: int  # rows 0 .. rows-1 take part
    positions: torch.Tensor  # [rows] where each row's new key goes (its length before the step)
    width: int  # key positions the attention reads (max position + 1)

    def __post_init__(self) -> None:
        self.row_index = torch.arange(self.rows, device=self.positions.device)  # made once per step


@dataclass
class PrefillPlan:
    rows: list[int]  # the rows taking part, in input order
    offsets: list[int]  # per row: cached prefix length (its new tokens start there)
    pads: list[int]  # per row: left padding of its input (those positions write nothing)
    width: int  # key positions the attention reads (max offset + input width)


class _SlotLayer(CacheLayerMixin):
    """One layer's buffers; writes follow the owning cache's current plan."""

    is_sliding = False

    def __init__(self, owner: SlotCache) -> None:
        super().__init__()
        self._owner = owner

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        shape = (self._owner.rows, key_states.shape[1], self._owner.capacity, key_states.shape[-1])
        self.keys = torch.zeros(shape, dtype=key_states.dtype, device=key_states.device)
        self.values = torch.zeros(shape[:3] + (value_states.shape[-1],), dtype=value_states.dtype,
                                  device=value_states.device)
        self.is_initialized = True

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        plan = self._owner.plan
        if isinstance(plan, DecodePlan):
            self.keys[plan.row_index, :, plan.positions] = key_states[:, :, 0]
            self.values[plan.row_index, :, plan.positions] = value_states[:, :, 0]
            return self.keys[:plan.rows, :, :plan.width], self.values[:plan.rows, :, :plan.width]
        width = key_states.shape[2]
        for i, (row, offset, pad) in enumerate(zip(plan.rows, plan.offsets, plan.pads, strict=True)):
            self.keys[row, :, offset:offset + width - pad] = key_states[i, :, pad:]
            self.values[row, :, offset:offset + width - pad] = value_states[i, :, pad:]
        first, count = plan.rows[0], len(plan.rows)
        if plan.rows == list(range(first, first + count)):  # adjacent rows: a view, no copy
            return self.keys[first:first + count, :, :plan.width], self.values[first:first + count, :, :plan.width]
        index = torch.tensor(plan.rows, device=self.keys.device)
        return self.keys[index, :, :plan.width], self.values[index, :, :plan.width]

    def grow(self, capacity: int) -> None:
        if not self.is_initialized:
            return
        for name in ("keys", "values"):
            old = getattr(self, name)
            new = old.new_zeros(old.shape[:2] + (capacity, old.shape[-1]))
            new[:, :, :old.shape[2]] = old
            setattr(self, name, new)

    # The loop never asks these (it passes positions and a 4-D mask), but Cache's API requires them.
    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return self._owner.capacity, 0

    def get_seq_length(self) -> int:
        return 0

    def get_max_length(self) -> int:
        return self._owner.capacity


class SlotCache(Cache):
    def __init__(self, num_layers: int, rows: int, capacity: int = _GROW_STEP) -> None:
        self.rows = rows
        self.capacity = capacity
        self.plan: DecodePlan | PrefillPlan | None = None
        super().__init__(layers=[_SlotLayer(self) for _ in range(num_layers)])

    @property
    def slot_layers(self) -> list[_SlotLayer]:
        return self.layers  # type: ignore[return-value]

    def ensure_capacity(self, positions: int) -> None:
        """Make room for `positions` keys per row (buffers grow in steps, keeping what they hold)."""
        if positions <= self.capacity:
            return
        self.capacity = max(positions, self.capacity * 2)
        self.capacity = -(-self.capacity // _GROW_STEP) * _GROW_STEP
        for layer in self.slot_layers:
            layer.grow(self.capacity)

    def move_row(self, source: int, target: int, length: int) -> None:
        """Copy the first `length` positions of row `source` over row `target` (all layers)."""
        for layer in self.slot_layers:
            if layer.is_initialized:
                layer.keys[target, :, :length] = layer.keys[source, :, :length]
                layer.values[target, :, :length] = layer.values[source, :, :length]

    copy_prefix = move_row  # the same copy; the name says why a caller makes it

    def save_row(self, row: int, length: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """A copy of row `row`'s first `length` keys and values per layer, to load into any row later."""
        return [(layer.keys[row, :, :length].clone(), layer.values[row, :, :length].clone())
                for layer in self.slot_layers]

    def load_row(self, row: int, saved: list[tuple[torch.Tensor, torch.Tensor]], length: int) -> None:
        """Put the first `length` positions of a saved row into row `row`."""
        for layer, (keys, values) in zip(self.slot_layers, saved, strict=True):
            if not layer.is_initialized:
                layer.lazy_initialization(keys.unsqueeze(0), values.unsqueeze(0))
            layer.keys[row, :, :length] = keys[:, :length]
            layer.values[row, :, :length] = values[:, :length]

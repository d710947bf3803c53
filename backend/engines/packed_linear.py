"""bf16 linear layers with their weights laid out once for oneDNN, for generation on x86 CPUs.

`F.linear` on a bf16 CPU weight reorders the weight into oneDNN's blocked layout on every call; a
decode step is a few rows times every weight of the model, so that reorder is a third of a small-batch
step here (measured, one thread: a 1536x576 layer at 8 rows 199 -> 133 us; SmolLM2's 49152x576 output
layer 10.1 -> 6.5 ms). Reordering once at load gives the same numbers bit for bit (same kernel).
Heavy imports stay inside functions.
"""

from __future__ import annotations

import types


def room_for_a_copy(model) -> bool:
    """Whether a second copy of `model`'s weights fits comfortably in memory (at most half of what is
    available): packed or fused weights are copies, and a large model must not run the machine out."""
    size = sum(p.numel() * p.element_size() for p in model.parameters())
    try:
        for line in open("/proc/meminfo", encoding="ascii"):
            if line.startswith("MemAvailable:"):
                return size <= int(line.split()[1]) * 1024 // 2
    except OSError:
        pass
    return size <= 2 << 30  # no /proc/meminfo: only small models


def _packing_available() -> bool:
    import torch

    return hasattr(torch.ops.mkldnn, "_reorder_linear_weight") and torch.backends.mkldnn.is_available()


def _packed_forward(self, x):
    import torch

    return torch.ops.mkldnn._linear_pointwise(x, self.packed_weight, self.bias, "none", [], "")


def pack_linear_layers(model, rows_hint: int = 8) -> int:
    """Give every bf16 CPU `nn.Linear` of `model` a pre-reordered weight; returns how many were packed
    (0 where oneDNN cannot, or where a packed layer would not reproduce `F.linear` exactly)."""
    import torch
    from torch import nn

    if not _packing_available():
        return 0
    layers = [m for m in model.modules() if isinstance(m, nn.Linear) and m.weight.dtype == torch.bfloat16
              and m.weight.device.type == "cpu"]
    packed = 0
    with torch.inference_mode():
        for layer in layers:
            try:
                layer.packed_weight = torch.ops.mkldnn._reorder_linear_weight(layer.weight.detach(), rows_hint)
            except RuntimeError:
                return packed  # this build or CPU has no bf16 oneDNN path: keep F.linear
            if packed == 0:  # check once that the packed path computes what F.linear computes
                probe = torch.randn(3, layer.in_features, dtype=torch.bfloat16)
                if not torch.equal(_packed_forward(layer, probe), nn.functional.linear(probe, layer.weight, layer.bias)):
                    del layer.packed_weight
                    return 0
            layer.forward = types.MethodType(_packed_forward, layer)
            packed += 1
    return packed

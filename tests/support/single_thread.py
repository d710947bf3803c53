"""A fixture that runs a test module's tiny-model torch work on one thread.

On a shared 2-core machine, torch's two OpenMP threads spin-wait on each other when the other core is
busy: a tiny model's generate took ~2.8 s on two threads and ~0.02 s on one (measured).
"""

import pytest


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

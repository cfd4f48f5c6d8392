"""Which implementation computes the pixel metrics on the CPU: compiled loops or torch.

On the CPU the DisCo SSIM and the PSNR/L1 sums run as compiled loops
(:mod:`hvg_eval.ops.cpu_kernels`); on other devices the torch kernels run. The torch kernels
can be forced on the CPU too, so that tests and benchmarks compare both where no GPU is.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch

_state = threading.local()


def compiled_cpu_kernels(device: torch.device) -> bool:
    """Whether the compiled CPU loops compute the metrics of tensors on ``device``."""
    return device.type == "cpu" and not getattr(_state, "torch_only", False)


@contextlib.contextmanager
def torch_kernels() -> Iterator[None]:
    """Runs the torch kernels on the CPU as well, in this thread, for the block."""
    previous = getattr(_state, "torch_only", False)
    _state.torch_only = True
    try:
        yield
    finally:
        _state.torch_only = previous


__all__ = ["compiled_cpu_kernels", "torch_kernels"]

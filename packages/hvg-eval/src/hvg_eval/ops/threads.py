"""Torch intra-op thread limit for the eager pixel-metric kernels.

The kernels are chains of short tensor operations (cache-sized strips). With 2 threads on the
2-core target machine each operation waits for the second thread whenever another process holds
that core (OpenMP; measured 10-30x slower), and splitting ~40 k-element operations gains little
even on a quiet machine. The kernels therefore run on one thread by default.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

KERNEL_THREADS = 1


@contextlib.contextmanager
def kernel_threads(device: torch.device, threads: int = KERNEL_THREADS) -> Iterator[None]:
    """Limits torch's intra-op threads to ``threads`` on CPU for the block, then restores them.

    A no-op off the CPU and while ``torch.compile`` traces.
    """
    previous = torch.get_num_threads()
    change = device.type == "cpu" and previous != threads and not torch.compiler.is_compiling()
    if change:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if change:
            torch.set_num_threads(previous)


__all__ = ["KERNEL_THREADS", "kernel_threads"]

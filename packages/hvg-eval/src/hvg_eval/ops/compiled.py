"""Opt-in ``torch.compile`` of the per-frame kernels.

What is compiled are the whole-frame expressions of :mod:`hvg_eval.metrics.whole_frame` (the
eager strip kernels break dynamo's graph: compiled they ran 10x slower than eager). Measured on
the 2-core CPU (100 pairs at 576², SSIM + PSNR + L1): 0.27 s compiled against 0.10 s for the
default compiled CPU loops and 0.40 s for the torch kernels; so this is meant for GPUs, where
the eager strip kernels launch many small kernels. Off by default because of the first-call
compilation; on with ``compile=True`` on a metric or ``hvg-eval ... --compile``. A failure to
compile is an error, never a silent fallback to eager.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hvg_core.errors import HVGError


def compiled(function: Callable[..., Any]) -> Callable[..., Any]:
    """``torch.compile(function)``; keep the result and reuse it (each call compiles anew).

    Raises:
        HVGError: torch.compile is unavailable here (e.g. no C++ compiler), on first call.
    """
    import torch
    from torch._dynamo.exc import TorchDynamoException

    inner = torch.compile(function)
    label = getattr(function, "__name__", None) or getattr(
        getattr(function, "func", None), "__name__", "kernel"
    )

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return inner(*args, **kwargs)
        except TorchDynamoException as error:  # BackendCompilerFailed and friends
            detail = " ".join(str(error).split())  # one line, however inductor formats it
            raise HVGError(
                f"torch.compile of {label} failed ({type(error).__name__}: {detail}); "
                "run without --compile (compile=False)"
            ) from error

    return guarded

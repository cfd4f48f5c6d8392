"""Opt-in ``torch.compile`` of the per-frame kernels.

The pixel metrics are chains of cheap elementwise ops over large frames; eager torch runs them
as separate memory passes, inductor fuses them into a few loops (measured ~20× faster on CPU for
SSIM at 576², after a one-off compilation of about a minute on a busy 2-core machine; the
compiled code is cached on disk by torch). Off by default because of that first-call cost; on
with ``compile=True`` on a metric or ``hvg-eval ... --compile``. A failure to compile is an
error, never a silent fallback to eager.
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

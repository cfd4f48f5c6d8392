"""Read a weight file's tensors safely (``weights_only=True``), with a one-line failure reason.

Kept apart from :mod:`hvg_eval.weights.loading` (which needs the weight registry) so that the
registry can check digest-less files by their contents without an import circle.
"""

from __future__ import annotations

import os
import re
from typing import Any

from hvg_core.errors import InputError


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Tensors of a checkpoint, loaded with ``weights_only=True``.

    Accepts a bare state dict or ``{"state_dict": ...}``, and strips a DataParallel
    ``module.`` prefix (as ``resnet-50-kinetics.pth`` has).

    Raises:
        InputError: The file is not a loadable tensor checkpoint (file named).
    """
    import torch

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise InputError(_load_failure(error), path=path) from error
    if isinstance(data, dict) and "state_dict" in data and isinstance(data["state_dict"], dict):
        data = data["state_dict"]
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        raise InputError("expected a state dict (a mapping of names to tensors)", path=path)
    return {key.removeprefix("module."): value for key, value in data.items()}


def _load_failure(error: Exception) -> str:
    """Our one-line reason for a failed ``torch.load(weights_only=True)``.

    torch's own message advises re-running with ``weights_only=False`` (which would execute code
    from the file) and filing an issue with PyTorch; neither applies to a weight file HVG reads,
    so only the offending detail is kept.
    """
    text = str(error)
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if found:
        return (
            f"the file holds Python objects besides tensors ({found.group(1)}); HVG reads "
            "weight files as tensors only and never runs code from them "
            "(--allow-unverified-weights accepts a checksum mismatch, not that): use the "
            "published file, or re-save the weights with torch.save(model.state_dict(), path)"
        )
    detail = re.search(r"WeightsUnpickler error:\s*([^\n]+)", text)
    lines = text.strip().splitlines()
    reason = detail.group(1) if detail else (lines[0] if lines else type(error).__name__)
    reason = reason.split(". ")[0].rstrip(".")[:160]
    return f"not a readable torch checkpoint ({reason}); use the published file"

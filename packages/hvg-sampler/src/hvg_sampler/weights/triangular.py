"""MimicMotion's half-offset triangle."""

from __future__ import annotations

import torch


def triangular_weights(length: int) -> torch.Tensor:
    """``w_k = 1 - |2k + 1 - length| / length`` (MimicMotion ``pipeline_mimicmotion.py``).

    Symmetric, from ``1/length`` at both ends to ``(length - 1)/length`` (even) or ``1`` (odd) in
    the middle; equals ``(2·min(k + 1, length - k) - 1) / length``.

    Returns:
        ``(length,)`` float64, values in ``(0, 1]``.
    """
    k = torch.arange(length, dtype=torch.float64)
    return 1.0 - (2 * k + 1 - length).abs() / length

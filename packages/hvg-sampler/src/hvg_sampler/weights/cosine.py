"""Cosine (Hann-like) weights that stay positive at the window ends."""

from __future__ import annotations

import math

import torch


def cosine_weights(length: int) -> torch.Tensor:
    """``w_k = sin(π (k + ½) / length)``: a half cosine sampled at position centres.

    Sampling at ``k + ½`` keeps the end weights at ``sin(π / 2L) > 0`` (a Hann window sampled at
    integers would give 0 there and leave an element covered by only its edge uncovered).

    Returns:
        ``(length,)`` float64, values in ``(0, 1]``.
    """
    k = torch.arange(length, dtype=torch.float64)
    return torch.sin(math.pi * (k + 0.5) / length)

"""Pyramid weights (FreeNoise; ADE and ComfyUI default)."""

from __future__ import annotations

import torch


def pyramid_weights(length: int) -> torch.Tensor:
    """``w_k = min(k + 1, length - k)``: 1, 2, …, peak, …, 2, 1.

    Even lengths have a flat top of two equal values, odd lengths a single peak; always exactly
    ``length`` values (ADE's sawtooth variants return ``length + 1`` for odd lengths,
    research/sampler.md §8 #5).

    Returns:
        ``(length,)`` float64, values in ``[1, ceil(length / 2)]``.
    """
    k = torch.arange(length, dtype=torch.float64)
    return torch.minimum(k + 1, length - k)

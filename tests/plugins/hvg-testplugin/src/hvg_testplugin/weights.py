"""A fusion weight: the Hann window, lifted so that no frame gets zero weight."""

from __future__ import annotations

import math

import torch


def hann(length: int) -> torch.Tensor:
    """Positive Hann weights for a window of ``length`` frames or views.

    Args:
        length: Window length, at least 1.

    Returns:
        Tensor ``(length,)`` of weights in ``(0, 1]``, symmetric about the window centre.
    """
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    positions = (torch.arange(length, dtype=torch.float64) + 0.5) / length
    return (0.05 + 0.95 * torch.sin(math.pi * positions) ** 2).to(torch.float32)

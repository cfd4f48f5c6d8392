"""Flat weights: a plain average of overlapping windows (AnimateAnyone family, UniAnimate)."""

from __future__ import annotations

import torch


def flat_weights(length: int) -> torch.Tensor:
    """``w_k = 1`` for ``k = 0 … length-1``.

    Returns:
        ``(length,)`` float64 ones.
    """
    return torch.ones(length, dtype=torch.float64)

"""Gaussian weights centred on the window."""

from __future__ import annotations

import torch


def gaussian_weights(length: int, *, relative_std: float = 0.25) -> torch.Tensor:
    """``w_k = exp(-½ ((k - (length-1)/2) / s)²)`` with ``s = relative_std · length``.

    Centred between the two middle positions for even lengths, so the profile is symmetric for
    every length; the peak is 1.

    Args:
        length: Window size.
        relative_std: Standard deviation as a fraction of the window size.

    Returns:
        ``(length,)`` float64, values in ``(0, 1]``.
    """
    k = torch.arange(length, dtype=torch.float64)
    std = max(relative_std * length, 1e-6)
    return torch.exp(-0.5 * ((k - (length - 1) / 2) / std) ** 2)

"""SSIM's constants and windows, shared by the eager and the whole-frame (compile) kernels.

K1, K2 (Wang et al. 2004, skimage's defaults); the Gaussian window of protocol ``clean``
(σ = 1.5 truncated at 3.5σ, scipy's ``gaussian_filter1d`` kernel: 11 taps); the uniform
window's sums by shifted adds.
"""

from __future__ import annotations

import functools

import torch

K1, K2 = 0.01, 0.03
SIGMA, TRUNCATE = 1.5, 3.5


def gaussian_taps(dtype: torch.dtype) -> torch.Tensor:
    """The kernel of scipy's ``gaussian_filter1d``: radius ``int(truncate*sigma + 0.5)``."""
    radius = int(TRUNCATE * SIGMA + 0.5)
    x = torch.arange(-radius, radius + 1, dtype=dtype)
    taps = torch.exp(-0.5 / (SIGMA * SIGMA) * x * x)
    return taps / taps.sum()


@functools.lru_cache(maxsize=1)
def gaussian_tap_values() -> tuple[float, ...]:
    """The 11 float64 Gaussian taps as Python floats (the ``alpha`` of the shifted adds)."""
    return tuple(gaussian_taps(torch.float64).tolist())


def box_sum(maps: torch.Tensor, size: int) -> torch.Tensor:
    """Sums over every ``size×size`` window ('valid' region) by shifted adds.

    Integer inputs keep the sums exact; shifted adds beat ``cumsum`` and ``avg_pool2d`` here.
    """
    height, width = maps.shape[-2:]
    rows = maps[..., : height - size + 1, :] + maps[..., 1 : height - size + 2, :]
    for shift in range(2, size):
        rows += maps[..., shift : height - size + 1 + shift, :]
    out = rows[..., : width - size + 1] + rows[..., 1 : width - size + 2]
    for shift in range(2, size):
        out += rows[..., shift : width - size + 1 + shift]
    return out


__all__ = ["K1", "K2", "SIGMA", "TRUNCATE", "box_sum", "gaussian_tap_values", "gaussian_taps"]

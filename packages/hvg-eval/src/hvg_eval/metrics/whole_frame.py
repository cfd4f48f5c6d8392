"""SSIM, PSNR and L1 as whole-frame tensor expressions: the kernels ``torch.compile`` gets.

The eager kernels (:mod:`~hvg_eval.metrics.ssim`, :mod:`~hvg_eval.metrics.psnr`,
:mod:`~hvg_eval.metrics.l1`) are tuned for eager torch on one core: cache-sized strips, reused
scratch buffers and ``out=`` writes, a thread limit around each call. Each of these breaks
dynamo's graph, and compiled they ran 3-10x slower than eager (SSIM: 68 vs 7 ms for two 576²
frames). Here the same quantities are plain expressions over whole frames, which inductor
fuses into a few loops; the values equal the eager kernels' (the same exact integer sums, the
same float64 products and ratio), and ``tests/test_whole_frame.py`` checks that in eager mode.
"""

from __future__ import annotations

import torch

from hvg_eval.metrics.base import to_uint8
from hvg_eval.ops.grayscale import gray_levels
from hvg_eval.ops.ssim_window import K1, K2, box_sum, gaussian_tap_values


def _as_uint8(images: torch.Tensor) -> torch.Tensor:
    return images if images.dtype == torch.uint8 else to_uint8(images)


def _differences(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``real - fake`` of ``(N, 3, H, W)`` frames as float64 0-255 differences (exact)."""
    return _as_uint8(real).to(torch.float64) - _as_uint8(fake).to(torch.float64)


def psnr_whole_frames(
    real: torch.Tensor, fake: torch.Tensor, *, variant: str = "disco"
) -> torch.Tensor:
    """:func:`hvg_eval.metrics.psnr.psnr` for ``torch.compile`` (same arguments and values)."""
    if variant == "legacy-uint8":
        wrapped = (_as_uint8(real) - _as_uint8(fake)) ** 2  # uint8 wraps, as numpy did
        mse = wrapped.to(torch.float64).mean(dim=(1, 2, 3))
    else:
        # Integer squares below 2**53 summed in float64: exact, one rounding in the division.
        mse = _differences(real, fake).square().sum(dim=(1, 2, 3)) / real[0].numel()
    if variant == "skimage":
        return 10 * torch.log10(255.0**2 / mse)
    value = 20 * torch.log10(255.0 / torch.sqrt(mse))
    return torch.where(mse == 0, torch.full_like(value, 100.0), value)


def l1_whole_frames(
    real: torch.Tensor, fake: torch.Tensor, *, variant: str = "disco"
) -> torch.Tensor:
    """:func:`hvg_eval.metrics.l1.l1` for ``torch.compile`` (same arguments and values)."""
    mae = _differences(real, fake).abs().sum(dim=(1, 2, 3)) / real[0].numel()
    if variant == "mae":
        return mae / 255.0
    height, width = real.shape[-2:]
    return mae / (height * width)


def _filter_valid(maps: torch.Tensor, taps: tuple[float, ...]) -> torch.Tensor:
    """Separable 'valid' filter of ``(..., H, W)``: rows, then columns, by shifted adds."""
    size = len(taps)
    height, width = maps.shape[-2:]
    rows = taps[0] * maps[..., : height - size + 1, :]
    for k in range(1, size):
        rows = rows + taps[k] * maps[..., k : height - size + 1 + k, :]
    out = taps[0] * rows[..., : width - size + 1]
    for k in range(1, size):
        out = out + taps[k] * rows[..., k : width - size + 1 + k]
    return out


def ssim_whole_frames(
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    window: str = "uniform7",
    covariance: str = "sample",
) -> torch.Tensor:
    """:func:`hvg_eval.metrics.ssim.ssim` for ``torch.compile`` (same arguments and values).

    Args:
        real: uint8 ``(N, 3, H, W)`` or float in [0, 1] (quantised with ``round(x*255)``).
        fake: Same shape.
        window: ``uniform7`` or ``gaussian11``.
        covariance: ``sample`` or ``population``.

    Returns:
        float64 ``(N,)``.
    """
    x = gray_levels(_as_uint8(real), torch.float64)
    y = gray_levels(_as_uint8(fake), torch.float64)
    maps = torch.stack([x, y, x * x + y * y, x * y])  # (4, N, H, W)
    c1, c2 = (K1 * 255.0) ** 2, (K2 * 255.0) ** 2
    if window == "gaussian11":
        ux, uy, squares, cross = _filter_valid(maps, gaussian_tap_values()).unbind(0)
        points = 11 * 11
        norm = points / (points - 1) if covariance == "sample" else 1.0
        product, norms = ux * uy, ux * ux + uy * uy
        numerator = (2 * product + c1) * ((cross - product) * (2 * norm) + c2)
        denominator = (norms + c1) * ((squares - norms) * norm + c2)
    else:
        # Window sums of grey levels are integers (exact in float64); skimage's terms
        # multiplied through by 49² (and 49²/norm) stay integers, as in the eager kernel.
        points = 49
        sx, sy, squares, cross = box_sum(maps, 7).unbind(0)
        product, norms = sx * sy, sx * sx + sy * sy
        scale = points * (points - 1) if covariance == "sample" else points * points
        numerator = (2 * product + c1 * points * points) * (
            2 * points * cross - 2 * product + c2 * scale
        )
        denominator = (norms + c1 * points * points) * (points * squares - norms + c2 * scale)
    return (numerator / denominator).mean(dim=(-2, -1))

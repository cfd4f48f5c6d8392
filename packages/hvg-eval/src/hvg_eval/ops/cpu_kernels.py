"""Compiled CPU loops (numba) for SSIM (uniform and Gaussian) and the PSNR/L1 sums.

The torch kernels of :mod:`hvg_eval.metrics.ssim` and :mod:`hvg_eval.ops.exact_sum` are chains
of ~30 tensor passes over cache-sized strips; on one core they cost ~3.1 ms (SSIM) and ~0.7 ms
(PSNR + L1) per 576² frame. Here each frame is read once: OpenCV's fixed-point grey levels,
7×7 window sums kept as running column and row sums (exact integers), skimage's terms as the
same integers as the torch kernel and the same float64 products and ratio per pixel; the
frame's mean differs from the torch kernel's only in the order of the float64 additions
(~1e-15). The Gaussian window (protocol ``clean``) filters the four float64 moments one output
row at a time (2.55 vs 7.1 ms per frame for the torch kernel). CPU tensors only: the torch
kernels remain the CUDA path, and the tests compare both.

Compiled on first use and cached beside this module (``NUMBA_CACHE_DIR`` overrides).
"""

from __future__ import annotations

import numpy as np
import torch

from hvg_eval.ops._numba import cpu_kernel
from hvg_eval.ops.grayscale import _B, _G, _R, _ROUND, _SHIFT  # OpenCV's fixed-point weights


def ssim_uniform7(
    real: torch.Tensor, fake: torch.Tensor, *, sample_covariance: bool, data_range: float
) -> torch.Tensor:
    """Mean 7×7 uniform SSIM of the OpenCV grey levels of each frame (skimage's defaults).

    Args:
        real: uint8 ``(N, 3, H, W)`` RGB on the CPU, ``H, W >= 7``.
        fake: Same shape.
        sample_covariance: ``N/(N-1)`` normalisation (skimage's default) instead of ``1``.
        data_range: Dynamic range (255 for 8-bit levels).

    Returns:
        float64 ``(N,)``.
    """
    points = 49
    scale = points * (points - 1) if sample_covariance else points * points
    c1 = (0.01 * data_range) ** 2 * points * points
    c2 = (0.03 * data_range) ** 2 * scale
    values = _ssim_uniform7(_frames(real), _frames(fake), c1, c2)
    return torch.from_numpy(values)


def ssim_gaussian11(
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    taps: tuple[float, ...],
    sample_covariance: bool,
    data_range: float,
) -> torch.Tensor:
    """Mean 11×11 Gaussian SSIM of the OpenCV grey levels of each frame (Wang 2004 settings).

    Args:
        real: uint8 ``(N, 3, H, W)`` RGB on the CPU, ``H, W >= 11``.
        fake: Same shape.
        taps: The 11 normalised float64 Gaussian taps (scipy's ``gaussian_filter1d`` kernel).
        sample_covariance: ``N/(N-1)`` normalisation instead of ``1``.
        data_range: Dynamic range (255 for 8-bit levels).

    Returns:
        float64 ``(N,)``.
    """
    points = len(taps) ** 2
    norm = points / (points - 1) if sample_covariance else 1.0
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    weights = np.asarray(taps, dtype=np.float64)
    values = _ssim_gaussian(_frames(real), _frames(fake), weights, norm, c1, c2)
    return torch.from_numpy(values)


def difference_sums(real: torch.Tensor, fake: torch.Tensor, *, squared: bool) -> torch.Tensor:
    """Exact per-frame sums of ``|real - fake|`` (or its square) of uint8 ``(N, ...)`` frames.

    Returns:
        float64 ``(N,)`` (integer sums below 2**53, so exact).
    """
    frames = real.shape[0]
    a = _frames(real).reshape(frames, -1)
    b = _frames(fake).reshape(frames, -1)
    return torch.from_numpy(_difference_sums(a, b, squared))


def _frames(images: torch.Tensor) -> np.ndarray:
    return images.contiguous().numpy()


@cpu_kernel()
def _difference_sums(real, fake, squared):
    frames, count = real.shape
    out = np.empty(frames, np.float64)
    for f in range(frames):
        total = 0
        for k in range(count):
            d = np.int64(real[f, k]) - np.int64(fake[f, k])
            total += d * d if squared else abs(d)
        out[f] = np.float64(total)
    return out


@cpu_kernel(inline="always")
def _grey(rgb, out):
    """OpenCV grey levels of one uint8 ``(3, H, W)`` frame into ``(H, W)`` (int64 or float64)."""
    _, height, width = rgb.shape
    for i in range(height):
        for j in range(width):
            level = (
                _R * np.int64(rgb[0, i, j])
                + _G * np.int64(rgb[1, i, j])
                + _B * np.int64(rgb[2, i, j])
                + _ROUND
            )
            out[i, j] = level >> _SHIFT


@cpu_kernel()
def _ssim_uniform7(real, fake, c1, c2):
    """Per frame: running 7×7 window sums (exact), skimage's ratio per pixel, mean of the map.

    With window sums S of 49 points, skimage's terms multiplied through by 49² (and 49²/norm,
    folded into ``c2``) are integers: ``2 Sx Sy``, ``98 Sxy − 2 Sx Sy``, ``Sx² + Sy²``,
    ``49 (Sxx + Syy) − Sx² − Sy²``; only the products and the ratio round, in float64.
    """
    frames, _, height, width = real.shape
    rows_out, cols_out = height - 6, width - 6
    out = np.empty(frames, np.float64)
    x = np.empty((height, width), np.int64)
    y = np.empty((height, width), np.int64)
    # Column sums over the current 7 rows of x, y, x² + y² and xy.
    column = np.zeros((4, width), np.int64)
    for f in range(frames):
        _grey(real[f], x)
        _grey(fake[f], y)
        column[:] = 0
        for i in range(7):
            for j in range(width):
                a, b = x[i, j], y[i, j]
                column[0, j] += a
                column[1, j] += b
                column[2, j] += a * a + b * b
                column[3, j] += a * b
        total = 0.0
        for r in range(rows_out):
            if r > 0:  # slide the 7 rows down by one
                for j in range(width):
                    a, b = x[r + 6, j], y[r + 6, j]
                    a0, b0 = x[r - 1, j], y[r - 1, j]
                    column[0, j] += a - a0
                    column[1, j] += b - b0
                    column[2, j] += a * a + b * b - a0 * a0 - b0 * b0
                    column[3, j] += a * b - a0 * b0
            sx = sy = squares = cross = 0
            for j in range(7):
                sx += column[0, j]
                sy += column[1, j]
                squares += column[2, j]
                cross += column[3, j]
            row = 0.0
            for j in range(cols_out):
                if j > 0:  # slide the 7 columns right by one
                    sx += column[0, j + 6] - column[0, j - 1]
                    sy += column[1, j + 6] - column[1, j - 1]
                    squares += column[2, j + 6] - column[2, j - 1]
                    cross += column[3, j + 6] - column[3, j - 1]
                product = sx * sy
                norms = sx * sx + sy * sy
                numerator = (np.float64(product) * 2.0 + c1) * (
                    np.float64(98 * cross - 2 * product) + c2
                )
                denominator = (np.float64(norms) + c1) * (np.float64(49 * squares - norms) + c2)
                row += numerator / denominator
            total += row
        out[f] = total / (rows_out * cols_out)
    return out


@cpu_kernel()
def _ssim_gaussian(real, fake, taps, norm, c1, c2):
    """Per frame: separable Gaussian moments in float64, skimage's ratio, mean of the map.

    The four moments x, y, x² + y², xy are filtered along rows, then columns (scipy's order),
    one output row at a time; the ratio per pixel is the torch kernel's.
    """
    frames, _, height, width = real.shape
    size = taps.shape[0]
    rows_out, cols_out = height - size + 1, width - size + 1
    out = np.empty(frames, np.float64)
    x = np.empty((height, width), np.float64)
    y = np.empty((height, width), np.float64)
    vertical = np.empty((4, width), np.float64)
    moments = np.empty((4, cols_out), np.float64)
    for f in range(frames):
        _grey(real[f], x)
        _grey(fake[f], y)
        total = 0.0
        for r in range(rows_out):
            vertical[:] = 0.0
            for k in range(size):
                t = taps[k]
                for j in range(width):
                    a, b = x[r + k, j], y[r + k, j]
                    vertical[0, j] += t * a
                    vertical[1, j] += t * b
                    vertical[2, j] += t * (a * a + b * b)
                    vertical[3, j] += t * (a * b)
            moments[:] = 0.0
            for k in range(size):
                t = taps[k]
                for m in range(4):
                    for j in range(cols_out):
                        moments[m, j] += t * vertical[m, j + k]
            row = 0.0
            for j in range(cols_out):
                ux, uy = moments[0, j], moments[1, j]
                product = ux * uy
                norms = ux * ux + uy * uy
                covariance = (moments[3, j] - product) * (2.0 * norm) + c2
                variance = (moments[2, j] - norms) * norm + c2
                row += ((product * 2.0 + c1) * covariance) / ((norms + c1) * variance)
            total += row
        out[f] = total / (rows_out * cols_out)
    return out

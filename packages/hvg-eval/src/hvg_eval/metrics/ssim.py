"""SSIM per frame, batched in torch, equal to scikit-image's ``structural_similarity``.

DisCo (protocol ``disco``): OpenCV grey of each uint8 frame, then skimage's defaults — 7×7
uniform window, sample covariance (``N/(N-1)``), ``data_range=255``, K1=0.01, K2=0.03, mean of
the SSIM map cropped by the window radius. Protocol ``clean``: Wang et al. 2004 — Gaussian
window σ=1.5 truncated at 3.5σ (11 taps), population covariance. Values agree with skimage to
~1e-13 (tests assert ≤ 1e-12): the uniform window sums are exact integers, and the Gaussian
moments are float64 like skimage's. float32 was measured and not used (issue 14): Gaussian
moments in float32 were up to 2e-5 off skimage (flat bright areas, where ``E[x²] − μ²``
cancels at ~250²), and the uniform kernel's final ratio in float32 was no faster.

On the CPU the SSIM of RGB frames runs as one compiled loop per frame
(:mod:`hvg_eval.ops.cpu_kernels`; uniform7 0.9 vs 3.1 ms per 576² frame, gaussian11 2.55 vs
7.1 ms, same values to ~1e-15). The torch kernels (CUDA, grey inputs) run eagerly in cache-sized
strips of rows of a few frames (grey conversion fused into each strip, no per-frame Python) on
one torch thread (:mod:`hvg_eval.ops.threads`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from hvg_core.errors import InputError

from hvg_eval.metrics.base import PairedFrameMetric, to_uint8
from hvg_eval.metrics.whole_frame import ssim_whole_frames
from hvg_eval.ops.grayscale import gray_levels_into
from hvg_eval.ops.kernel_choice import compiled_cpu_kernels
from hvg_eval.ops.scratch import scratch
from hvg_eval.ops.ssim_window import (
    K1,
    K2,
    SIGMA,
    TRUNCATE,
    box_sum,
    gaussian_tap_values,
    gaussian_taps,
)
from hvg_eval.ops.threads import kernel_threads

_PIXELS_PER_PASS = 40_000  # per strip of the uniform7 kernel: 2 frames × 34 rows at 576²
_GAUSSIAN_PIXELS_PER_PASS = 36_864  # per strip of the gaussian11 kernel: 2 frames × 32 rows


def _box_sum7(maps: torch.Tensor) -> torch.Tensor:
    """Sums over every 7×7 window ('valid' region) by shifted adds, doubling the run lengths.

    Runs of 2, 4, 6, then 7 rows (and the same for columns): 8 passes instead of 12, into
    reused scratch buffers. Exact for integer-valued float32 whose window sums stay below 2**24.

    Args:
        maps: float32 ``(C, N, H, W)``.

    Returns:
        float32 ``(C, N, H-6, W-6)``, a view into a scratch buffer (valid until the next call).
    """
    c, n, height, width = maps.shape
    device = maps.device
    two = scratch("ssim.two", (c, n, height - 1, width), torch.float32, device)
    torch.add(maps[..., : height - 1, :], maps[..., 1:, :], out=two)  # runs of 2 rows
    rows = scratch("ssim.rows", (c, n, height - 3, width), torch.float32, device)
    torch.add(two[..., : height - 3, :], two[..., 2:, :], out=rows)  # of 4
    rows = rows[..., : height - 5, :].add_(two[..., 4:, :])  # of 6
    rows = rows[..., : height - 6, :].add_(maps[..., 6:, :])  # of 7
    two = scratch("ssim.two_cols", (c, n, height - 6, width - 1), torch.float32, device)
    torch.add(rows[..., : width - 1], rows[..., 1:], out=two)
    cols = scratch("ssim.cols", (c, n, height - 6, width - 3), torch.float32, device)
    torch.add(two[..., : width - 3], two[..., 2:], out=cols)
    cols = cols[..., : width - 5].add_(two[..., 4:])
    return cols[..., : width - 6].add_(rows[..., 6:])


def _ssim_row_sums(
    real: torch.Tensor, fake: torch.Tensor, covariance: str, data_range: float, *, rgb: bool
) -> torch.Tensor:
    """Row sums of the 7×7 uniform SSIM map of grey levels 0-255, with exact window sums.

    With window sums S (49 points) skimage's terms are ``ux = Sx/49`` and
    ``vx = norm (Sxx/49 − Sx²/49²)``; multiplying numerator and denominator through by
    ``49²`` and ``49²/norm`` leaves integer-valued products, so only the final ratio rounds.
    The four window sums are exact in float32 (below 49·2·255² < 2**24), the integer terms
    exact in int32 (below 2**31), and only the final products and ratio round, in float64
    (agreement with skimage's float64 filtering ~1e-15).

    Args:
        real: ``(N, H, W)`` grey levels 0-255 (any dtype), or uint8 ``(N, 3, H, W)`` RGB,
            converted to OpenCV grey levels on the way in.
        fake: Same shape and kind as ``real``.
        covariance: ``sample`` or ``population``.
        data_range: Dynamic range.
        rgb: Whether the inputs are RGB frames.

    Returns:
        float64 ``(N, H-6)``: per frame, the sum of each row of the cropped SSIM map.
    """
    points = 49
    n, height, width = real.shape[0], real.shape[-2], real.shape[-1]
    device = real.device
    maps = scratch("ssim.maps", (4, n, height, width), torch.float32, device)
    if rgb:
        x, y = gray_levels_into(real, maps[0]), gray_levels_into(fake, maps[1])
    else:
        x, y = maps[0].copy_(real), maps[1].copy_(fake)
    torch.mul(x, x, out=maps[2]).addcmul_(y, y)
    torch.mul(x, y, out=maps[3])
    shape = (n, height - 6, width - 6)
    sums = scratch("ssim.sums", (4, *shape), torch.int32, device)
    sx, sy, squares, cross = sums.copy_(_box_sum7(maps)).unbind(0)
    # Exact integer terms (each below 2**31 for 8-bit levels): no cancellation is ever rounded.
    product = torch.mul(sx, sy, out=scratch("ssim.product", shape, torch.int32, device))
    norms = sx.mul_(sx).addcmul_(sy, sy)
    covariance_term = cross.mul_(2 * points).sub_(product, alpha=2)
    variance_term = squares.mul_(points).sub_(norms)
    c1 = (K1 * data_range) ** 2 * points * points
    scale = points * (points - 1) if covariance == "sample" else points * points
    c2 = (K2 * data_range) ** 2 * scale
    # float64 like skimage: only the final products and the ratio round (~1e-16 relative).
    terms = scratch("ssim.terms", (4, *shape), torch.float64, device)
    numerator, covariance_f, denominator, variance_f = terms.unbind(0)
    numerator.copy_(product).mul_(2).add_(c1).mul_(covariance_f.copy_(covariance_term).add_(c2))
    denominator.copy_(norms).add_(c1).mul_(variance_f.copy_(variance_term).add_(c2))
    return numerator.div_(denominator).sum(dim=-1)


def _strip_plan(
    frames: int, out_rows: int, width: int, pixels: int, min_rows: int
) -> tuple[int, int, list[int]]:
    """Frames per pass, output rows per strip and the strips' first rows for a pass budget.

    Several frames share a pass only while each still gets ``min_rows`` rows of the budget.

    Strips all have the same height (the last one overlaps its predecessor; the caller writes
    overlapping rows twice, with the same values), so the scratch buffers keep one shape.
    """
    step = max(1, min(frames, pixels // (min_rows * width)))
    strip = min(out_rows, max(8, pixels // (step * width)))
    starts = list(range(0, out_rows - strip + 1, strip))
    if starts[-1] + strip < out_rows:
        starts.append(out_rows - strip)
    return step, strip, starts


def _ssim_in_strips(
    real: torch.Tensor,
    fake: torch.Tensor,
    row_sums: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    size: int,
    budget: tuple[int, int],
) -> torch.Tensor:
    """Mean SSIM per frame from the SSIM-map row sums of cache-sized strips of rows.

    Why strips: the kernels are chains of ~30 cheap passes; over whole 576² frames every pass
    streams tens of megabytes from memory, while a strip of a few dozen rows of a few frames
    keeps all temporaries in cache (measured 2-4× faster per pixel on the 2-core target
    machine).

    Args:
        real: ``(N, H, W)`` grey levels or uint8 ``(N, 3, H, W)`` RGB.
        fake: Same shape and kind.
        row_sums: Maps ``(n, ..., rows + size - 1, W)`` strips to float64 ``(n, rows)`` sums
            of the rows of their cropped SSIM map.
        size: Window side (the map loses ``size - 1`` rows and columns).
        budget: Pixels per pass and the fewest rows per frame worth a pass
            (:func:`_strip_plan`).

    Returns:
        float64 ``(N,)``.
    """
    frames, height, width = real.shape[0], real.shape[-2], real.shape[-1]
    out_rows = height - size + 1
    step, strip, starts = _strip_plan(frames, out_rows, width, *budget)
    totals = []
    for first in range(0, frames, step):
        a, b = real[first : first + step], fake[first : first + step]
        sums = torch.empty((a.shape[0], out_rows), dtype=torch.float64, device=real.device)
        for top in starts:
            window = slice(top, top + strip + size - 1)
            sums[:, top : top + strip] = row_sums(a[..., window, :], b[..., window, :])
        totals.append(sums.sum(dim=1))
    total = totals[0] if len(totals) == 1 else torch.cat(totals)
    return total / (out_rows * (width - size + 1))


def _ssim_uniform_exact(
    real: torch.Tensor, fake: torch.Tensor, covariance: str, data_range: float, *, rgb: bool
) -> torch.Tensor:
    """Mean 7×7 uniform SSIM per frame (exact window sums), in cache-sized strips of rows.

    Args:
        real: ``(N, H, W)`` grey levels or uint8 ``(N, 3, H, W)`` RGB (``rgb=True``).
        fake: Same shape and kind.
        covariance: ``sample`` or ``population``.
        data_range: Dynamic range.
        rgb: Whether the inputs are RGB frames.

    Returns:
        float64 ``(N,)``.
    """

    def row_sums(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return _ssim_row_sums(a, b, covariance, data_range, rgb=rgb)

    return _ssim_in_strips(real, fake, row_sums, 7, (_PIXELS_PER_PASS, 32))


@functools.lru_cache(maxsize=8)
def _gaussian_band(rows: int) -> torch.Tensor:
    """float64 ``(rows, rows + 10)``: row ``r`` holds the 11 Gaussian taps from column ``r``.

    ``band @ maps`` is the vertical 'valid' Gaussian filter of ``rows + 10`` input rows as one
    matrix product (BLAS: ~2× faster than 11 shifted adds on the target CPU, measured).
    """
    taps = gaussian_taps(torch.float64)
    size = taps.numel()
    band = torch.zeros(rows, rows + size - 1, dtype=torch.float64)
    for row in range(rows):
        band[row, row : row + size] = taps
    return band


def _gaussian_moments(maps: torch.Tensor) -> torch.Tensor:
    """Separable 11-tap Gaussian local means (σ=1.5), 'valid' region, all maps at once.

    Vertical pass as one batched matrix product with a band matrix, horizontal pass as 11
    shifted multiply-adds (the order of scipy's ``gaussian_filter``: rows, then columns).

    Args:
        maps: float64 ``(C, N, R + 10, W)``.

    Returns:
        float64 ``(C, N, R, W - 10)``, a view into a scratch buffer (valid until the next call).
    """
    channels, frames, height, width = maps.shape
    taps = gaussian_tap_values()
    size = len(taps)
    rows_out, cols_out = height - size + 1, width - size + 1
    band = _gaussian_band(rows_out).to(maps.device)
    rows = scratch("ssim.gauss_rows", (channels * frames, rows_out, width), maps.dtype, maps.device)
    torch.matmul(band, maps.reshape(channels * frames, height, width), out=rows)
    rows = rows.view(channels, frames, rows_out, width)
    out = scratch("ssim.gauss_out", (channels, frames, rows_out, cols_out), maps.dtype, maps.device)
    torch.mul(rows[..., :cols_out], taps[0], out=out)
    for shift in range(1, size):
        out.add_(rows[..., shift : shift + cols_out], alpha=taps[shift])
    return out


def _ssim_gaussian_row_sums(
    real: torch.Tensor, fake: torch.Tensor, covariance: str, data_range: float, *, rgb: bool
) -> torch.Tensor:
    """Row sums of the 11×11 Gaussian SSIM map, in float64 like skimage.

    The four moments x, y, x²+y² and xy are filtered together (one matrix product, one set of
    shifted adds); skimage's ``vx + vy`` only ever appears summed, so x² and y² share a map.
    float64 because float32 does not hold 1e-6: the variances cancel ``E[x²] − μ²`` at up to
    255², and on flat bright areas float32 moments were measured 2e-5 off skimage's SSIM.

    Args:
        real: ``(N, H, W)`` grey images (any real dtype), or uint8 ``(N, 3, H, W)`` RGB,
            converted to OpenCV grey levels on the way in.
        fake: Same shape and kind as ``real``.
        covariance: ``sample`` or ``population``.
        data_range: Dynamic range.
        rgb: Whether the inputs are RGB frames.

    Returns:
        float64 ``(N, H-10)``: per frame, the sum of each row of the cropped SSIM map.
    """
    n, height, width = real.shape[0], real.shape[-2], real.shape[-1]
    device = real.device
    maps = scratch("ssim.gauss_maps", (4, n, height, width), torch.float64, device)
    if rgb:
        grey = scratch("ssim.gauss_grey", (n, height, width), torch.float32, device)
        maps[0].copy_(gray_levels_into(real, grey))
        maps[1].copy_(gray_levels_into(fake, grey))
    else:
        maps[0].copy_(real)
        maps[1].copy_(fake)
    x, y = maps[0], maps[1]
    torch.mul(x, x, out=maps[2]).addcmul_(y, y)
    torch.mul(x, y, out=maps[3])
    ux, uy, squares, cross = _gaussian_moments(maps).unbind(0)
    points = 11 * 11
    norm = points / (points - 1) if covariance == "sample" else 1.0
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    shape = ux.shape
    product = torch.mul(ux, uy, out=scratch("ssim.gauss_product", shape, torch.float64, device))
    norms = torch.mul(ux, ux, out=scratch("ssim.gauss_norms", shape, torch.float64, device))
    norms.addcmul_(uy, uy)
    # A2 = 2 vxy + c2, B2 = vx + vy + c2 (in place over the moments), A1, B1 over the products.
    covariance_term = cross.sub_(product).mul_(2 * norm).add_(c2)
    variance_term = squares.sub_(norms).mul_(norm).add_(c2)
    numerator = product.mul_(2).add_(c1).mul_(covariance_term)
    denominator = norms.add_(c1).mul_(variance_term)
    return numerator.div_(denominator).sum(dim=-1)


def _window_size(real: torch.Tensor, window: str) -> int:
    """Side of the SSIM window; raises InputError when ``(..., H, W)`` images are smaller."""
    size = 7 if window == "uniform7" else 2 * int(TRUNCATE * SIGMA + 0.5) + 1
    if min(real.shape[-2:]) < size:
        raise InputError(
            f"SSIM needs images of at least {size}×{size}; got {tuple(real.shape[-2:])}",
            field="real",
        )
    return size


def _ssim_gaussian(
    real: torch.Tensor, fake: torch.Tensor, covariance: str, data_range: float, *, rgb: bool
) -> torch.Tensor:
    """Mean 11×11 Gaussian SSIM per frame, in cache-sized strips of rows.

    Args:
        real: ``(N, H, W)`` grey images or uint8 ``(N, 3, H, W)`` RGB (``rgb=True``).
        fake: Same shape and kind.
        covariance: ``sample`` or ``population``.
        data_range: Dynamic range.
        rgb: Whether the inputs are RGB frames.

    Returns:
        float64 ``(N,)``.
    """

    def row_sums(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return _ssim_gaussian_row_sums(a, b, covariance, data_range, rgb=rgb)

    budget = (_GAUSSIAN_PIXELS_PER_PASS, 32)
    with kernel_threads(real.device):
        return _ssim_in_strips(real, fake, row_sums, 11, budget)


def _ssim_uniform_float(
    real: torch.Tensor, fake: torch.Tensor, covariance: str, data_range: float
) -> torch.Tensor:
    """Mean 7×7 uniform SSIM per image of non-integer grey images, in float64 like skimage.

    Args:
        real: ``(N, H, W)`` grey images of any real dtype.
        fake: Same shape.
        covariance: ``sample`` or ``population``.
        data_range: Dynamic range.

    Returns:
        float64 ``(N,)``.
    """
    x = real.to(torch.float64).unsqueeze(1)
    y = fake.to(torch.float64).unsqueeze(1)
    ux, uy, uxx, uyy, uxy = (box_sum(torch.cat([x, y, x * x, y * y, x * y], 1), 7) / 49.0).unbind(1)
    norm = 49 / 48 if covariance == "sample" else 1.0
    vx = norm * (uxx - ux * ux)
    vy = norm * (uyy - uy * uy)
    vxy = norm * (uxy - ux * uy)
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    a1, a2 = 2 * ux * uy + c1, 2 * vxy + c2
    b1, b2 = ux**2 + uy**2 + c1, vx + vy + c2
    return ((a1 * a2) / (b1 * b2)).mean(dim=(-2, -1))


def ssim_gray(
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    window: str = "uniform7",
    covariance: str = "sample",
    data_range: float = 255.0,
) -> torch.Tensor:
    """SSIM of grey images, one value per image.

    Args:
        real: ``(..., H, W)`` grey images (uint8 or int32 levels 0-255 for the exact
            ``uniform7`` path; any real dtype otherwise, computed in float64).
        fake: Same shape.
        window: ``uniform7`` or ``gaussian11``.
        covariance: ``sample`` or ``population``.
        data_range: Dynamic range (255 for uint8 grey).

    Returns:
        float64 ``(...)``.

    Raises:
        InputError: Images smaller than the window.
    """
    _window_size(real, window)
    flat = (-1, *real.shape[-2:])
    real_flat, fake_flat = real.reshape(flat), fake.reshape(flat)
    integer = (torch.uint8, torch.int32)
    if window == "gaussian11":
        values = _ssim_gaussian(real_flat, fake_flat, covariance, data_range, rgb=False)
    elif real.dtype in integer and fake.dtype in integer:
        values = _ssim_uniform_exact(real_flat, fake_flat, covariance, data_range, rgb=False)
    else:
        values = _ssim_uniform_float(real_flat, fake_flat, covariance, data_range)
    return values.reshape(real.shape[:-2])


def ssim(
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    window: str = "uniform7",
    covariance: str = "sample",
) -> torch.Tensor:
    """DisCo SSIM per frame of RGB frames.

    Args:
        real: uint8 ``(N, 3, H, W)`` or float in [0, 1] (quantised with ``round(x*255)``).
        fake: Same shape.
        window: ``uniform7`` (DisCo/skimage default) or ``gaussian11`` (Wang 2004).
        covariance: ``sample`` or ``population``.

    Returns:
        float64 ``(N,)``.
    """
    real_u8 = real if real.dtype == torch.uint8 else to_uint8(real)
    fake_u8 = fake if fake.dtype == torch.uint8 else to_uint8(fake)
    _window_size(real_u8, window)
    sample = covariance == "sample"
    if compiled_cpu_kernels(real_u8.device):
        from hvg_eval.ops import cpu_kernels  # numba: imported and compiled on first use

        if window == "gaussian11":
            taps = gaussian_tap_values()
            return cpu_kernels.ssim_gaussian11(
                real_u8, fake_u8, taps=taps, sample_covariance=sample, data_range=255.0
            )
        return cpu_kernels.ssim_uniform7(
            real_u8, fake_u8, sample_covariance=sample, data_range=255.0
        )
    if window == "gaussian11":  # grey levels fused into the strips, like uniform7
        return _ssim_gaussian(real_u8, fake_u8, covariance, 255.0, rgb=True)
    with kernel_threads(real_u8.device):
        return _ssim_uniform_exact(real_u8, fake_u8, covariance, 255.0, rgb=True)


class SSIM(PairedFrameMetric):
    """Streaming SSIM (mean over frames); conventions from the protocol."""

    name = "ssim"
    higher_is_better = True

    def per_frame(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """SSIM of ``(N, 3, H, W)`` frames in [0, 1]."""
        return ssim(
            real,
            fake,
            window=self.protocol.ssim_window,
            covariance=self.protocol.ssim_covariance,
        )

    def per_frame_kernel(self) -> Any:
        """The whole-frame kernel with this protocol's conventions bound, for ``torch.compile``.

        :func:`~hvg_eval.metrics.whole_frame.ssim_whole_frames`: the eager kernel breaks
        dynamo's graph.
        """
        return functools.partial(
            ssim_whole_frames,
            window=self.protocol.ssim_window,
            covariance=self.protocol.ssim_covariance,
        )

    def conventions(self) -> dict[str, Any]:
        """SSIM conventions, for result JSON."""
        return {
            **super().conventions(),
            "color": self.protocol.ssim_color,
            "window": self.protocol.ssim_window,
            "covariance": self.protocol.ssim_covariance,
            "data_range": self.protocol.ssim_data_range,
            "K1": K1,
            "K2": K2,
            "border": "cropped by the window radius",
        }


__all__ = ["SSIM", "ssim", "ssim_gray"]

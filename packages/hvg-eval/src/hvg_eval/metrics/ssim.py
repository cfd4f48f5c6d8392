"""SSIM per frame, batched in torch, equal to scikit-image's ``structural_similarity``.

DisCo (protocol ``disco``): OpenCV grey of each uint8 frame, then skimage's defaults — 7×7
uniform window, sample covariance (``N/(N-1)``), ``data_range=255``, K1=0.01, K2=0.03, mean of
the SSIM map cropped by the window radius. Protocol ``clean``: Wang et al. 2004 — Gaussian
window σ=1.5 truncated at 3.5σ (11 taps), population covariance. Computed in float64 like
skimage, so values agree with it to ~1e-15 (tests assert ≤ 1e-12).
"""

from __future__ import annotations

import functools
from typing import Any

import torch
import torch.nn.functional as F
from hvg_core.errors import InputError

from hvg_eval.metrics.base import PairedFrameMetric, to_uint8
from hvg_eval.ops.grayscale import gray_levels, gray_levels_into
from hvg_eval.ops.scratch import scratch
from hvg_eval.ops.threads import kernel_threads

_K1, _K2 = 0.01, 0.03
_SIGMA, _TRUNCATE = 1.5, 3.5
_PIXELS_PER_PASS = 40_000  # per strip of the uniform7 kernel: 2 frames × 34 rows at 576²


def _gaussian_taps(sigma: float, truncate: float, dtype: torch.dtype) -> torch.Tensor:
    # scipy.ndimage.gaussian_filter1d's kernel: radius int(truncate*sigma + 0.5), normalised.
    radius = int(truncate * sigma + 0.5)
    x = torch.arange(-radius, radius + 1, dtype=dtype)
    taps = torch.exp(-0.5 / (sigma * sigma) * x * x)
    return taps / taps.sum()


def _box_sum(maps: torch.Tensor, size: int) -> torch.Tensor:
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
    c1 = (_K1 * data_range) ** 2 * points * points
    scale = points * (points - 1) if covariance == "sample" else points * points
    c2 = (_K2 * data_range) ** 2 * scale
    # float64 like skimage: only the final products and the ratio round (~1e-16 relative).
    terms = scratch("ssim.terms", (4, *shape), torch.float64, device)
    numerator, covariance_f, denominator, variance_f = terms.unbind(0)
    numerator.copy_(product).mul_(2).add_(c1).mul_(covariance_f.copy_(covariance_term).add_(c2))
    denominator.copy_(norms).add_(c1).mul_(variance_f.copy_(variance_term).add_(c2))
    return numerator.div_(denominator).sum(dim=-1, dtype=torch.float64)


def _ssim_uniform_exact(
    real: torch.Tensor, fake: torch.Tensor, covariance: str, data_range: float, *, rgb: bool
) -> torch.Tensor:
    """Mean 7×7 uniform SSIM per frame, computed in cache-sized strips of rows.

    Why strips: the kernel is a chain of ~30 cheap passes; over whole 576² frames every pass
    streams tens of megabytes from memory, while a strip of ~34 rows of a few frames keeps all
    temporaries in cache (measured 2-4× faster per pixel on the 2-core target machine). Strips
    all have the same height (the last one overlaps its predecessor; overlapping rows are
    counted once), so the scratch buffers keep one shape.

    Args:
        real: ``(N, H, W)`` grey levels or uint8 ``(N, 3, H, W)`` RGB (``rgb=True``).
        fake: Same shape and kind.
        covariance: ``sample`` or ``population``.
        data_range: Dynamic range.
        rgb: Whether the inputs are RGB frames.

    Returns:
        float64 ``(N,)``.
    """
    frames, height, width = real.shape[0], real.shape[-2], real.shape[-1]
    out_rows = height - 6
    if torch.compiler.is_compiling():  # inductor fuses the passes itself: one graph, no loop
        step, strip = frames, out_rows
    else:
        step = max(1, min(frames, _PIXELS_PER_PASS // (32 * width)))
        strip = min(out_rows, max(8, _PIXELS_PER_PASS // (step * width)))
    starts = list(range(0, out_rows - strip + 1, strip))
    if starts[-1] + strip < out_rows:
        starts.append(out_rows - strip)
    totals = []
    for first in range(0, frames, step):
        a, b = real[first : first + step], fake[first : first + step]
        row_sums = torch.empty((a.shape[0], out_rows), dtype=torch.float64, device=real.device)
        for top in starts:
            window = slice(top, top + strip + 6)
            row_sums[:, top : top + strip] = _ssim_row_sums(
                a[..., window, :], b[..., window, :], covariance, data_range, rgb=rgb
            )
        totals.append(row_sums.sum(dim=1))
    total = totals[0] if len(totals) == 1 else torch.cat(totals)
    return total / (out_rows * (width - 6))


def _gaussian_valid_filter(stack: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian local means (σ=1.5, 11 taps), 'valid' region only."""
    taps = _gaussian_taps(_SIGMA, _TRUNCATE, stack.dtype).to(stack.device)
    channels = stack.shape[1]
    size = taps.numel()
    vertical = taps.view(1, 1, size, 1).expand(channels, 1, size, 1)
    horizontal = taps.view(1, 1, 1, size).expand(channels, 1, 1, size)
    return F.conv2d(F.conv2d(stack, vertical, groups=channels), horizontal, groups=channels)


def _window_size(real: torch.Tensor, window: str) -> int:
    """Side of the SSIM window; raises InputError when ``(..., H, W)`` images are smaller."""
    size = 7 if window == "uniform7" else 2 * int(_TRUNCATE * _SIGMA + 0.5) + 1
    if min(real.shape[-2:]) < size:
        raise InputError(
            f"SSIM needs images of at least {size}×{size}; got {tuple(real.shape[-2:])}",
            field="real",
        )
    return size


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
        real: ``(N, H, W)`` grey images (uint8 or int32 levels 0-255 for the exact ``uniform7``
            path; any real dtype otherwise, computed in float64).
        fake: ``(N, H, W)``.
        window: ``uniform7`` or ``gaussian11``.
        covariance: ``sample`` or ``population``.
        data_range: Dynamic range (255 for uint8 grey).

    Returns:
        float64 ``(N,)``.

    Raises:
        InputError: Images smaller than the window.
    """
    size = _window_size(real, window)
    integer = (torch.uint8, torch.int32)
    if window == "uniform7" and real.dtype in integer and fake.dtype in integer:
        flat = (-1, *real.shape[-2:])
        values = _ssim_uniform_exact(
            real.reshape(flat), fake.reshape(flat), covariance, data_range, rgb=False
        )
        return values.reshape(real.shape[:-2])
    x = real.to(torch.float64).unsqueeze(1)
    y = fake.to(torch.float64).unsqueeze(1)
    stack = torch.cat([x, y, x * x, y * y, x * y], 1)
    if window == "uniform7":
        means = _box_sum(stack, 7) / 49.0
    else:
        means = _gaussian_valid_filter(stack)
    ux, uy, uxx, uyy, uxy = means.unbind(1)
    points = size * size
    norm = points / (points - 1) if covariance == "sample" else 1.0
    vx = norm * (uxx - ux * ux)
    vy = norm * (uyy - uy * uy)
    vxy = norm * (uxy - ux * uy)
    c1 = (_K1 * data_range) ** 2
    c2 = (_K2 * data_range) ** 2
    a1, a2 = 2 * ux * uy + c1, 2 * vxy + c2
    b1, b2 = ux**2 + uy**2 + c1, vx + vy + c2
    return ((a1 * a2) / (b1 * b2)).mean(dim=(-2, -1))


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
    if window == "uniform7":
        _window_size(real_u8, window)
        with kernel_threads(real_u8.device):
            return _ssim_uniform_exact(real_u8, fake_u8, covariance, 255.0, rgb=True)
    return ssim_gray(
        gray_levels(real_u8, torch.int32),
        gray_levels(fake_u8, torch.int32),
        window=window,
        covariance=covariance,
    )


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
        """``ssim`` with this protocol's conventions bound, for ``torch.compile``."""
        return functools.partial(
            ssim, window=self.protocol.ssim_window, covariance=self.protocol.ssim_covariance
        )

    def conventions(self) -> dict[str, Any]:
        """SSIM conventions, for result JSON."""
        return {
            **super().conventions(),
            "color": self.protocol.ssim_color,
            "window": self.protocol.ssim_window,
            "covariance": self.protocol.ssim_covariance,
            "data_range": self.protocol.ssim_data_range,
            "K1": _K1,
            "K2": _K2,
            "border": "cropped by the window radius",
        }


__all__ = ["SSIM", "ssim", "ssim_gray"]

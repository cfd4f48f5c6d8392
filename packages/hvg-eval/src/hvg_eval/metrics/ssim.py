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
from hvg_eval.ops.grayscale import gray_levels

_K1, _K2 = 0.01, 0.03
_SIGMA, _TRUNCATE = 1.5, 3.5


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


def _ssim_uniform_exact(
    real: torch.Tensor, fake: torch.Tensor, covariance: str, data_range: float
) -> torch.Tensor:
    """7×7 uniform SSIM of integer grey images with exact integer window sums.

    With window sums S (49 points) skimage's terms are ``ux = Sx/49`` and
    ``vx = norm (Sxx/49 − Sx²/49²)``; multiplying numerator and denominator through by
    ``49²`` and ``49²/norm`` leaves integer-valued products, so only the final ratio rounds.
    Agrees with skimage's float64 filtering to ~1e-15.
    """
    points = 49
    x = real if real.dtype == torch.int32 else real.to(torch.int32)
    y = fake if fake.dtype == torch.int32 else fake.to(torch.int32)
    # Every integer below stays < 2**31 for 8-bit input (max 49·49·2·255² ≈ 3.1e8).
    sx = _box_sum(x, 7)
    sy = _box_sum(y, 7)
    squares = _box_sum(x * x + y * y, 7)
    cross = _box_sum(x * y, 7)
    product = sx * sy
    norms = sx.mul_(sx).add_(sy.mul_(sy))
    covariance_term = cross.mul_(points).sub_(product).mul_(2)
    variance_term = squares.mul_(points).sub_(norms)
    c1 = (_K1 * data_range) ** 2 * points * points
    scale = points * (points - 1) if covariance == "sample" else points * points
    c2 = (_K2 * data_range) ** 2 * scale
    numerator = (2 * product).to(torch.float64).add_(c1)
    numerator.mul_(covariance_term.to(torch.float64).add_(c2))
    denominator = norms.to(torch.float64).add_(c1)
    denominator.mul_(variance_term.to(torch.float64).add_(c2))
    return numerator.div_(denominator).mean(dim=(-2, -1))


def _gaussian_valid_filter(stack: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian local means (σ=1.5, 11 taps), 'valid' region only."""
    taps = _gaussian_taps(_SIGMA, _TRUNCATE, stack.dtype).to(stack.device)
    channels = stack.shape[1]
    size = taps.numel()
    vertical = taps.view(1, 1, size, 1).expand(channels, 1, size, 1)
    horizontal = taps.view(1, 1, 1, size).expand(channels, 1, 1, size)
    return F.conv2d(F.conv2d(stack, vertical, groups=channels), horizontal, groups=channels)


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
    size = 7 if window == "uniform7" else 2 * int(_TRUNCATE * _SIGMA + 0.5) + 1
    if min(real.shape[-2:]) < size:
        raise InputError(
            f"SSIM needs images of at least {size}×{size}; got {tuple(real.shape[-2:])}",
            field="real",
        )
    integer = (torch.uint8, torch.int32)
    if window == "uniform7" and real.dtype in integer and fake.dtype in integer:
        return _ssim_uniform_exact(real, fake, covariance, data_range)
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
    # Grey levels straight to int32 (fused, exact): the integer window sums need no widening.
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

"""OpenCV's ``COLOR_BGR2GRAY`` / ``COLOR_RGB2GRAY`` for uint8, reproduced exactly without OpenCV.

DisCo's SSIM reads frames with ``cv2.imread`` and converts them with ``cv2.cvtColor(BGR2GRAY)``.
OpenCV's uint8 path is 15-bit fixed point: ``Y = (9798 R + 19235 G + 3735 B + 16384) >> 15``
(verified over all 2^24 colours, research/metrics.md §2.2). Pillow's ``convert("L")`` is a
different (16-bit) formula and disagrees on 0.13 % of colours, so it must not be used here.
"""

from __future__ import annotations

import numpy as np
import torch

from hvg_eval.ops.scratch import scratch

_R, _G, _B, _ROUND, _SHIFT = 9798, 19235, 3735, 16384, 15


# The same weights as dyadic fractions: every product, partial sum and the +0.5 are exact in
# float32 (at most 8 integer + 15 fraction bits), so floor(w · rgb + 0.5) is OpenCV's grey level.
_WEIGHTS = torch.tensor([_R, _G, _B], dtype=torch.float32).div_(1 << _SHIFT).view(1, 1, 3)
_HALF = torch.tensor(_ROUND / (1 << _SHIFT), dtype=torch.float32)


def _check_rgb(rgb: torch.Tensor) -> None:
    if rgb.dtype != torch.uint8 or rgb.ndim < 3 or rgb.shape[-3] != 3:
        raise ValueError(
            f"rgb must be a uint8 tensor (..., 3, H, W); got {tuple(rgb.shape)} {rgb.dtype}"
        )


def gray_levels(rgb: torch.Tensor, dtype: torch.dtype = torch.int32) -> torch.Tensor:
    """OpenCV grey levels of uint8 RGB, returned in ``dtype`` with no uint8 round trip.

    One fused pass: the three channels are weighted by a batched matrix product in float32
    (exact, see ``_WEIGHTS``) and truncated, which is the floor for these non-negative values.

    Args:
        rgb: uint8 tensor ``(..., 3, H, W)`` with channels in R, G, B order.
        dtype: Integer or floating dtype of the result.

    Returns:
        ``(..., H, W)`` grey levels 0-255 in ``dtype``.
    """
    _check_rgb(rgb)
    height, width = rgb.shape[-2:]
    flat = rgb.reshape(-1, 3, height * width).to(torch.float32)
    weights = _WEIGHTS.to(flat.device).expand(flat.shape[0], 1, 3)
    levels = torch.baddbmm(_HALF.to(flat.device), weights, flat)
    shape = (*rgb.shape[:-3], height, width)
    if dtype.is_floating_point:
        return levels.floor_().reshape(shape).to(dtype)
    return levels.to(dtype).reshape(shape)


def gray_levels_into(rgb: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """OpenCV grey levels of uint8 RGB written into a float32 tensor (no fresh frame buffers).

    The same fused, exact computation as :func:`gray_levels`; the float32 copy of the RGB input
    lives in a reused scratch buffer (:mod:`hvg_eval.ops.scratch`).

    Args:
        rgb: uint8 tensor ``(N, 3, H, W)`` with channels in R, G, B order.
        out: Contiguous float32 ``(N, H, W)``.

    Returns:
        ``out``, holding grey levels 0-255.
    """
    _check_rgb(rgb)
    frames, _, height, width = rgb.shape
    flat = scratch("grayscale.rgb", (frames, 3, height * width), torch.float32, rgb.device)
    flat.view(frames, 3, height, width).copy_(rgb)  # rgb may be a strip of rows (a view)
    weights = _WEIGHTS.to(flat.device).expand(frames, 1, 3)
    torch.baddbmm(_HALF.to(flat.device), weights, flat, out=out.view(frames, 1, height * width))
    return out.floor_()


def rgb_to_gray_opencv(rgb: torch.Tensor) -> torch.Tensor:
    """Grey levels exactly as ``cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)``.

    Args:
        rgb: uint8 tensor ``(..., 3, H, W)`` with channels in R, G, B order.

    Returns:
        uint8 tensor ``(..., H, W)``.
    """
    return gray_levels(rgb, torch.uint8)


def rgb_to_gray_opencv_reference(rgb: np.ndarray) -> np.ndarray:
    """Slow, obviously correct oracle: the same formula per pixel on ``(..., 3)`` uint8 arrays."""
    flat = rgb.reshape(-1, 3).astype(np.int64)
    out = np.empty(flat.shape[0], dtype=np.uint8)
    for index, (red, green, blue) in enumerate(flat):
        out[index] = (_R * red + _G * green + _B * blue + _ROUND) >> _SHIFT
    return out.reshape(rgb.shape[:-1])

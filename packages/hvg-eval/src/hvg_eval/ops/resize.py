"""Resizers used before the feature networks, reproducing each reference exactly.

- ``resize_pil_bicubic_float``: clean-fid's ``make_resizer("PIL", quantize_after=False,
  "bicubic", size)``, used by DisCo's FID-VID and FVD pipelines: each channel becomes a float32
  PIL image (mode ``"F"``), is resized with ``Image.BICUBIC`` and clipped to [0, 255] without
  re-quantisation (research/metrics.md §2.6-2.7).
- ``resize_torch_bilinear``: pytorch-fid's ``F.interpolate(..., "bilinear",
  align_corners=False)`` without antialiasing (identity at the target size).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def resize_pil_bicubic_float(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """PIL bicubic resize of uint8 frames, per channel in float32, clipped to [0, 255].

    Args:
        frames: uint8 (or float 0-255) array ``(N, H, W, 3)``.
        size: Output ``(height, width)``.

    Returns:
        float32 array ``(N, height, width, 3)`` in [0, 255].
    """
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (N, H, W, 3); got {frames.shape}")
    height, width = size
    out = np.empty((frames.shape[0], height, width, 3), dtype=np.float32)
    for index, frame in enumerate(frames):
        for channel in range(3):
            plane = Image.fromarray(frame[:, :, channel].astype(np.float32), mode="F")
            # PIL takes (width, height).
            out[index, :, :, channel] = np.asarray(
                plane.resize((width, height), resample=Image.BICUBIC)
            )
    return np.clip(out, 0.0, 255.0)


def resize_torch_bilinear(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """pytorch-fid's resize: bilinear, ``align_corners=False``, no antialias.

    Args:
        images: float ``(N, C, H, W)``.
        size: Output ``(height, width)``.

    Returns:
        float ``(N, C, height, width)``.
    """
    return F.interpolate(images, size=size, mode="bilinear", align_corners=False)

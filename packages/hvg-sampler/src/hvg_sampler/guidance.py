"""Classifier-free guidance applied after fusion, with SVD's per-frame linear scale."""

from __future__ import annotations

import torch


def linear_frame_guidance(
    num_frames: int, min_scale: float, max_scale: float, *, device=None, dtype=torch.float32
) -> torch.Tensor:
    """SVD's guidance: ``linspace(min_scale, max_scale, T)`` over the *whole* video.

    Spanning all ``T`` frames (not each window) keeps the scale a function of the frame, so
    overlapping windows agree on it (MimicMotion does the same).

    With one frame (``T = 1``: multi-view images, the paper's Table 1) the ramp would give
    ``min_scale`` (1.0 by default), i.e. no guidance at all. SVD ramps from 1.0 because its first
    frame *is* the conditioning image; HVG's views of a single frame are all novel views, so
    ``T = 1`` uses ``max_scale`` for every view (docs/deviations.md).

    Returns:
        ``(1, 1, T, 1, 1, 1)`` guidance scale per frame.
    """
    if num_frames == 1:
        return torch.full((1, 1, 1, 1, 1, 1), float(max_scale), device=device, dtype=dtype)
    scale = torch.linspace(min_scale, max_scale, num_frames, device=device, dtype=dtype)
    return scale.view(1, 1, num_frames, 1, 1, 1)


def apply_guidance(cond: torch.Tensor, uncond: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``uncond + scale · (cond - uncond)`` on fused ``(B, V, T, C, h, w)`` outputs.

    Computed as one ``torch.lerp`` pass (same value up to rounding).
    """
    return torch.lerp(uncond, cond, scale.to(cond.dtype))

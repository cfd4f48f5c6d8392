"""A feature network: per-channel mean and standard deviation of each frame (6 features)."""

from __future__ import annotations

import torch


class ColourMoments(torch.nn.Module):
    """Per-channel mean and standard deviation of frames in [0, 1] (test plugin)."""

    feature_dim = 6

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Features ``(N, 6)`` of frames ``(N, 3, H, W)``."""
        flat = frames.to(torch.float64).flatten(2)
        return torch.cat([flat.mean(-1), flat.std(-1)], dim=-1)

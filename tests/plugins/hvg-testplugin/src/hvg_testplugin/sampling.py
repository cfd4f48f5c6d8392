"""Sampler parts: a window planner, a noise initialisation and a sampler."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from hvg_sampler.samplers.hvg import HVGSampler


class WholeAxisPlanner:
    """One window covering the whole axis, whatever the window size (test plugin)."""

    name = "testplugin-whole-axis"
    cyclic = False

    def __init__(self, axis: str = "frame") -> None:
        self.axis = axis

    def __call__(self, length: int, window: int, overlap: int) -> tuple[tuple[int, ...], ...]:
        """``((0, 1, ..., length - 1),)``."""
        return (tuple(range(length)),)


class ConstantNoise:
    """Initial "noise" that is 0.5 everywhere, so a test can recognise it (test plugin)."""

    name = "testplugin-constant"

    def __call__(
        self,
        shape: Sequence[int],
        *,
        seed: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """``(B, V, T, C, h, w)`` filled with 0.5."""
        return torch.full(tuple(int(size) for size in shape), 0.5, device=device, dtype=dtype)


class FlatHVGSampler(HVGSampler):
    """HVG's two-axis sampler that always blends with flat weights (test plugin)."""

    name = "testplugin-flat-hvg"
    default_fusion_weight = "flat"

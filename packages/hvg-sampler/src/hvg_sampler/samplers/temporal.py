"""Temporal windows only (the MimicMotion / AnimateAnyone family, with all views per window)."""

from __future__ import annotations

from hvg_sampler.plan import FusionPass
from hvg_sampler.samplers.base import WindowedSampler


class TemporalSampler(WindowedSampler):
    """Sliding temporal windows of ``frame_window`` frames × all views; view options unused."""

    name = "temporal"

    def passes(
        self, num_frames: int, num_views: int, step_index: int, sigma: float
    ) -> tuple[FusionPass, ...]:
        """One temporal pass."""
        return (self.time_pass(num_frames, num_views),)
